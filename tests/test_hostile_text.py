"""Hostile text everywhere: every payload of the corpus, through every form, comes back inert.

One site is filled through the real forms with every payload at once (tests/hostile.py),
then every page that shows the text is read as a browser would read it.
"""

from __future__ import annotations

from email import message_from_bytes, policy

from lms.mail import outbox_dir
from lms.models import Role
from tests.cohort_data import quick_users


def test_a_name_with_line_breaks_stays_out_of_mail_headers(app, db, auth):
    admin, facilitator, learner = quick_users(db, Role.ADMIN, Role.FACILITATOR, Role.LEARNER)
    auth.login(admin.email)
    response = auth.post(
        "/admin/cohorts/new",
        {"name": "Spring\r\nBcc: everyone@example.org", "facilitators": [facilitator.id]},
    )
    cohort_id = response.headers["Location"].rsplit("/", 1)[1]
    response = auth.post(f"/facilitate/cohorts/{cohort_id}/members/add", {"emails": learner.email})
    assert response.status_code == 302
    [mail] = [
        message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in outbox_dir(app.config).glob("*.eml")
    ]
    assert mail["Subject"] == "You are now in the cohort Spring Bcc: everyone@example.org"
    assert mail["Bcc"] is None
