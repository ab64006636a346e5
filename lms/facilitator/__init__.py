"""The facilitator's pages: cohorts, reflections inbox, feedback, progress grid."""

from lms.facilitator import cohorts, grid, inbox  # noqa: F401  (register their pages on bp)
from lms.facilitator.views import bp

__all__ = ["bp"]
