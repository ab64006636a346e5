"""Forms of the admin area."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import Length, Optional

from lms.forms import BaseForm, strip
from lms.models import Role

ROLE_LABELS = {
    Role.LEARNER: _l("Learner"),
    Role.FACILITATOR: _l("Facilitator"),
    Role.ADMIN: _l("Admin"),
}


class PeopleFilterForm(BaseForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    q = StringField(
        _l("Search by name or email"), validators=[Optional(), Length(max=254)], filters=[strip]
    )


class PersonForm(BaseForm):
    role = SelectField(
        _l("Role"), choices=[SelectChoice(r.value, label) for r, label in ROLE_LABELS.items()]
    )
    submit = SubmitField(_l("Save role"))


class AccountStateForm(BaseForm):
    submit = SubmitField()
