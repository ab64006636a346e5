"""The facilitator's pages: cohorts, reflections inbox, feedback, progress grid."""

from lms.web.facilitator import cohorts, grid, inbox, invitations  # noqa: F401  (they register pages)
from lms.web.facilitator.views import bp

__all__ = ["bp"]
