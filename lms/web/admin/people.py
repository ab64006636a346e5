"""The people of the site as admins see them: the list, a person's page, role, disabling."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select

from lms import audit
from lms.models import Role, User
from lms.pagination import page_number, paginate
from lms.people import credentials
from lms.web.admin.forms import PeopleFilterForm, PersonForm
from lms.web.admin.views import bp
from lms.web.database import get_session
from lms.web.forms import ButtonForm


def _load_user(user_id: int) -> User:
    user = get_session().get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/people")
def people():
    search = PeopleFilterForm(request.args)
    statement = select(User).order_by(User.display_name, User.id)
    if search.validate() and search.q.data:
        statement = statement.where(User.matches(search.q.data))
    page = paginate(get_session(), statement, page_number(request.args.get("page")))
    return render_template("admin/people.html", page=page, search=search)


@bp.route("/people/<int:user_id>", methods=["GET", "POST"])
def person(user_id: int):
    user = _load_user(user_id)
    form = PersonForm(role=user.role.value)
    if form.validate_on_submit():
        new_role = Role(form.role.data)
        if user.id == current_user.id and new_role != Role.ADMIN:
            flash(gettext("You cannot remove your own admin role."), "error")
        elif new_role != user.role:
            audit.record(
                get_session(),
                current_user,
                "user.role_changed",
                user,
                old=user.role.value,
                new=new_role.value,
            )
            user.role = new_role
            get_session().commit()
            flash(
                gettext("%(name)s is now: %(role)s.", name=user.display_name, role=new_role.value)
            )
        return redirect(url_for("admin.person", user_id=user.id))
    return render_template("admin/person.html", user=user, form=form, state_form=ButtonForm())


@bp.post("/people/<int:user_id>/disable")
def disable_person(user_id: int):
    user = _load_user(user_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    if user.id == current_user.id:
        flash(gettext("You cannot disable your own account."), "error")
    else:
        credentials.disable(get_session(), user)
        audit.record(get_session(), current_user, "user.disabled", user)
        get_session().commit()
        flash(gettext("%(name)s is disabled and signed out everywhere.", name=user.display_name))
    return redirect(url_for("admin.person", user_id=user.id))


@bp.post("/people/<int:user_id>/enable")
def enable_person(user_id: int):
    user = _load_user(user_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    credentials.enable(user)
    audit.record(get_session(), current_user, "user.enabled", user)
    get_session().commit()
    flash(gettext("%(name)s can sign in again.", name=user.display_name))
    return redirect(url_for("admin.person", user_id=user.id))
