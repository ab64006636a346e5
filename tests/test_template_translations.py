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
