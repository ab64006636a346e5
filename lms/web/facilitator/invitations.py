"""A cohort's invitations: the mail that carries each, the list, resending, withdrawing."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user
from sqlalchemy.orm import Session

from lms import invitations, mail
from lms.db import now_utc
from lms.models import Cohort, Invitation
from lms.pagination import paginate
from lms.web.access import load_invitation, load_staff_cohort
from lms.web.database import get_session
from lms.web.facilitator.views import bp
from lms.web.forms import ButtonForm, require_pressed
from lms.web.links import public_url
from lms.web.paging import requested_page


def send_invitations(cohort: Cohort, sent: list[Invitation]) -> None:
    """Mail each invitation its link: one message for every address, account or not."""
    days = current_app.config["LMS_INVITATION_DAYS"]
    for invitation in sent:
        mail.send(
            current_app.config,
            invitation.email,
            gettext("You are invited to the cohort %(name)s", name=cohort.name),
            gettext(
                "%(inviter)s invites you to learn with the cohort %(name)s.\n\n"
                "Sign in with this email address (or create an account with it if you "
                "have none), then open this link to accept or decline:\n%(link)s\n\n"
                "The link works for %(lifetime)s. Until you accept, you are not in the "
                "cohort.\n",
                inviter=current_user.display_name,
                name=cohort.name,
                link=public_url("learner.accept_invitation", token=invitation.token),
                lifetime=ngettext("%(num)d day", "%(num)d days", days),
            ),
        )


# The endpoint keeps its name; the function's would hide the lms.invitations module.
@bp.get("/cohorts/<int:cohort_id>/invitations", endpoint="invitations")
def invitation_list(cohort_id: int):
    session = get_session()
    cohort = load_staff_cohort(session, current_user, cohort_id)
    page = paginate(session, invitations.of_cohort(cohort), requested_page())
    lifetime, now = invitations.lifetime(current_app.config), now_utc()
    return render_template(
        "facilitator/cohort_invitations.html",
        cohort=cohort,
        page=page,
        lifetime=lifetime,
        statuses={i.id: invitations.status(i, lifetime, now) for i in page.items},
        confirm=ButtonForm(),
    )


def _invitation_pressed(cohort_id: int, invitation_id: int) -> tuple[Session, Cohort, Invitation]:
    """An invitation of the staff's cohort (else 404) whose button was pressed (else 400)."""
    session = get_session()
    cohort = load_staff_cohort(session, current_user, cohort_id)
    invitation = load_invitation(session, cohort, invitation_id)
    require_pressed()
    return session, cohort, invitation


@bp.post("/cohorts/<int:cohort_id>/invitations/<int:invitation_id>/resend")
def resend_invitation(cohort_id: int, invitation_id: int):
    session, cohort, invitation = _invitation_pressed(cohort_id, invitation_id)
    invitations.resend(session, current_user, invitation)
    session.commit()
    send_invitations(cohort, [invitation])
    flash(gettext("The invitation is sent again to %(email)s.", email=invitation.email))
    return redirect(url_for("facilitator.invitations", cohort_id=cohort.id))


@bp.post("/cohorts/<int:cohort_id>/invitations/<int:invitation_id>/cancel")
def cancel_invitation(cohort_id: int, invitation_id: int):
    session, cohort, invitation = _invitation_pressed(cohort_id, invitation_id)
    invitations.cancel(session, current_user, invitation)
    session.commit()
    flash(gettext("The invitation to %(email)s is withdrawn.", email=invitation.email))
    return redirect(url_for("facilitator.invitations", cohort_id=cohort.id))
