"""Facilitator views; the whole blueprint is for facilitators and admins only."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_login import current_user

from lms.models import Role, User
from lms.pagination import paginate
from lms.visibility import staff_cohorts
from lms.web.access import guard_blueprint
from lms.web.database import get_session
from lms.web.paging import requested_page

bp = Blueprint("facilitator", __name__, url_prefix="/facilitate")
guard_blueprint(bp, Role.FACILITATOR, Role.ADMIN)


@bp.get("/")
def index():
    page = paginate(get_session(), staff_cohorts(current_user), requested_page())
    return render_template(
        "facilitator/index.html", page=page, may_create=may_create_cohorts(current_user)
    )


def may_create_cohorts(user: User) -> bool:
    """Admins always; facilitators where the site allows it (LMS_FACILITATORS_CREATE_COHORTS)."""
    if user.role == Role.ADMIN:
        return True
    return current_app.config["LMS_FACILITATORS_CREATE_COHORTS"]
