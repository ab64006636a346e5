"""The base form and the fields that several forms share."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, EqualTo, Length

PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 1024


class BaseForm(FlaskForm):
    """Every form: CSRF-protected by Flask-WTF."""


def strip(value):
    """A field filter that drops surrounding white space from typed text."""
    return value.strip() if isinstance(value, str) else value


def lower_strip(value):
    """A field filter for email addresses: compared without case or spaces."""
    return value.strip().lower() if isinstance(value, str) else value


def email_field(label=None) -> EmailField:
    """An email field, required and checked for shape (not for deliverability)."""
    return EmailField(
        label or _l("Email"),
        validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)],
        filters=[lower_strip],
        render_kw={"autocomplete": "email"},
    )


def new_password_fields() -> tuple[PasswordField, PasswordField]:
    """A new password and its confirmation."""
    password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(),
            Length(
                min=PASSWORD_MIN_LENGTH,
                max=PASSWORD_MAX_LENGTH,
                message=_l("Use at least %(n)d characters.", n=PASSWORD_MIN_LENGTH),
            ),
        ],
        description=_l(
            "At least %(n)d characters. A short sentence is easy to remember.",
            n=PASSWORD_MIN_LENGTH,
        ),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )
    return password, confirm
