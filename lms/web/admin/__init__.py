"""The admin's pages: people, cohorts, module imports, audit log."""

from lms.web.admin import (
    cohorts,  # noqa: F401  (registers the cohort pages on bp)
    imports,  # noqa: F401  (registers the module import pages on bp)
)
from lms.web.admin.views import bp

__all__ = ["bp"]
