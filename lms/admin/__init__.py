"""The admin's pages: people, cohorts, module imports, audit log."""

from lms.admin import (
    cohorts,  # noqa: F401  (registers the cohort pages on bp)
    imports,  # noqa: F401  (registers the module import pages on bp)
)
from lms.admin.views import bp

__all__ = ["bp"]
