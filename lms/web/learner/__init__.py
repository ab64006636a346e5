"""The learner's pages: home, catalog, lessons, reflections, my work."""

from lms.web.learner import (  # noqa: F401  (they register pages)
    answers,
    cohorts,
    downloads,
    files,
    invitations,
    lesson_form,
    work,
)
from lms.web.learner.views import bp

__all__ = ["bp"]
