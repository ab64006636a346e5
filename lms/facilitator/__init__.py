"""The facilitator's pages: cohorts, reflections inbox, feedback, progress grid."""

from lms.facilitator.views import bp

__all__ = ["bp"]
