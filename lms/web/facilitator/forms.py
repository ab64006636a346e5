"""Forms of the facilitator area (the cohort form, shared with admins, is in lms.web.forms)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField
from wtforms import (
    DateField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
    URLField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from lms import invitations
from lms.calendar import zone_names
from lms.models import ReviewState
from lms.web.forms import BaseForm, strip
from lms.web.ids import parse_id


class AddMembersForm(BaseForm):
    emails = TextAreaField(
        _l("Email addresses"),
        validators=[Optional(), Length(max=200_000)],
        description=_l("One per line, or separated by commas."),
    )
    csv_file = FileField(
        _l("Or a CSV file"),
        validators=[FileAllowed(["csv", "txt"], _l("Upload a .csv or .txt file."))],
        description=_l("A column headed “email”, or the addresses in the first column."),
    )
    submit = SubmitField(_l("Send invitations"))

    addresses: list[str]

    def validate(self, extra_validators=None) -> bool:
        """Valid when every entry typed or in the file is an address, and not too many.

        The addresses are then in ``addresses``, each once.
        """
        if not super().validate(extra_validators):
            return False
        parsed = invitations.parse_emails(
            self.emails.data or "", self.csv_file.data.read() if self.csv_file.data else None
        )
        if parsed.invalid:
            problem = gettext(
                "These are not email addresses: %(list)s", list=", ".join(parsed.invalid)
            )
        elif not parsed.emails:
            problem = gettext("Type some email addresses or upload a file.")
        elif len(parsed.emails) > invitations.MAX_EMAILS_PER_UPLOAD:
            problem = gettext(
                "At most %(n)d addresses at a time.", n=invitations.MAX_EMAILS_PER_UPLOAD
            )
        else:
            self.addresses = parsed.emails
            return True
        self.emails.errors.append(problem)
        return False


def _http_url(_form, field) -> None:
    if field.data:
        parts = urlsplit(field.data)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValidationError(_l("Use a link that starts with https:// or http://."))
        # A link has no spaces or line breaks; a line break would start a new line (a
        # property of its own) in the calendar files members import.
        if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in field.data):
            raise ValidationError(_l("A link has no spaces or line breaks."))


def _known_zone(_form, field) -> None:
    if field.data not in zone_names():
        raise ValidationError(_l("Choose a time zone from the list, such as Europe/Berlin."))


class LiveSessionForm(BaseForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)], filters=[strip])
    day = DateField(_l("Date"), validators=[DataRequired()])
    start = TimeField(_l("Start time"), validators=[DataRequired()])
    time_zone = StringField(
        _l("Time zone"),
        validators=[DataRequired(), Length(max=64), _known_zone],
        filters=[strip],
        description=_l("The time zone of the date and time above, such as Africa/Nairobi."),
        render_kw={"list": "time-zones", "autocomplete": "off"},
    )
    duration_minutes = IntegerField(
        _l("Length in minutes"), default=60, validators=[InputRequired(), NumberRange(5, 1440)]
    )
    join_url = URLField(
        _l("Join link"), validators=[Optional(), Length(max=500), _http_url], filters=[strip]
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=10_000)])
    submit = SubmitField(_l("Save live session"))


REVIEW_STATE_LABELS = {
    ReviewState.NEW: _l("New"),
    ReviewState.REVIEWED: _l("Reviewed"),
    ReviewState.NEEDS_REPLY: _l("Needs reply"),
}


class InboxFilterForm(BaseForm):
    """The inbox's filters, read from the query string; choices are set by the view."""

    class Meta:
        csrf = False  # a GET filter changes nothing

    cohort = SelectField(_l("Cohort"), coerce=parse_id, validate_choice=True)
    module = SelectField(_l("Module"), coerce=parse_id, validate_choice=True)
    lesson = SelectField(_l("Lesson"), coerce=parse_id, validate_choice=True)
    prompt = SelectField(_l("Prompt"), coerce=parse_id, validate_choice=True)
    learner = StringField(
        _l("Learner's name or email"), validators=[Optional(), Length(max=254)], filters=[strip]
    )
    state = SelectField(
        _l("State"),
        choices=[SelectChoice("", _l("Any"))]
        + [SelectChoice(s.value, label) for s, label in REVIEW_STATE_LABELS.items()],
    )


class FeedbackForm(BaseForm):
    body = TextAreaField(
        _l("Your feedback"),
        validators=[DataRequired(), Length(max=20_000)],
        description=_l("Light Markdown: **bold**, *italic*, lists and links."),
    )
    submit = SubmitField(_l("Send feedback"))


class ReviewStateForm(BaseForm):
    state = SelectField(
        _l("Mark as"),
        choices=[SelectChoice(s.value, label) for s, label in REVIEW_STATE_LABELS.items()],
    )
    submit = SubmitField(_l("Save state"))
