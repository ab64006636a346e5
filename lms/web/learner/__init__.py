"""The learner's pages: home, catalog, lessons, reflections, my work."""

from lms.web.learner import (  # noqa: F401  (they register pages)
    attachments,
    cohorts,
    files,
    gallery,
    invitations,
    lesson_form,
    lessons,
    modules,
    my_work,
    reflections,
    sharing,
)
from lms.web.learner.views import bp

__all__ = ["bp"]
