"""Templates translate through translations looked up once per request (a lesson page has ~80)."""

from __future__ import annotations

from flask import render_template_string

from lms.web import template_gettext


def test_a_request_looks_its_translations_up_once(app, monkeypatch):
    calls = []
    real = template_gettext.get_translations

    def counted():
        calls.append(1)
        return real()

    monkeypatch.setattr(template_gettext, "get_translations", counted)
    with app.test_request_context("/"):
        page = render_template_string(
            "{{ _('Complete') }} {{ ngettext('%(num)d lesson', '%(num)d lessons', 3) }}"
        )
    assert page == "Complete 3 lessons"
    assert len(calls) == 1
    with app.test_request_context("/"):
        render_template_string("{{ _('Complete') }}")
    assert len(calls) == 2  # a new request looks them up again (its locale may differ)


def test_template_strings_keep_jinja_newstyle_rules(app):
    """Markup with escaped variables, %-formatting always, {% trans %} blocks, any names."""
    with app.test_request_context("/"):
        page = render_template_string(
            "{{ _('Hello %(name)s', name='<b>') }}|"
            "{% trans who='<i>' %}Hi {{ who }}{% endtrans %}|"
            "{{ ngettext('%(num)d file', '%(num)d files', 2) }}|"
            "{{ _('100%% sure') }}|"
            "{{ pgettext('menu', 'Open') }}|"
            "{{ _('%(string)s and %(context)s', string='a', context='b') }}"
        )
        plain = render_template_string(
            "{% autoescape false %}{{ _('Hello %(name)s', name='<b>') }}{% endautoescape %}"
        )
    assert page == "Hello &lt;b&gt;|Hi &lt;i&gt;|2 files|100% sure|Open|a and b"
    assert plain == "Hello <b>"


def test_form_messages_read_wtforms_catalog_once_per_process(app):
    from wtforms import StringField
    from wtforms.validators import InputRequired

    from lms.web import forms

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
