"""Sharing one's submitted reflection with one's cohorts, and withdrawing it."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from lms import sharing
from lms.web.access import load_own_reflection
from lms.web.database import get_session
from lms.web.forms import require_pressed
from lms.web.learner.views import bp
from lms.web.security import safe_next


def _change_sharing(reflection_id: int, verb: Callable[..., None], said: str):
    """Share or withdraw the learner's own submitted reflection (else 404; no token, 400), say
    so, and go back to where the button was."""
    session = get_session()
    reflection = load_own_reflection(
        session, current_user, reflection_id=reflection_id, submitted=True
    )
    require_pressed()
    verb(session, current_user, reflection)
    session.commit()
    flash(said)
    return redirect(safe_next(request.args.get("next"), url_for("learner.my_cohorts")))


@bp.post("/reflections/<int:reflection_id>/share")
@login_required
def share(reflection_id: int):
    return _change_sharing(
        reflection_id,
        sharing.share,
        gettext("Your answer is shared with your cohort. You can withdraw it at any time."),
    )


@bp.post("/reflections/<int:reflection_id>/withdraw")
@login_required
def withdraw(reflection_id: int):
    return _change_sharing(
        reflection_id, sharing.withdraw, gettext("Your answer is no longer shared.")
    )
