"""Forms of the learner's pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileRequired, MultipleFileField
from wtforms import (
    IntegerField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, StopValidation
from wtforms.widgets import HiddenInput

from lms import filetypes, sharing
from lms.models import Prompt
from lms.reflections import MAX_REFLECTION_CHARS
from lms.web.forms import BaseForm, strip
from lms.web.ids import MAX_ID

# Offered by the file picker (phones then show what fits); the server checks content.
ACCEPTED_EXTENSIONS = ",".join(
    ext for name in sorted(filetypes.LEARNER_FILE_TYPES) for ext in filetypes.TYPES[name].extensions
)


class EnrollForm(BaseForm):
    submit = SubmitField(_l("Enroll"))


class CompleteForm(BaseForm):
    submit = SubmitField(_l("Mark complete"))


def sent_as_text(_form, field) -> None:
    """Refuse a post that carries no text for the box: saving it as "" would empty the reflection.

    An empty string that is sent is the learner clearing the box, and saves.
    """
    if not field.raw_data or not isinstance(field.raw_data[0], str):
        raise StopValidation(_l("The text of this answer did not arrive."))


def sent(_form, field) -> None:
    """Refuse a field that did not come with the post (or came empty, or as JSON null)."""
    if not field.raw_data or field.raw_data[0] in ("", None):
        raise StopValidation(_l("This field is required."))


class ReflectionForm(BaseForm):
    """A learner's reflection to one prompt; several on a page, told apart by their prefix.

    The app's CSRF protection checks every POST (the token comes in the X-CSRFToken
    header or any field whose name ends in csrf_token): a check of the form's own would
    verify the same token twice on every autosave, and sign one it never shows.
    Templates that render this form write the token out.
    """

    class Meta:
        csrf = False

    body = TextAreaField(
        validators=[sent_as_text, Length(max=MAX_REFLECTION_CHARS)],
        render_kw={"rows": 8, "spellcheck": "true"},
    )
    # The revision the page showed: a save based on an older one is a conflict. Sent as
    # text by a form, as a number in JSON (where InputRequired would refuse 0).
    revision = IntegerField(widget=HiddenInput(), validators=[sent, NumberRange(min=0, max=MAX_ID)])
    save = SubmitField(_l("Save draft"))
    submit = SubmitField(_l("Submit answer"))
    combine = SubmitField(_l("Keep both texts, one after the other"))

    @classmethod
    def for_prompt(cls, prompt: Prompt, **kwargs) -> ReflectionForm:
        """The form of this prompt, labelled with its question."""
        form = cls(prefix=f"p{prompt.id}", **kwargs)
        form.body.label.text = prompt.text
        return form


class UploadForm(BaseForm):
    files = MultipleFileField(
        _l("Attach files to your answer"),
        validators=[FileRequired(_l("Choose a file to attach."))],
        render_kw={"accept": ACCEPTED_EXTENSIONS},
    )
    submit = SubmitField(_l("Upload"))

    @classmethod
    def for_prompt(cls, prompt: Prompt, **kwargs) -> UploadForm:
        return cls(prefix=f"u{prompt.id}", **kwargs)


class DeleteFileForm(BaseForm):
    submit = SubmitField(_l("Remove"))


class JoinForm(BaseForm):
    code = StringField(
        _l("Join code"), validators=[DataRequired(), Length(max=64)], filters=[strip]
    )
    submit = SubmitField(_l("Join"))


class CalendarLinkForm(BaseForm):
    submit = SubmitField(_l("Get a new calendar link"))


class ReplyForm(BaseForm):
    body = TextAreaField(
        _l("Your reply"),
        validators=[DataRequired(), Length(max=sharing.REPLY_MAX_LENGTH)],
        description=_l("A few kind, useful words. Light Markdown works."),
    )
    submit = SubmitField(_l("Reply"))


class AcceptForm(BaseForm):
    submit = SubmitField(_l("Accept and join"))


class DeclineForm(BaseForm):
    submit = SubmitField(_l("Decline"))
