"""The admin's pages: people, cohorts, module imports, audit log."""

from lms.admin.views import bp

__all__ = ["bp"]
