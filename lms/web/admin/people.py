"""The people of the site as admins see them: the list, a person's page, role, disabling."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from lms.models import Role
from lms.pagination import paginate
from lms.people import accounts
from lms.web.access import load_user
from lms.web.admin.forms import PeopleFilterForm, PersonForm
from lms.web.admin.views import bp
from lms.web.database import get_session
from lms.web.forms import ButtonForm, require_pressed
from lms.web.paging import requested_page


@bp.get("/people")
def people():
    search = PeopleFilterForm(request.args)
    statement = accounts.listing(search.q.data if search.validate() else None)
    page = paginate(get_session(), statement, requested_page())
    return render_template("admin/people.html", page=page, search=search)


@bp.route("/people/<int:user_id>", methods=["GET", "POST"])
def person(user_id: int):
    session = get_session()
    user = load_user(session, user_id)
    form = PersonForm(role=user.role.value)
    if form.validate_on_submit():
        new_role = Role(form.role.data)
        try:
            changed = accounts.set_role(session, current_user, user, new_role)
        except accounts.OwnAccountError:
            flash(gettext("You cannot remove your own admin role."), "error")
        else:
            if changed:
                session.commit()
                flash(
                    gettext(
                        "%(name)s is now: %(role)s.", name=user.display_name, role=new_role.value
                    )
                )
        return redirect(url_for("admin.person", user_id=user.id))
    return render_template("admin/person.html", user=user, form=form, state_form=ButtonForm())


@bp.post("/people/<int:user_id>/disable")
def disable_person(user_id: int):
    session = get_session()
    user = load_user(session, user_id)
    require_pressed()
    try:
        accounts.disable(session, current_user, user)
    except accounts.OwnAccountError:
        flash(gettext("You cannot disable your own account."), "error")
    else:
        session.commit()
        flash(gettext("%(name)s is disabled and signed out everywhere.", name=user.display_name))
    return redirect(url_for("admin.person", user_id=user.id))


@bp.post("/people/<int:user_id>/enable")
def enable_person(user_id: int):
    session = get_session()
    user = load_user(session, user_id)
    require_pressed()
    accounts.enable(session, current_user, user)
    session.commit()
    flash(gettext("%(name)s can sign in again.", name=user.display_name))
    return redirect(url_for("admin.person", user_id=user.id))
