"""The accounts area: registering, signing in and out, resetting a password, and the
/account/ pages (the password, deleting the account). Each view validates a form, calls
the domain, commits once."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    after_this_request,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required, login_user, logout_user

from lms import learner_files, mail
from lms.db import now_utc
from lms.models import Role, User
from lms.people import credentials, erasure, throttle
from lms.web.accounts.forms import (
    ChangePasswordForm,
    DeleteAccountForm,
    LoginForm,
    LogoutForm,
    RegisterForm,
    ResetPasswordForm,
    ResetRequestForm,
)
from lms.web.database import get_session
from lms.web.links import public_url
from lms.web.request_limits import minutes, use_of
from lms.web.security import FORGET_THIS_BROWSER, sign_in_target
from lms.web.storage import storage

bp = Blueprint("accounts", __name__)


def _home() -> str:
    return url_for("learner.home")


def _has_remember_cookie() -> bool:
    return current_app.config["REMEMBER_COOKIE_NAME"] in request.cookies


def too_many_attempts(wait: int) -> str:
    """What to say while sign-in is blocked for an account or address for ``wait`` seconds."""
    return ngettext(
        "Too many attempts. For your safety, please wait %(num)d minute, or reset your password.",
        "Too many attempts. For your safety, please wait %(num)d minutes, or reset your password.",
        minutes(wait),
    )


def _too_many_attempts(form, template: str, wait: int):
    """The 429 answer while sign-in is blocked for an account or address."""
    message = too_many_attempts(wait)
    return render_template(template, form=form, error=message), 429, {"Retry-After": str(wait)}


def start_session(user: User, remember: bool = False) -> None:
    """Sign in with a fresh session: nothing from before sign-in carries over."""
    session.clear()
    login_user(user, remember=remember)
    user.last_login_at = now_utc()


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(_home())
    form = RegisterForm()
    if form.validate_on_submit():
        wait = use_of(throttle.registration_key(request.remote_addr))
        if wait:
            message = ngettext(
                "Many accounts were made from this network in the last hour. Please wait "
                "%(num)d minute and try again.",
                "Many accounts were made from this network in the last hour. Please wait "
                "%(num)d minutes and try again.",
                minutes(wait),
            )
            page = render_template("accounts/register.html", form=form, error=message)
            return page, 429, {"Retry-After": str(wait)}
        db = get_session()
        try:
            user = credentials.create_user(
                db, form.email.data, form.display_name.data, form.password.data
            )
        except credentials.EmailTakenError:
            form.email.errors.append(
                gettext("This email has an account. Sign in, or reset your password.")
            )
        else:
            start_session(user)
            db.commit()
            flash(gettext("Welcome, %(name)s! Your account is ready.", name=user.display_name))
            return redirect(_home())
    return render_template("accounts/register.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
def login():
    # Never the URL of an action: signing in cannot redo a POST (a 405 would greet them).
    target = sign_in_target(request.args.get("next"), _home())
    if current_user.is_authenticated:
        return redirect(target)
    form = LoginForm()
    if form.validate_on_submit():
        db = get_session()
        attempt = credentials.sign_in(
            db, current_app.config, form.email.data, form.password.data, request.remote_addr
        )
        if attempt.retry_after:
            return _too_many_attempts(form, "accounts/login.html", attempt.retry_after)
        if attempt.user is not None:
            start_session(attempt.user, remember=form.remember.data)
            db.commit()
            return redirect(target)
        db.commit()  # the failure is counted
        return render_template(
            "accounts/login.html",
            form=form,
            error=gettext("That email and password do not match an account we can sign in."),
        ), 200
    return render_template("accounts/login.html", form=form, error=None)


@bp.post("/logout")
@login_required
def logout():
    """Sign out everywhere: the session token changes, so every device's cookie dies."""
    form = LogoutForm()
    if not form.validate_on_submit():
        abort(400)
    credentials.end_sessions(get_session(), current_user)
    get_session().commit()
    # Cleared first: logout_user() leaves the note that deletes the remember cookie.
    session.clear()
    logout_user()
    flash(gettext("You are signed out on every device."))
    return redirect(url_for("accounts.login")), FORGET_THIS_BROWSER


@bp.route("/reset", methods=["GET", "POST"])
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        user = credentials.find_user(get_session(), form.email.data)
        if user is not None and user.is_active:
            link = public_url(
                "accounts.reset_password",
                token=credentials.make_reset_token(current_app.config, user),
            )
            _send_after_response(user.email, link)
        # The same answer whether or not the email has an account.
        flash(
            gettext(
                "If an account uses that email, we have sent it a link to set a new password. "
                "The link works once, for %(minutes)s.",
                minutes=_link_lifetime(),
            )
        )
        return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_request.html", form=form)


def _link_lifetime() -> str:
    """How long a reset link works, in words ("60 minutes")."""
    minutes = max(1, current_app.config["LMS_PASSWORD_RESET_MAX_AGE"] // 60)
    return ngettext("%(num)d minute", "%(num)d minutes", minutes)


def _send_after_response(to: str, link: str) -> None:
    """Send the reset mail once the response is out, so its timing reveals nothing."""
    config = dict(current_app.config)
    subject = gettext("Set a new password")
    body = gettext(
        "Someone asked to set a new password for your account.\n\n"
        "If it was you, open this link within %(minutes)s:\n%(link)s\n\n"
        "If it was not you, ignore this message: your password stays as it is.",
        link=link,
        minutes=_link_lifetime(),
    )

    @after_this_request
    def send_when_closed(response):
        response.call_on_close(lambda: mail.send(config, to, subject, body))
        return response


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    db = get_session()
    user = credentials.user_for_reset_token(current_app.config, db, token)
    if user is None:
        return render_template("accounts/reset_invalid.html"), 404
    form = ResetPasswordForm()
    if form.validate_on_submit():
        credentials.set_password(db, user, form.password.data)
        throttle.clear(db, [throttle.account_key(user.email)])
        start_session(user)
        db.commit()
        flash(gettext("Your new password is set and you are signed in."))
        return redirect(_home())
    return render_template("accounts/reset_password.html", form=form)


# --- The account's own pages: /account/… ------------------------------------------


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        db = get_session()
        user = current_user._get_current_object()
        # Guessing the current password here counts like guessing it at sign-in.
        attempt = credentials.sign_in(
            db, current_app.config, user.email, form.current_password.data, request.remote_addr
        )
        if attempt.retry_after:
            return _too_many_attempts(form, "accounts/change_password.html", attempt.retry_after)
        if attempt.user is None:
            db.commit()  # the failure is counted
            form.current_password.errors.append(gettext("That is not your current password."))
        else:
            credentials.set_password(db, user, form.password.data)
            # This device stays signed in, and stays remembered if it was.
            start_session(user, remember=_has_remember_cookie())
            db.commit()
            flash(gettext("Your password is changed. Other devices are signed out."))
            return redirect(_home())
    return render_template("accounts/change_password.html", form=form, error=None)


@bp.route("/account/delete", methods=["GET", "POST"])
@login_required
def delete_account():
    form = DeleteAccountForm()
    is_admin = current_user.role == Role.ADMIN
    if not is_admin and form.validate_on_submit():
        if not credentials.check_password(current_user, form.password.data):
            form.password.errors.append(gettext("That is not your password."))
        else:
            db = get_session()
            user = current_user._get_current_object()
            folder = erasure.erase_account(db, user, storage())
            db.commit()
            learner_files.remove_paths([folder])
            logout_user()
            session.clear()
            flash(gettext("Your account and everything in it are deleted. Take care."))
            return redirect(url_for("learner.home")), FORGET_THIS_BROWSER
    return render_template("accounts/delete_account.html", form=form, is_admin=is_admin)
