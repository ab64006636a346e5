"""The admin blueprint, for admins only, and its index; its pages are in the modules named for
their URLs: people, cohorts, imports (/admin/modules…), audit."""

from __future__ import annotations

from flask import Blueprint, render_template

from lms.models import Role
from lms.web.access import guard_blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
guard_blueprint(bp, Role.ADMIN)


@bp.get("/")
def index():
    return render_template("admin/index.html")
