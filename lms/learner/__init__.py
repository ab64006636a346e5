"""The learner's pages: home, catalog, lessons, reflections, my work."""

from lms.learner import cohorts  # noqa: F401  (registers the cohort pages on bp)
from lms.learner.views import bp

__all__ = ["bp"]
