"""The reflections inbox: what a facilitator sees, filters, feedback, review states, budgets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from lms import reflections, review
from lms.models import (
    AuditEvent,
    Feedback,
    LearnerFile,
    Membership,
    MembershipRole,
    Reflection,
    ReflectionRevision,
    ReflectionState,
    ReviewState,
    Role,
    User,
)
from tests.factories import T0, make_cohort, make_module, make_reflection, make_users


@pytest.fixture
def world(db):
    """Cohort A works through one module, cohort B through it and another."""
    fa, la1, la2, fb, lb, admin = make_users(
        db, Role.FACILITATOR, Role.LEARNER, Role.LEARNER, Role.FACILITATOR, Role.LEARNER, Role.ADMIN
    )
    la1.display_name, la2.display_name = "Amina", "Bruno"
    shared = make_module(db, slug="listening", title="Listening", lessons=2)
    other = make_module(db, slug="mediation", title="Mediation", lessons=1)
    cohort_a = make_cohort(db, "A", [shared], [fa], [la1, la2])
    cohort_b = make_cohort(db, "B", [shared, other], [fb], [lb, la1])
    p1, p2 = shared.lessons[0].prompts[0], shared.lessons[1].prompts[0]
    answers = {
        "a1_p1": make_reflection(db, la1, p1, "Amina on one", minutes=1),
        "a2_p1": make_reflection(db, la2, p1, "Bruno on one", minutes=2),
        "a1_p2": make_reflection(db, la1, p2, "Amina on two", minutes=3),
        "b_p1": make_reflection(db, lb, p1, "B learner on one", minutes=4),
        # Amina's answer in a module only cohort B works through: not A's business.
        "a1_other": make_reflection(
            db, la1, other.lessons[0].prompts[0], "Amina elsewhere", minutes=5
        ),
    }
    draft = Reflection(user_id=la2.id, prompt_id=p2.id, current_body="Bruno's draft")
    db.add(draft)
    db.commit()
    ids = {
        "cohort_a": cohort_a.id,
        "cohort_b": cohort_b.id,
        "shared": shared.id,
        "lesson2": shared.lessons[1].id,
        "p1": p1.id,
        "draft": draft.id,
    }
    return {"fa": fa, "fb": fb, "la1": la1, "lb": lb, "admin": admin}, answers, ids


def _listed(auth, query=""):
    page = auth.client.get(f"/facilitate/reflections{query}").get_data(as_text=True)
    return page


def _bodies_in_order(page, answers):
    found = [(page.find(f'/facilitate/reflections/{r.id}"'), key) for key, r in answers.items()]
    return [key for position, key in sorted(found) if position >= 0]


def test_facilitator_sees_submitted_answers_of_own_cohort_newest_first(world, auth):
    people, answers, _ids = world
    auth.login(people["fa"].email)
    assert _bodies_in_order(_listed(auth), answers) == ["a1_p2", "a2_p1", "a1_p1"]


def test_a_learner_in_two_cohorts_is_seen_by_each_cohort_for_its_modules(world, auth):
    people, answers, _ids = world
    auth.login(people["fb"].email)
    assert _bodies_in_order(_listed(auth), answers) == ["a1_other", "b_p1", "a1_p2", "a1_p1"]


def test_admin_sees_every_submitted_answer(world, auth):
    people, answers, _ids = world
    auth.login(people["admin"].email)
    assert len(_bodies_in_order(_listed(auth), answers)) == 5


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?cohort={cohort_a}", ["a1_p2", "a2_p1", "a1_p1"]),
        ("?cohort={cohort_b}", ["a1_other", "b_p1", "a1_p2", "a1_p1"]),
        ("?module={shared}", ["b_p1", "a1_p2", "a2_p1", "a1_p1"]),
        ("?module={shared}&lesson={lesson2}", ["a1_p2"]),
        ("?module={shared}&lesson={lesson2}&prompt={p1}", ["a1_p2"]),  # stale prompt: dropped
        ("?module={shared}&lesson=999999", ["b_p1", "a1_p2", "a2_p1", "a1_p1"]),
        ("?learner=amina", ["a1_other", "a1_p2", "a1_p1"]),
        ("?learner=AMI&module={shared}", ["a1_p2", "a1_p1"]),
        ("?state=needs_reply", ["a1_p1"]),
        ("?state=new", ["a1_other", "b_p1", "a1_p2", "a2_p1"]),
        ("?cohort=nonsense&page=x", ["a1_other", "b_p1", "a1_p2", "a2_p1", "a1_p1"]),
    ],
)
def test_filters(world, auth, db, query, expected):
    people, answers, ids = world
    answers["a1_p1"].review_state = ReviewState.NEEDS_REPLY
    db.commit()
    auth.login(people["admin"].email)
    assert _bodies_in_order(_listed(auth, query.format(**ids)), answers) == expected


def test_a_foreign_cohort_in_the_filter_shows_nothing_of_it(world, auth):
    people, answers, ids = world
    auth.login(people["fa"].email)
    page = _listed(auth, f"?cohort={ids['cohort_b']}")
    # Not a choice for this facilitator: the filter is dropped, their own inbox shows.
    assert _bodies_in_order(page, answers) == ["a1_p2", "a2_p1", "a1_p1"]


def test_open_an_answer_give_feedback_and_mark_it(world, auth, client, db):
    people, answers, _ids = world
    reflection = answers["a1_p1"]
    db.add(
        ReflectionRevision(
            reflection_id=reflection.id,
            number=2,
            body="Amina's second thought",
            submitted=True,
            prompt_text="?",
        )
    )
    db.commit()
    auth.login(people["fa"].email)
    url = f"/facilitate/reflections/{reflection.id}"
    page = client.get(url).get_data(as_text=True)
    assert "Amina on one" in page
    assert "Amina&#39;s second thought" in page  # the history
    assert "Progress in Listening" in page

    response = auth.post(
        f"{url}/feedback", {"body": "Thank you, **Amina**.\n\n<script>alert(1)</script>"}
    )
    assert response.status_code == 302
    feedback = db.scalar(select(Feedback))
    assert feedback.author_id == people["fa"].id
    assert "<strong>Amina</strong>" in feedback.body_html
    assert "<script" not in feedback.body_html
    assert db.scalar(select(Reflection.review_state).where(Reflection.id == reflection.id)) == (
        ReviewState.REVIEWED
    )
    db.commit()
    page = client.get(url).get_data(as_text=True)
    assert "<strong>Amina</strong>" in page

    assert auth.post(f"{url}/state", {"state": "needs_reply"}).status_code == 302
    actions = db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["feedback.given", "reflection.review_state"]
    assert db.scalar(select(Reflection.review_state).where(Reflection.id == reflection.id)) == (
        ReviewState.NEEDS_REPLY
    )
    db.commit()
    # The state, by its label, on the answer's page and on its row of the inbox.
    assert "· Needs reply</p>" in client.get(url).get_data(as_text=True)
    listed = _listed(auth)
    row = listed[listed.index(f'href="{url}"') :].partition("</tr>")[0]
    assert "<td>Needs reply</td>" in row


def test_changes_drafted_on_a_submitted_answer_stay_the_learners_own(world, auth, client, db):
    people, answers, _ids = world
    reflection = answers["a1_p1"]
    reflections.save_draft(db, people["la1"], reflection.prompt, "A private draft", based_on=1)
    db.commit()

    auth.login(people["fa"].email)
    url = f"/facilitate/reflections/{reflection.id}"
    assert f'/facilitate/reflections/{reflection.id}"' in _listed(auth)  # still in the inbox
    page = client.get(url).get_data(as_text=True)
    assert "Amina on one" in page
    assert "A private draft" not in page  # neither as the answer nor in the history
    assert auth.post(f"{url}/feedback", {"body": "Thank you."}).status_code == 302
    assert db.scalar(select(Feedback.revision_number)) == 1  # the version the facilitator read

    reflections.submit(db, people["la1"], reflection.prompt, "Submitted again", based_on=2)
    db.commit()
    page = client.get(url).get_data(as_text=True)
    assert "Submitted again" in page
    assert "Amina on one" in page  # the earlier submitted version, in the history
    assert "A private draft" not in page


@pytest.mark.parametrize(
    ("path", "data"),
    [("/feedback", {"body": ""}), ("/state", {"state": "done"})],
)
def test_bad_feedback_or_state_changes_nothing(world, auth, db, path, data):
    people, answers, _ids = world
    auth.login(people["fa"].email)
    response = auth.post(f"/facilitate/reflections/{answers['a1_p1'].id}{path}", data)
    assert response.status_code == 400
    assert db.scalar(select(AuditEvent)) is None


@pytest.mark.parametrize("who", ["fb", "la1", "lb"])
@pytest.mark.parametrize(
    ("method", "suffix"), [("GET", ""), ("POST", "/feedback"), ("POST", "/state")]
)
def test_others_cannot_open_or_answer(world, auth, db, who, method, suffix):
    people, answers, _ids = world
    auth.login(people[who].email)
    path = f"/facilitate/reflections/{answers['a2_p1'].id}{suffix}"
    data = {"body": "x", "state": "reviewed"}
    response = auth.client.get(path) if method == "GET" else auth.post(path, data)
    assert response.status_code == 404
    assert db.scalar(select(Feedback)) is None


def test_drafts_and_other_modules_are_not_found(world, auth):
    people, answers, ids = world
    auth.login(people["fa"].email)
    assert auth.client.get(f"/facilitate/reflections/{ids['draft']}").status_code == 404
    other = answers["a1_other"].id
    assert auth.client.get(f"/facilitate/reflections/{other}").status_code == 404


# --- Query budget -----------------------------------------------------------------


def _bulk_reflections(db, cohort_id, prompt_ids, learners, first=0):
    """Many learners of the cohort, each with a submitted answer to every prompt."""
    users = db.scalars(
        insert(User).returning(User.id),
        [
            {"email": f"bulk{n}@example.org", "display_name": f"Bulk {n}", "password_hash": "x"}
            for n in range(first, first + learners)
        ],
    ).all()
    db.execute(
        insert(Membership),
        [{"cohort_id": cohort_id, "user_id": u, "role": MembershipRole.LEARNER} for u in users],
    )
    db.execute(
        insert(Reflection),
        [
            {
                "user_id": u,
                "prompt_id": p,
                "state": ReflectionState.SUBMITTED,
                "revision_count": 1,
                "current_body": "bulk",
                "submitted_at": T0 + timedelta(seconds=first * 100 + n),
                "submitted_revision": 1,
                "submitted_body": "bulk",
            }
            for n, (u, p) in enumerate((u, p) for u in users for p in prompt_ids)
        ],
    )
    db.commit()


@pytest.mark.parametrize("query", ["", "?module={module}&lesson={lesson}&state=new&learner=bulk"])
def test_inbox_costs_the_same_queries_for_5_and_500_answers(db, auth, count_queries, query):
    (facilitator,) = make_users(db, Role.FACILITATOR)
    module = make_module(db, lessons=5)
    cohort = make_cohort(db, modules=[module], facilitators=[facilitator])
    prompts = [lesson.prompts[0].id for lesson in module.lessons]
    path = "/facilitate/reflections" + query.format(module=module.id, lesson=module.lessons[0].id)
    _bulk_reflections(db, cohort.id, prompts, learners=1)  # 5 answers
    auth.login(facilitator.email)

    # The counter reuses one list: read each count before the next block.
    with count_queries as q:
        assert auth.client.get(path).status_code == 200
    small = q.count
    _bulk_reflections(db, cohort.id, prompts, learners=99, first=1)  # 500 answers
    with count_queries as q:
        page = auth.client.get(path).get_data(as_text=True)
    large = q.count
    assert page.count('href="/facilitate/reflections/') >= 20
    assert 'rel="next"' in page
    assert large == small, q.statements
    assert small <= 8
    print(f"inbox queries: {small} at 5 answers, {large} at 500")


def test_an_answers_page_costs_the_same_queries_with_a_long_history(world, db, auth, count_queries):
    people, answers, _ids = world
    reflection = answers["a1_p1"]
    auth.login(people["fa"].email)
    path = f"/facilitate/reflections/{reflection.id}"
    with count_queries as q:
        assert auth.client.get(path).status_code == 200
    small = q.count
    db.execute(
        insert(ReflectionRevision),
        [
            {"reflection_id": reflection.id, "number": n, "body": f"v{n}", "prompt_text": "?"}
            for n in range(2, 40)
        ],
    )
    db.execute(
        insert(Feedback),
        [
            {
                "reflection_id": reflection.id,
                "author_id": people["fa"].id,
                "revision_number": 1,
                "body_markdown": "ok",
                "body_html": "<p>ok</p>",
            }
            for _ in range(20)
        ],
    )
    db.commit()
    with count_queries as q:
        assert auth.client.get(path).status_code == 200
    assert q.count == small, q.statements
    print(f"answer page queries: {small} with 1 revision, {q.count} with 39")


def test_the_inbox_is_for_staff_only(world, auth):
    people, _answers, _ids = world
    auth.login(people["la1"].email)
    assert auth.client.get("/facilitate/reflections").status_code == 404


def test_learner_reads_feedback_and_the_unread_count_falls(world, db):
    people, answers, _ids = world
    learner, facilitator = people["la1"], people["fa"]
    mine, theirs = answers["a1_p1"], answers["b_p1"]
    review.give_feedback(db, facilitator, mine, "Well *seen*.")
    review.give_feedback(db, facilitator, mine, "And one more thought.")
    review.give_feedback(db, people["fb"], theirs, "Not for Amina.")
    db.commit()
    assert review.unread_feedback_count(db, learner) == 2
    shown = review.feedback_for_learner(db, learner, [mine.id, theirs.id])
    assert list(shown) == [mine.id]  # never another learner's feedback
    assert [f.body_html for f in shown[mine.id]] == [
        "<p>Well <em>seen</em>.</p>\n",
        "<p>And one more thought.</p>\n",
    ]
    review.mark_feedback_read(db, learner, mine)
    db.commit()
    assert review.unread_feedback_count(db, learner) == 0
    with pytest.raises(ValueError, match="author"):
        review.mark_feedback_read(db, learner, theirs)


def test_an_answers_page_lists_its_files_by_name_only(world, auth, db):
    people, answers, _ids = world
    reflection = answers["a1_p1"]
    file_row = {"reflection_id": reflection.id, "content_type": "application/pdf", "sha256": "0"}
    db.execute(
        insert(LearnerFile),
        [
            {
                **file_row,
                "user_id": people["la1"].id,
                "filename": "map-of-the-village.pdf",
                "size": 2048,
            },
            # A file of someone else that claims the same reflection is not shown.
            {**file_row, "user_id": people["lb"].id, "filename": "not-amina.pdf", "size": 1},
        ],
    )
    db.commit()
    auth.login(people["fa"].email)
    page = auth.client.get(f"/facilitate/reflections/{reflection.id}").get_data(as_text=True)
    assert "map-of-the-village.pdf" in page
    assert "(2.0 KB)" in page
    assert "not-amina.pdf" not in page
