"""The facilitator's pages: cohorts, reflections inbox, feedback, progress grid."""

from lms.facilitator import cohorts  # noqa: F401  (registers the cohort pages on bp)
from lms.facilitator.views import bp

__all__ = ["bp"]
