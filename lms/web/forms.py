"""The base form and the fields that several forms share."""

from __future__ import annotations

from functools import cache

from babel import support
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.i18n import messages_path
from wtforms.validators import DataRequired, Email, EqualTo, Length

PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 1024


@cache
def _wtforms_catalog(locale: str) -> support.Translations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class WTFormsTranslations:
    """WTForms' own messages in the request's language, each catalog read once per process.

    Flask-WTF reads and parses the catalog file again on every request with a form.
    """

    def gettext(self, string: str) -> str:
        return _wtforms_catalog(str(get_locale())).ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return _wtforms_catalog(str(get_locale())).ungettext(singular, plural, n)


class BaseForm(FlaskForm):
    """Every form: CSRF-protected by Flask-WTF."""

    class Meta:
        def get_translations(self, form):
            return WTFormsTranslations()


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
