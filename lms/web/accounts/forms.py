"""Forms of the accounts area."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from lms.web.forms import (
    BaseForm,
    current_password_field,
    email_field,
    new_password_fields,
    strip,
)


class RegisterForm(BaseForm):
    display_name = StringField(
        _l("Your name"),
        validators=[DataRequired(), Length(max=120)],
        filters=[strip],
        description=_l("As your cohort will see it. A first name is enough."),
        render_kw={"autocomplete": "name"},
    )
    email = email_field()
    password, confirm = new_password_fields()
    submit = SubmitField(_l("Create my account"))


class LoginForm(BaseForm):
    email = email_field()
    password = current_password_field(_l("Password"))
    remember = BooleanField(_l("Keep me signed in on this device"))
    submit = SubmitField(_l("Sign in"))


class LogoutForm(BaseForm):
    submit = SubmitField(_l("Sign out"))


class ChangePasswordForm(BaseForm):
    current_password = current_password_field(_l("Current password"))
    password, confirm = new_password_fields()
    submit = SubmitField(_l("Change password"))


class ResetRequestForm(BaseForm):
    email = email_field()
    submit = SubmitField(_l("Send me a reset link"))


class ResetPasswordForm(BaseForm):
    password, confirm = new_password_fields()
    submit = SubmitField(_l("Set new password"))


class DeleteAccountForm(BaseForm):
    password = current_password_field(_l("Your password"))
    understood = BooleanField(
        _l("I understand that my answers, files and progress are deleted for good."),
        validators=[DataRequired()],
    )
    submit = SubmitField(_l("Delete my account"))
