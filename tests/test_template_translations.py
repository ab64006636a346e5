"""Templates translate through translations looked up once per request (a lesson page has ~80)."""

from __future__ import annotations

from flask import render_template_string

from lms import extensions


def test_a_request_looks_its_translations_up_once(app, monkeypatch):
    calls = []
    real = extensions.get_translations

    def counted():
        calls.append(1)
        return real()

    monkeypatch.setattr(extensions, "get_translations", counted)
    with app.test_request_context("/"):
        page = render_template_string(
            "{{ _('Complete') }} {{ ngettext('%(num)d lesson', '%(num)d lessons', 3) }}"
        )
    assert page == "Complete 3 lessons"
    assert len(calls) == 1
    with app.test_request_context("/"):
        render_template_string("{{ _('Complete') }}")
    assert len(calls) == 2  # a new request looks them up again (its locale may differ)


def test_form_messages_read_wtforms_catalog_once_per_process(app):
    from wtforms import StringField
    from wtforms.validators import InputRequired

    from lms import forms

    class NameForm(forms.BaseForm):
        class Meta:
            csrf = False

        name = StringField(validators=[InputRequired()])

    forms._wtforms_catalog.cache_clear()
    for _ in range(2):
        with app.test_request_context("/", method="POST", data={"name": ""}):
            form = NameForm()
            assert not form.validate()
            assert form.name.errors == ["This field is required."]
    assert forms._wtforms_catalog.cache_info().misses == 1
