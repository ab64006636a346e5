"""The learner's pages: home, catalog, lessons, reflections, my work."""

from lms.learner import answers, cohorts, downloads, files, work  # noqa: F401  (they register pages)
from lms.learner.views import bp

__all__ = ["bp"]
