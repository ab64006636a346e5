"""The learner's pages: home, catalog, lessons, reflections, my work."""

from lms.learner.views import bp

__all__ = ["bp"]
