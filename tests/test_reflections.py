"""Reflections: every save is a revision, conflicts are refused with both texts, nothing is lost."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from lms import reflections
from lms.models import (
    Prompt,
    Reflection,
    ReflectionRevision,
    ReflectionState,
    ReviewState,
    User,
)
from lms.web.database import database
from tests.factories import make_module


@pytest.fixture
def prompt(db) -> Prompt:
    module = make_module(db, lessons=1, prompts=1)
    return db.scalar(
        select(Prompt).join(Prompt.lesson).where(Prompt.lesson.has(module_id=module.id))
    )


def _revisions(db, reflection):
    return [
        (r.number, r.body, r.submitted)
        for r in db.scalars(
            select(ReflectionRevision)
            .where(ReflectionRevision.reflection_id == reflection.id)
            .order_by(ReflectionRevision.number)
        )
    ]


def test_every_save_is_a_revision_and_nothing_is_overwritten(db, make_user, prompt):
    user = make_user()
    first = reflections.save_draft(db, user, prompt, "First thoughts", based_on=0)
    reflections.save_draft(db, user, prompt, "First thoughts, more", based_on=1)
    reflections.submit(db, user, prompt, "Final words", based_on=2)
    reflections.save_draft(db, user, prompt, "Final words, edited", based_on=3)
    db.commit()

    assert _revisions(db, first) == [
        (1, "First thoughts", False),
        (2, "First thoughts, more", False),
        (3, "Final words", True),
        (4, "Final words, edited", False),
    ]
    assert first.revision_count == 4
    assert first.current_body == "Final words, edited"
    # Edited after submitting: a draft again, but it was submitted (lessons stay complete).
    assert first.state == ReflectionState.DRAFT
    assert first.submitted_at is not None
    [revision] = [r for r in reflections.revisions(db, first) if r.number == 3]
    assert revision.prompt_text == prompt.text


def test_an_unchanged_text_adds_no_revision(db, make_user, prompt):
    user = make_user()
    reflections.save_draft(db, user, prompt, "Same", based_on=0)
    again = reflections.save_draft(db, user, prompt, "Same", based_on=1)
    db.commit()
    assert again.revision_count == 1


def test_a_save_based_on_an_older_revision_is_refused_with_both_texts(db, make_user, prompt):
    user = make_user()
    reflections.save_draft(db, user, prompt, "Written in tab one", based_on=0)
    reflections.save_draft(db, user, prompt, "Tab one, later", based_on=1)
    db.commit()

    with pytest.raises(reflections.ConflictError) as conflict:
        reflections.save_draft(db, user, prompt, "Written in tab two", based_on=1)

    assert conflict.value.body == "Written in tab two"
    assert conflict.value.reflection.current_body == "Tab one, later"
    assert conflict.value.reflection.revision_count == 2
    db.rollback()
    reflection = reflections.find_reflection(db, user, prompt)
    assert [body for _, body, _ in _revisions(db, reflection)] == [
        "Written in tab one",
        "Tab one, later",
    ]


def test_a_first_save_conflicts_with_a_reflection_created_elsewhere(db, make_user, prompt):
    user = make_user()
    reflections.save_draft(db, user, prompt, "From the phone", based_on=0)
    with pytest.raises(reflections.ConflictError):
        reflections.save_draft(db, user, prompt, "From the laptop", based_on=0, reflection=None)


def test_the_same_text_is_never_a_conflict(db, make_user, prompt):
    user = make_user()
    reflections.save_draft(db, user, prompt, "Agreed text", based_on=0)
    reflections.save_draft(db, user, prompt, "Agreed text, more", based_on=1)
    submitted = reflections.submit(db, user, prompt, "Agreed text, more", based_on=1)
    assert submitted.revision_count == 3
    assert submitted.state == ReflectionState.SUBMITTED


def test_submitting_needs_text_and_marks_it_for_review(db, make_user, prompt):
    user = make_user()
    with pytest.raises(reflections.EmptyReflectionError):
        reflections.submit(db, user, prompt, "   ", based_on=0)
    reflection = reflections.submit(db, user, prompt, "Ready", based_on=0)
    reflection.review_state = ReviewState.REVIEWED
    db.flush()
    reflections.submit(db, user, prompt, "Ready, improved", based_on=1)
    assert reflection.review_state == ReviewState.NEW


def test_answers_of_two_learners_are_apart(db, make_user, prompt):
    amina, ben = make_user(), make_user()
    reflections.save_draft(db, amina, prompt, "Amina's", based_on=0)
    reflections.save_draft(db, ben, prompt, "Ben's", based_on=0)
    db.commit()
    [answer] = reflections.reflections_for_lesson(db, ben, prompt.lesson)
    assert answer.body == "Ben's"
    assert [item.reflection.current_body for item in reflections.my_work(db, amina)] == ["Amina's"]


def test_racing_saves_on_one_revision_cannot_both_win(app, make_user, prompt):
    """Two sessions save based on the same revision at once: one wins, one conflicts."""
    user = make_user()
    setup = database(app).new_session(write=True)
    reflections.save_draft(
        setup, setup.get(User, user.id), setup.get(Prompt, prompt.id), "v1", based_on=0
    )
    setup.commit()
    setup.close()

    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def save(text: str) -> None:
        session = database(app).new_session(write=True)
        try:
            me, question = session.get(User, user.id), session.get(Prompt, prompt.id)
            reflection = reflections.find_reflection(session, me, question)
            session.commit()  # end the read; both now hold revision 1
            barrier.wait(timeout=10)
            reflections.save_draft(session, me, question, text, based_on=1, reflection=reflection)
            session.commit()
            outcomes.append("saved")
        except reflections.ConflictError:
            session.rollback()
            outcomes.append("conflict")
        finally:
            session.close()

    threads = [threading.Thread(target=save, args=(t,)) for t in ("tab one", "tab two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["conflict", "saved"]
    check = database(app).new_session(write=False)
    count = check.scalar(select(func.count()).select_from(ReflectionRevision))
    reflection = check.scalar(select(Reflection))
    check.close()
    assert count == 2
    assert reflection.revision_count == 2
