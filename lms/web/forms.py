"""The base form, the fields that several forms share, and the forms of several areas."""

from __future__ import annotations

from functools import cache

from babel import support
from flask import abort
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    PasswordField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    ValidationError,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.i18n import messages_path
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from lms import cohorts

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


def current_password_field(label) -> PasswordField:
    """The account's password as it is now (to sign in, or to confirm a change)."""
    return PasswordField(
        label,
        validators=[DataRequired(), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
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


class CheckboxListField(SelectMultipleField):
    """A multiple choice shown as check boxes: easier than a list box on a phone."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ButtonForm(BaseForm):
    """A button that changes something (remove, hide, share…): only its CSRF token matters."""

    submit = SubmitField()


def require_pressed(form_class: type[BaseForm] = ButtonForm) -> None:
    """Answer 400 unless a button's POST validates (its CSRF token): the views' first check."""
    if not form_class().validate_on_submit():
        abort(400)


class CohortForm(BaseForm):
    """A cohort as admins, and facilitators where the site allows it, start and edit it."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)], filters=[strip])
    description = TextAreaField(
        _l("Description"), validators=[Optional(), Length(max=5000)], filters=[strip]
    )
    starts_on = DateField(_l("Starts on"), validators=[Optional()])
    ends_on = DateField(_l("Ends on"), validators=[Optional()])
    modules = CheckboxListField(_l("Modules"), coerce=int, validate_choice=True)
    facilitators = CheckboxListField(_l("Facilitators"), coerce=int, validate_choice=True)
    # No description: the shared field macro shows none for check boxes.
    closed = BooleanField(_l("Closed: the join code and invitations stop working (members stay)"))
    submit = SubmitField(_l("Save cohort"))

    @classmethod
    def with_choices(cls, session: Session, **kwargs) -> CohortForm:
        """The form with today's modules and staff as its choices."""
        form = cls(**kwargs)
        form.modules.choices = [
            SelectChoice(m.id, m.title) for m in cohorts.teachable_modules(session)
        ]
        form.facilitators.choices = [
            SelectChoice(u.id, f"{u.display_name} <{u.email}>")
            for u in cohorts.possible_facilitators(session)
        ]
        return form

    def validate_ends_on(self, field) -> None:
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_l("The cohort cannot end before it starts."))

    def details(self) -> cohorts.CohortDetails:
        """What the form says, for lms.cohorts."""
        return cohorts.CohortDetails(
            name=self.name.data,
            description=self.description.data or "",
            starts_on=self.starts_on.data,
            ends_on=self.ends_on.data,
            module_ids=self.modules.data or [],
            facilitator_ids=self.facilitators.data or [],
            closed=bool(self.closed.data),
        )
