"""Forms of the admin area."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, DateField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import Length, Optional, ValidationError

from lms.audit import EventFilter
from lms.models import Role
from lms.web.forms import BaseForm, strip

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


class AuditFilterForm(BaseForm):
    class Meta:
        csrf = False  # a GET filter form changes nothing

    action = StringField(
        _l("Action"),
        validators=[Optional(), Length(max=64)],
        filters=[strip],
        description=_l(
            'Exact, such as "user.role_changed", or a family ending in a dot: "cohort."'
        ),
    )
    actor = StringField(
        _l("Who (name or email)"), validators=[Optional(), Length(max=254)], filters=[strip]
    )
    since = DateField(_l("From (UTC)"), validators=[Optional()])
    until = DateField(_l("Until (UTC)"), validators=[Optional()])

    def validate_until(self, field) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("The end date comes before the start date."))

    def event_filter(self) -> EventFilter:
        """The filter this form describes; fields with errors match everything."""
        return EventFilter(
            action="" if self.action.errors else self.action.data or "",
            actor="" if self.actor.errors else self.actor.data or "",
            since=None if self.since.errors else self.since.data,
            until=None if self.until.errors else self.until.data,
        )


class PersonForm(BaseForm):
    role = SelectField(
        _l("Role"), choices=[SelectChoice(r.value, label) for r, label in ROLE_LABELS.items()]
    )
    submit = SubmitField(_l("Save role"))


class PackageUploadForm(BaseForm):
    package = FileField(
        _l("Module package (.zip)"),
        validators=[FileRequired(), FileAllowed(["zip"], _l("Choose a .zip file."))],
        description=_l(
            "A zip of the module's folder: module.yaml, lessons/, attachments/, media/."
        ),
    )
    submit = SubmitField(_l("Upload and preview"))


class ConfirmImportForm(BaseForm):
    force = BooleanField(_l("Import it anyway (this version, or an older one)"))
    submit = SubmitField(_l("Import"))


class CancelImportForm(BaseForm):
    submit = SubmitField(_l("Cancel"))
