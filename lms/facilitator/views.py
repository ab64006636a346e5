"""Facilitator views; the whole blueprint is for facilitators and admins only."""

from __future__ import annotations

from flask import Blueprint, render_template

from lms.access import guard_blueprint
from lms.models import Role

bp = Blueprint("facilitator", __name__, url_prefix="/facilitate")
guard_blueprint(bp, Role.FACILITATOR, Role.ADMIN)


@bp.get("/")
def index():
    return render_template("facilitator/index.html")
