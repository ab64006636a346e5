"""Sharing one's submitted answer with one's cohorts, and withdrawing it."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy.orm import Session

from lms import sharing
from lms.models import Reflection
from lms.web.access import load_own_reflection
from lms.web.database import get_session
from lms.web.forms import ButtonForm
from lms.web.learner.views import bp
from lms.web.security import safe_next


def _own_submitted(reflection_id: int) -> tuple[Session, Reflection]:
    """The learner's own submitted reflection, its button checked; else 404 or 400."""
    session = get_session()
    reflection = load_own_reflection(
        session, current_user, reflection_id=reflection_id, submitted=True
    )
    if not ButtonForm().validate_on_submit():
        abort(400)
    return session, reflection


def _after_sharing() -> str:
    return safe_next(request.args.get("next"), url_for("learner.my_cohorts"))


@bp.post("/reflections/<int:reflection_id>/share")
@login_required
def share(reflection_id: int):
    session, reflection = _own_submitted(reflection_id)
    sharing.share(session, current_user, reflection)
    session.commit()
    flash(gettext("Your answer is shared with your cohort. You can withdraw it at any time."))
    return redirect(_after_sharing())


@bp.post("/reflections/<int:reflection_id>/withdraw")
@login_required
def withdraw(reflection_id: int):
    session, reflection = _own_submitted(reflection_id)
    sharing.withdraw(session, current_user, reflection)
    session.commit()
    flash(gettext("Your answer is no longer shared."))
    return redirect(_after_sharing())
