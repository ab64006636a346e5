"""The admin's pages: people, cohorts, module imports, audit log."""

from lms.web.admin import (  # noqa: F401  (they register pages)
    audit,
    cohorts,
    imports,
    people,
)
from lms.web.admin.views import bp

__all__ = ["bp"]
