"""Progress: lesson states, locking in linear modules, opening, completing, module percent."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms import progress, reflections
from lms.db import now_utc
from lms.models import (
    AttachmentDownload,
    Enrollment,
    Lesson,
    LessonProgress,
    ProgressStatus,
    Prompt,
    Sequence,
)
from lms.progress import LessonState, build_outline
from tests.factories import make_module

S = ProgressStatus


def _rows(*statuses):
    return [(i, f"l{i}", f"Lesson {i}", i, 10, s, None) for i, s in enumerate(statuses, start=1)]


@pytest.mark.parametrize(
    ("sequence", "statuses", "states"),
    [
        (
            Sequence.LINEAR,
            (None, None, None),
            ("not_started", "locked", "locked"),
        ),
        (
            Sequence.LINEAR,
            (S.COMPLETE, None, None),
            ("complete", "not_started", "locked"),
        ),
        (
            Sequence.LINEAR,
            (S.COMPLETE, S.IN_PROGRESS, None),
            ("complete", "in_progress", "locked"),
        ),
        # A lesson already opened stays open, even if a new lesson now comes before it.
        (
            Sequence.LINEAR,
            (S.COMPLETE, None, S.IN_PROGRESS),
            ("complete", "not_started", "in_progress"),
        ),
        (Sequence.OPEN, (None, None, S.COMPLETE), ("not_started", "not_started", "complete")),
    ],
)
def test_lesson_states(sequence, statuses, states):
    outline = build_outline(_rows(*statuses), sequence)
    assert [e.state.value for e in outline.entries] == list(states)


def test_percent_never_says_100_before_the_end():
    assert progress.percent(0, 0) == 0
    assert progress.percent(1, 3) == 33
    assert progress.percent(199, 200) == 99
    assert progress.percent(3, 3) == 100


def test_resume_goes_to_the_last_lesson_or_the_next_one_to_do():
    outline = build_outline(_rows(S.COMPLETE, S.IN_PROGRESS, None), Sequence.LINEAR)
    assert outline.resume(None).lesson_id == 2
    assert outline.resume(2).lesson_id == 2
    # The last lesson opened is complete: go on to the next one open.
    assert outline.resume(1).lesson_id == 2
    assert build_outline(_rows(S.COMPLETE, S.COMPLETE), Sequence.LINEAR).resume(2).lesson_id == 2


def test_enroll_once(db, make_user):
    user = make_user()
    module = make_module(db)
    first, new = progress.enroll(db, user, module)
    again, new_again = progress.enroll(db, user, module)
    db.commit()
    assert new
    assert not new_again
    assert first.id == again.id
    assert db.scalars(select(Enrollment)).all() == [first]


def _lessons(db, module):
    return list(
        db.scalars(select(Lesson).where(Lesson.module_id == module.id).order_by(Lesson.position))
    )


def test_opening_records_progress_and_where_the_learner_is(db, make_user):
    user = make_user()
    module = make_module(db, lessons=2)
    enrollment, _ = progress.enroll(db, user, module)
    first, second = _lessons(db, module)

    progress.open_lesson(db, user, first, enrollment, progress.outline(db, user, module))
    db.commit()
    row = db.scalar(select(LessonProgress))
    opened_at = row.first_opened_at
    assert row.status == ProgressStatus.IN_PROGRESS
    assert enrollment.last_lesson_id == first.id
    db.refresh(enrollment)  # stored, not only set on the object
    assert enrollment.last_lesson_id == first.id

    progress.open_lesson(db, user, first, enrollment, progress.outline(db, user, module))
    db.commit()
    db.refresh(row)
    assert row.first_opened_at == opened_at
    assert row.last_visited_at >= opened_at

    with pytest.raises(progress.LessonLockedError) as locked:
        progress.open_lesson(db, user, second, enrollment, progress.outline(db, user, module))
    assert locked.value.blocking.lesson_id == first.id


def test_completing_needs_every_required_prompt_submitted(db, make_user):
    user = make_user()
    module = make_module(
        db, lessons=2, prompts=[{"required": True}, {"required": True}, {"required": False}]
    )
    enrollment, _ = progress.enroll(db, user, module)
    first, second = _lessons(db, module)
    progress.open_lesson(db, user, first, enrollment, progress.outline(db, user, module))
    q1, q2, _optional = db.scalars(
        select(Prompt).where(Prompt.lesson_id == first.id).order_by(Prompt.position)
    )

    with pytest.raises(progress.MissingReflectionsError) as missing:
        progress.complete_lesson(db, user, first, enrollment)
    assert [p.id for p in missing.value.prompts] == [q1.id, q2.id]

    # A draft is not enough; a submitted answer is.
    reflections.save_draft(db, user, q1, "a draft", based_on=0)
    reflections.submit(db, user, q2, "submitted", based_on=0)
    with pytest.raises(progress.MissingReflectionsError) as missing:
        progress.complete_lesson(db, user, first, enrollment)
    assert [p.id for p in missing.value.prompts] == [q1.id]

    reflections.submit(db, user, q1, "now submitted", based_on=1)
    assert progress.complete_lesson(db, user, first, enrollment) is False
    db.commit()
    assert progress.module_progress(db, user, module) == (1, 2)
    outline = progress.outline(db, user, module)
    assert [e.state for e in outline.entries] == [LessonState.COMPLETE, LessonState.NOT_STARTED]
    assert outline.percent == 50


def test_a_lesson_never_opened_cannot_be_completed(db, make_user):
    user = make_user()
    module = make_module(db, lessons=2, prompts=0)
    enrollment, _ = progress.enroll(db, user, module)
    with pytest.raises(progress.NotOpenedError):
        progress.complete_lesson(db, user, _lessons(db, module)[1], enrollment)


def test_completing_the_last_lesson_finishes_the_module(db, make_user):
    user = make_user()
    module = make_module(db, lessons=2, prompts=0)
    enrollment, _ = progress.enroll(db, user, module)
    for lesson in _lessons(db, module):
        progress.open_lesson(db, user, lesson, enrollment, progress.outline(db, user, module))
        finished = progress.complete_lesson(db, user, lesson, enrollment)
    db.commit()
    assert finished is True
    assert enrollment.completed_at is not None


def test_module_progress_counts_current_lessons_only(db, make_user):
    user = make_user()
    module = make_module(db, lessons=3, prompts=0, sequence="open")
    enrollment, _ = progress.enroll(db, user, module)
    first, second, third = _lessons(db, module)
    for lesson in (first, second):
        progress.open_lesson(db, user, lesson, enrollment, progress.outline(db, user, module))
        progress.complete_lesson(db, user, lesson, enrollment)
    second.archived_at = now_utc()
    module.lesson_count = 2
    db.commit()
    assert progress.module_progress(db, user, module) == (1, 2)
    [line] = progress.my_learning(db, user)
    assert (line.complete, line.total, line.percent) == (1, 2, 50)
    assert [e.lesson_id for e in progress.outline(db, user, module).entries] == [
        first.id,
        third.id,
    ]


def test_downloads_are_counted(app, db, make_user):
    user = make_user()
    module = make_module(db, lessons=1, attachments=1, data_dir=app.config["LMS_DATA_DIR"])
    [attachment] = module.attachments
    progress.record_download(db, user, attachment)
    progress.record_download(db, user, attachment)
    db.commit()
    row = db.scalar(select(AttachmentDownload))
    assert (row.user_id, row.attachment_id, row.count) == (user.id, attachment.id, 2)
