"""The factories under the names tests/test_backup.py still calls them by.

Everything here is tests/factories.py's: test_backup.py is being split in another branch,
and this file goes once it imports from tests.factories. Nothing else imports it.
"""

from __future__ import annotations

from tests.factories import make_cohort
from tests.factories import make_users as quick_users

__all__ = ["make_cohort", "quick_users"]
