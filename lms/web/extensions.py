"""Flask extensions: sign-in (Flask-Login), CSRF (Flask-WTF) and translations (Flask-Babel).

The templates' translation functions and filters are installed with them.
"""

from __future__ import annotations

from flask import Flask, current_app, flash, g, jsonify, redirect, request, session, url_for
from flask_babel import Babel, get_locale, gettext, lazy_gettext
from flask_login import LoginManager, login_url
from flask_wtf.csrf import CSRFProtect, generate_csrf
from sqlalchemy import bindparam, select

from lms.models import User
from lms.web import template_filters, template_gettext
from lms.web.database import SAFE_METHODS, get_session
from lms.web.errors import wants_json
from lms.web.security import page_of_this_form

login_manager = LoginManager()
login_manager.login_view = "accounts.login"
login_manager.login_message = lazy_gettext("Please sign in to see this page.")
login_manager.login_message_category = "info"
# Our sessions are revoked by rotating User.session_token, which both the session
# and the remember cookie carry. Flask-Login's session protection would add nothing:
# "basic" only marks a session not fresh when the address or browser changes (no view
# asks for a fresh sign-in), and "strong" signs out learners whose address changes
# between mobile networks. Off, it no longer hashes the address on every request nor
# keeps that hash in the session cookie.
login_manager.session_protection = None

csrf = CSRFProtect()
babel = Babel()


# Built once: every request runs it, and building a statement costs about as much as
# running it (prepared statements below are built at import for the same reason).
_USER_BY_SESSION_TOKEN = select(User).where(User.session_token == bindparam("token"))


@login_manager.user_loader
def load_user(session_token: str) -> User | None:
    """The active user whose current session token this is; None ends the session."""
    user = get_session().scalar(_USER_BY_SESSION_TOKEN, {"token": session_token})
    if user is None or not user.is_active:
        return None
    return user


@login_manager.unauthorized_handler
def sign_in_first():
    """Not signed in (or no longer): 401 for the page's scripts, else the sign-in page.

    A script gets JSON it can turn into words, not a redirect it would follow to a page.
    Sign-in comes back to a page: for a POST, the page its form was on, since signing
    in cannot send the form again (it would land on 405 Method Not Allowed).
    """
    if wants_json():
        message = gettext("You are signed out, so this was not saved. Sign in, then try again.")
        return jsonify(error=message, sign_in=url_for("accounts.login")), 401
    flash(login_manager.login_message, login_manager.login_message_category)
    back = request.url if request.method in SAFE_METHODS else page_of_this_form()
    return redirect(login_url(login_manager.login_view, next_url=back))


def csrf_token() -> str:
    """This session's CSRF token, signed once and kept in the session with what it signs.

    Flask-WTF signs the session's secret again on every request that shows a form (the
    signature carries a time stamp, which no limit checks here: WTF_CSRF_TIME_LIMIT is
    None); the signature of the same secret is as good on every page of the session.
    A new session (sign-in, sign-out) has a new secret, and so a new token.
    """
    secret = session.get("csrf_token")
    kept = session.get(_SIGNED_CSRF)
    if secret is not None and kept and kept[0] == secret:
        token = kept[1]
    else:
        # Signed for a secret this session no longer has (it began during this request).
        g.pop("csrf_token", None)
        token = generate_csrf()
        session[_SIGNED_CSRF] = [session["csrf_token"], token]
    g.csrf_token = token  # where Flask-WTF's generate_csrf() looks first
    return token


_SIGNED_CSRF = "csrf_signed"


def select_locale() -> str | None:
    """The best of the configured languages for this browser."""
    return request.accept_languages.best_match(current_app.config["LMS_LANGUAGES"])


def init_app(app: Flask) -> None:
    """Initialise the extensions on the app."""
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    template_gettext.init_app(app)
    template_filters.init_app(app)
    app.jinja_env.globals["get_locale"] = get_locale
    # In place of Flask-WTF's, which it installs both ways (the context wins).
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.context_processor(lambda: {"csrf_token": csrf_token})
