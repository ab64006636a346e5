"""Who may see what: one guard per audience, and load-or-404 helpers for ids in URLs."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user, login_required

from lms.models import Role


def guard_blueprint(bp: Blueprint, *roles: Role) -> None:
    """Require a signed-in user with one of the roles for every view of the blueprint."""

    @bp.before_request
    @login_required
    def check_role() -> None:
        if current_user.role not in roles:
            # 404, not 403: the audience's pages are not advertised to others.
            abort(404)
