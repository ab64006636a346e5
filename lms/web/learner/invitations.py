"""An invitation as the invited person sees it: what joining means, Accept and Decline."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from lms import invitations
from lms.models import Invitation
from lms.web.database import get_session
from lms.web.forms import require_pressed
from lms.web.learner.forms import AcceptForm, DeclineForm
from lms.web.learner.views import bp


def _lifetime() -> timedelta:
    """How long invitations work on this site."""
    return invitations.lifetime(current_app.config)


def _answerable(token: str) -> tuple[Invitation | None, tuple | None]:
    """The invitation the current user may answer, or the page saying why they may not.

    Someone signed in with another address hears which address it is for, and nothing
    of its cohort (403: they hold the link, so the answer reveals nothing new to them).
    Every other refusal is the invited person's own: 404, with the reason.
    """
    invitation = invitations.find(get_session(), token)
    problem = invitations.refusal(invitation, current_user, _lifetime()) if invitation else None
    if invitation is not None and problem is None:
        return invitation, None
    page = render_template(
        "learner/cohort_invitation.html",
        invitation=invitation,
        problem=problem,
        expired_at=invitation and invitations.expires_at(invitation, _lifetime()),
    )
    return None, (page, 403 if problem == invitations.Refusal.OTHER_ADDRESS else 404)


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@login_required
def accept_invitation(token: str):
    invitation, refused = _answerable(token)
    if refused:
        return refused
    form = AcceptForm()
    if form.validate_on_submit():
        cohort = invitations.accept(get_session(), current_user, invitation, _lifetime())
        get_session().commit()
        flash(gettext("Welcome to %(name)s!", name=cohort.name))
        return redirect(url_for("learner.cohort", cohort_id=cohort.id))
    return render_template(
        "learner/cohort_invitation.html",
        invitation=invitation,
        problem=None,
        expires_at=invitations.expires_at(invitation, _lifetime()),
        form=form,
        decline_form=DeclineForm(),
    )


@bp.post("/invitations/<token>/decline")
@login_required
def decline_invitation(token: str):
    invitation, refused = _answerable(token)
    if refused:
        return refused
    require_pressed(DeclineForm)
    invitations.decline(get_session(), current_user, invitation, _lifetime())
    get_session().commit()
    flash(
        gettext(
            "You declined the invitation to %(name)s. Its facilitators see that you "
            "declined; they may invite you again.",
            name=invitation.cohort.name,
        )
    )
    return redirect(url_for("learner.my_cohorts"))
