"""The learner's pages: home, catalog, lessons, reflections, my work."""

# Each adds its pages to the blueprint defined in views: cohorts, answers and learner
# files, downloads, my work.
from lms.learner import answers, cohorts, downloads, work  # noqa: F401
from lms.learner.views import bp

__all__ = ["bp"]
