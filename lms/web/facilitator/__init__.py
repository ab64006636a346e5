"""The facilitator's pages: cohorts, reflections inbox, feedback, progress grid."""

from lms.web.facilitator import (  # noqa: F401  (they register pages)
    cohorts,
    gallery,
    invitations,
    live_sessions,
    members,
    progress,
    reflections,
)
from lms.web.facilitator.views import bp

__all__ = ["bp"]
