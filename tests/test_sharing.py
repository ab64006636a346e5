"""Peer sharing: learners share and withdraw answers, members reply, facilitators hide."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select, update

from lms import reflections
from lms.db import now_utc
from lms.models import AuditEvent, Membership, MembershipRole, PeerReply, Reflection, Role, User
from tests.factories import make_cohort, make_module, make_reflection, make_users


@pytest.fixture
def world(db):
    fa, ana, ben, fb, cai = make_users(
        db, Role.FACILITATOR, Role.LEARNER, Role.LEARNER, Role.FACILITATOR, Role.LEARNER
    )
    ana.display_name, ben.display_name, cai.display_name = "Ana", "Ben", "Cai"
    module = make_module(db, lessons=2)
    cohort_a = make_cohort(db, "A", [module], [fa], [ana, ben])
    cohort_b = make_cohort(db, "B", [module], [fb], [cai])
    prompt = module.lessons[0].prompts[0]
    answer = make_reflection(db, ana, prompt, "Ana's answer to share")
    draft = Reflection(user_id=ana.id, prompt_id=module.lessons[1].prompts[0].id)
    db.add(draft)
    db.commit()
    people = {"fa": fa, "ana": ana, "ben": ben, "fb": fb, "cai": cai}
    ids = {"a": cohort_a.id, "b": cohort_b.id, "answer": answer.id, "draft": draft.id}
    return people, ids


def _as(auth, user):
    auth.logout()
    auth.login(user.email)


def _gallery(auth, cohort_id):
    return auth.client.get(f"/cohorts/{cohort_id}/gallery").get_data(as_text=True)


def test_share_reply_and_withdraw(world, auth, db):
    people, ids = world
    auth.login(people["ana"].email)
    assert "Ana&#39;s answer to share" not in _gallery(auth, ids["a"])  # never by default
    response = auth.post(f"/reflections/{ids['answer']}/share?next=/cohorts/{ids['a']}/gallery")
    assert response.headers["Location"] == f"/cohorts/{ids['a']}/gallery"

    _as(auth, people["ben"])
    assert "Ana&#39;s answer to share" in _gallery(auth, ids["a"])
    response = auth.post(
        f"/cohorts/{ids['a']}/gallery/{ids['answer']}/replies", {"body": "So *true*, Ana."}
    )
    assert response.status_code == 302
    assert "So <em>true</em>, Ana." in _gallery(auth, ids["a"])

    # Another cohort does not see it: its gallery is empty, cohort A's is not theirs.
    _as(auth, people["cai"])
    assert "Ana&#39;s answer" not in _gallery(auth, ids["b"])
    assert auth.client.get(f"/cohorts/{ids['a']}/gallery").status_code == 404

    _as(auth, people["ana"])
    auth.post(f"/reflections/{ids['answer']}/withdraw")
    assert db.scalar(select(Reflection.shared_at).where(Reflection.id == ids["answer"])) is None
    db.commit()
    _as(auth, people["ben"])
    assert "Ana&#39;s answer to share" not in _gallery(auth, ids["a"])


@pytest.mark.parametrize(
    ("who", "target", "action"),
    [
        ("ben", "answer", "share"),  # not his answer
        ("ben", "answer", "withdraw"),
        ("ana", "draft", "share"),  # not submitted
        ("fa", "answer", "share"),  # facilitators share nothing of learners'
    ],
)
def test_only_the_author_shares_a_submitted_answer(world, auth, db, who, target, action):
    people, ids = world
    auth.login(people[who].email)
    assert auth.post(f"/reflections/{ids[target]}/{action}").status_code == 404
    assert db.scalar(select(Reflection.id).where(Reflection.shared_at.is_not(None))) is None


def _share(db, reflection_id):
    db.execute(update(Reflection).where(Reflection.id == reflection_id).values(shared_at=now_utc()))
    db.commit()


@pytest.mark.parametrize(
    ("body", "status"), [("", 400), ("x" * 1001, 400), ("A short thought.", 302)]
)
def test_reply_length(world, auth, db, body, status):
    people, ids = world
    _share(db, ids["answer"])
    auth.login(people["ben"].email)
    path = f"/cohorts/{ids['a']}/gallery/{ids['answer']}/replies"
    assert auth.post(path, {"body": body}).status_code == status


@pytest.mark.parametrize("who", ["cai", "fb"])
def test_outsiders_cannot_reply(world, auth, db, who):
    people, ids = world
    _share(db, ids["answer"])
    auth.login(people[who].email)
    path = f"/cohorts/{ids['a']}/gallery/{ids['answer']}/replies"
    assert auth.post(path, {"body": "hi"}).status_code == 404
    # Nor through their own cohort's gallery, where the answer is not shown.
    path = f"/cohorts/{ids['b']}/gallery/{ids['answer']}/replies"
    assert auth.post(path, {"body": "hi"}).status_code == 404


def test_no_reply_to_an_answer_that_is_not_shared(world, auth):
    people, ids = world
    auth.login(people["ben"].email)
    path = f"/cohorts/{ids['a']}/gallery/{ids['answer']}/replies"
    assert auth.post(path, {"body": "hi"}).status_code == 404


def test_facilitator_hides_a_reply_and_an_answer(world, auth, db):
    people, ids = world
    _share(db, ids["answer"])
    reply_id = db.scalar(
        insert(PeerReply).returning(PeerReply.id),
        [
            {
                "reflection_id": ids["answer"],
                "cohort_id": ids["a"],
                "author_id": people["ben"].id,
                "body": "unkind",
                "body_html": "<p>unkind</p>",
            }
        ],
    )
    db.commit()
    auth.login(people["fa"].email)
    assert "unkind" in _gallery(auth, ids["a"])
    response = auth.post(f"/facilitate/cohorts/{ids['a']}/replies/{reply_id}/hide")
    assert response.status_code == 302
    assert "unkind" not in _gallery(auth, ids["a"])
    assert (
        auth.post(f"/facilitate/cohorts/{ids['a']}/gallery/{ids['answer']}/hide").status_code == 302
    )
    assert "Ana&#39;s answer" not in _gallery(auth, ids["a"])
    events = db.execute(select(AuditEvent.action, AuditEvent.actor_id).order_by(AuditEvent.id))
    assert events.all() == [
        ("peer_reply.hidden", people["fa"].id),
        ("reflection.hidden", people["fa"].id),
    ]
    db.commit()
    # A hidden answer cannot be shared back into view by its author.
    _as(auth, people["ana"])
    auth.post(f"/reflections/{ids['answer']}/share")
    _as(auth, people["ben"])
    assert "Ana&#39;s answer" not in _gallery(auth, ids["a"])


@pytest.mark.parametrize("who", ["fb", "ben", "ana"])
def test_others_cannot_hide(world, auth, db, who):
    people, ids = world
    _share(db, ids["answer"])
    auth.login(people[who].email)
    path = f"/facilitate/cohorts/{ids['a']}/gallery/{ids['answer']}/hide"
    assert auth.post(path).status_code == 404
    assert db.scalar(select(AuditEvent)) is None


def test_gallery_costs_the_same_queries_for_1_and_60_shared_answers(world, auth, db, count_queries):
    people, ids = world
    _share(db, ids["answer"])
    auth.login(people["ben"].email)
    with count_queries as q:
        assert auth.client.get(f"/cohorts/{ids['a']}/gallery").status_code == 200
    small = q.count
    # 60 more learners of cohort A, each sharing an answer with two replies.
    module_prompt = db.scalar(select(Reflection.prompt_id).where(Reflection.id == ids["answer"]))
    learners = make_users(db, *[Role.LEARNER] * 60)
    db.execute(
        insert(Membership),
        [
            {"cohort_id": ids["a"], "user_id": u.id, "role": MembershipRole.LEARNER}
            for u in learners
        ],
    )
    shared = db.scalars(
        insert(Reflection).returning(Reflection.id),
        [
            {
                "user_id": u.id,
                "prompt_id": module_prompt,
                "state": "submitted",
                "submitted_at": now_utc(),
                "submitted_revision": 1,
                "submitted_body": "shared",
                "shared_at": now_utc(),
                "current_body": "shared",
            }
            for u in learners
        ],
    ).all()
    db.execute(
        insert(PeerReply),
        [
            {
                "reflection_id": r,
                "cohort_id": ids["a"],
                "author_id": people["ben"].id,
                "body": "reply",
                "body_html": "<p>reply</p>",
            }
            for r in shared
            for _ in range(2)
        ],
    )
    db.commit()
    with count_queries as q:
        page = auth.client.get(f"/cohorts/{ids['a']}/gallery").get_data(as_text=True)
    assert page.count('class="shared-answer"') == 50
    assert q.count == small, q.statements
    print(f"gallery queries: {small} at 1 shared answer, {q.count} at 61")


def _hide_both(db, people, ids):
    _share(db, ids["answer"])
    reply_id = db.scalar(
        insert(PeerReply).returning(PeerReply.id),
        [
            {
                "reflection_id": ids["answer"],
                "cohort_id": ids["a"],
                "author_id": people["ben"].id,
                "body": "too harsh",
                "body_html": "<p>too harsh</p>",
                "hidden_at": now_utc(),
            }
        ],
    )
    db.execute(update(Reflection).values(hidden_at=now_utc()))
    db.commit()
    return reply_id


def test_facilitator_lists_hidden_things_and_shows_them_again(world, auth, db):
    people, ids = world
    reply_id = _hide_both(db, people, ids)
    auth.login(people["fa"].email)
    base = f"/facilitate/cohorts/{ids['a']}"
    assert "Ana&#39;s answer to share" in auth.client.get(f"{base}/hidden/answers").get_data(
        as_text=True
    )
    assert "too harsh" in auth.client.get(f"{base}/hidden/replies").get_data(as_text=True)
    assert auth.post(f"{base}/gallery/{ids['answer']}/show").status_code == 302
    assert auth.post(f"{base}/replies/{reply_id}/show").status_code == 302
    gallery = _gallery(auth, ids["a"])
    assert "Ana&#39;s answer to share" in gallery
    assert "too harsh" in gallery
    actions = db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["reflection.shown", "peer_reply.shown"]
    db.commit()  # end the read, so the app may write
    # Shown already: nothing to show again.
    assert auth.post(f"{base}/gallery/{ids['answer']}/show").status_code == 404
    assert auth.post(f"{base}/replies/{reply_id}/show").status_code == 400


@pytest.mark.parametrize("who", ["fb", "ana"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/hidden/answers"),
        ("GET", "/hidden/replies"),
        ("POST", "/gallery/{answer}/show"),
        ("POST", "/replies/{reply}/show"),
    ],
)
def test_others_cannot_see_or_undo_moderation(world, auth, db, who, method, path):
    people, ids = world
    reply_id = _hide_both(db, people, ids)
    auth.login(people[who].email)
    url = f"/facilitate/cohorts/{ids['a']}" + path.format(answer=ids["answer"], reply=reply_id)
    response = auth.client.get(url) if method == "GET" else auth.post(url)
    assert response.status_code == 404
    assert db.scalar(select(AuditEvent)) is None


def test_a_demoted_facilitator_is_offered_no_moderation(world, auth, db):
    people, ids = world
    _share(db, ids["answer"])
    hide_action = f"/facilitate/cohorts/{ids['a']}/gallery/{ids['answer']}/hide"
    auth.login(people["fa"].email)
    assert hide_action in _gallery(auth, ids["a"])

    db.execute(update(User).where(User.id == people["fa"].id).values(role=Role.LEARNER))
    db.commit()

    gallery = _gallery(auth, ids["a"])
    assert "Ana&#39;s answer to share" in gallery  # still a member of the cohort
    assert hide_action not in gallery
    assert auth.post(hide_action).status_code == 404


def test_the_gallery_shows_the_submitted_text_while_its_author_drafts_changes(world, auth, db):
    people, ids = world
    _share(db, ids["answer"])
    answer = db.get(Reflection, ids["answer"])
    reflections.save_draft(db, people["ana"], answer.prompt, "Half-formed thoughts", based_on=1)
    db.commit()

    auth.login(people["ben"].email)
    gallery = _gallery(auth, ids["a"])
    assert "Ana&#39;s answer to share" in gallery
    assert "Half-formed thoughts" not in gallery
