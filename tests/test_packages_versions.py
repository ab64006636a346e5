"""Versions: the same or an older one is refused, a newer one keeps learners' work."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms import packages
from lms.db import now_utc
from lms.models import (
    Attachment,
    Enrollment,
    Lesson,
    LessonProgress,
    Module,
    ModuleVersion,
    ProgressStatus,
    Prompt,
    Reflection,
    ReflectionRevision,
    Role,
)
from tests.factories import make_reflection
from tests.fixtures.packages.edits import L1
from tests.fixtures.packages.importing import import_into, version_two
from tests.fixtures.packages.kit import MINIMAL, copy_package, replace, snapshot


def test_the_same_version_is_refused_unless_forced(db, storage, runner):
    import_into(db, storage, MINIMAL)
    result = runner.invoke(args=["modules", "import", str(MINIMAL)])
    assert result.exit_code == 1
    assert (
        "listening-circles 1.0.0 is installed already. To bring in a new version, raise "
        '"version" in module.yaml; to import this one again, force the import.'
    ) in result.output
    forced = runner.invoke(args=["modules", "import", "--force", str(MINIMAL)])
    assert forced.exit_code == 0, forced.output
    assert "no changes to the content" in forced.output
    assert len(db.scalars(select(ModuleVersion)).all()) == 1


def test_an_older_version_is_refused(db, storage, tmp_path):
    newer = copy_package(tmp_path)
    replace(newer / "module.yaml", '"1.0.0"', '"1.2.0"')
    import_into(db, storage, newer)
    with pytest.raises(packages.VersionRefusedError) as caught:
        packages.import_path(db, storage, MINIMAL)
    db.rollback()
    assert "listening-circles 1.0.0 is older than the installed 1.2.0" in str(caught.value)


def test_a_dry_run_shows_the_changes_and_changes_nothing(db, runner, data_dir):
    before = snapshot(db, data_dir)
    result = runner.invoke(args=["modules", "import", "--dry-run", str(MINIMAL)])
    assert result.exit_code == 0, result.output
    assert "New module listening-circles 1.0.0: Listening circles" in result.output
    assert "lesson added: why-listen (Why listening comes first)" in result.output
    assert "prompt added: holding-a-circle/plan" in result.output
    assert "Dry run: nothing was imported." in result.output
    assert snapshot(db, data_dir) == before


def learner_with_work(db: Session, make_user) -> dict:
    """A learner part-way through listening-circles: progress, answers, where they are."""
    learner = make_user(Role.LEARNER)
    module = db.scalar(select(Module))
    first, second = module.lessons
    asked = first.prompts[0]
    db.add_all(
        [
            Enrollment(user_id=learner.id, module_id=module.id, last_lesson_id=second.id),
            LessonProgress(
                user_id=learner.id,
                lesson_id=first.id,
                status=ProgressStatus.COMPLETE,
                completed_at=now_utc(),
            ),
            LessonProgress(user_id=learner.id, lesson_id=second.id),
        ]
    )
    answers = {}
    for prompt, text in ((asked, "My grandmother, at the market."), (second.prompts[0], "Plan")):
        answers[prompt.key] = make_reflection(db, learner, prompt, text).id
    db.commit()
    return {"learner": learner, "first": first.id, "second": second.id, "answers": answers}


def test_a_new_version_keeps_learners_progress_and_reflections(db, storage, make_user, tmp_path):
    import_into(db, storage, MINIMAL)
    work = learner_with_work(db, make_user)

    result = import_into(db, storage, version_two(tmp_path))

    plan = result.plan
    assert plan.installed == "1.0.0"
    assert plan.lessons_changed == [
        {"slug": "why-listen", "title": "Why we listen first", "changes": ["title", "prompts"]}
    ]
    assert plan.lessons_archived == [{"slug": "holding-a-circle", "title": "Holding a circle"}]
    assert plan.lessons_added == [{"slug": "after-the-circle", "title": "After the circle"}]
    assert [p["key"] for p in plan.prompts_changed] == ["last-time-heard"]
    assert plan.prompts_added == [
        {"lesson": "after-the-circle", "key": "follow-up", "text": "What will you follow up on?"}
    ]

    db.expire_all()
    module = db.scalar(select(Module))
    assert (module.version, module.lesson_count) == ("1.1.0", 2)
    renamed = db.get(Lesson, work["first"])
    assert (renamed.title, renamed.archived_at) == ("Why we listen first", None)
    removed = db.get(Lesson, work["second"])
    assert removed.archived_at is not None
    added = db.scalar(select(Lesson).where(Lesson.slug == "after-the-circle"))
    assert [lesson.slug for lesson in module.lessons if lesson.archived_at is None] == [
        "why-listen",
        "after-the-circle",
    ]

    # Progress and answers stay attached to the same lessons and prompts.
    progress = db.scalars(select(LessonProgress).order_by(LessonProgress.lesson_id)).all()
    assert [(p.lesson_id, p.status) for p in progress] == [
        (work["first"], ProgressStatus.COMPLETE),
        (work["second"], ProgressStatus.IN_PROGRESS),
    ]
    answer = db.get(Reflection, work["answers"]["last-time-heard"])
    assert answer.current_body == "My grandmother, at the market."
    assert answer.prompt.text.startswith("Think of a time you felt truly heard.")
    revision = db.scalar(
        select(ReflectionRevision).where(ReflectionRevision.reflection_id == answer.id)
    )
    assert revision.prompt_text == (
        "When did you last feel truly heard? What did the other person do?"
    )
    archived_reflection = db.get(Reflection, work["answers"]["plan"])
    assert archived_reflection.prompt.lesson_id == work["second"]
    assert archived_reflection.current_body == "Plan"

    # Part-way through: they continue at the lesson now in the removed one's place.
    enrollment = db.scalar(select(Enrollment))
    assert enrollment.last_lesson_id == added.id
    assert len(db.scalars(select(ModuleVersion)).all()) == 2


def test_a_lesson_that_comes_back_is_restored_with_its_answers(db, storage, make_user, tmp_path):
    import_into(db, storage, MINIMAL)
    work = learner_with_work(db, make_user)
    import_into(db, storage, version_two(tmp_path))
    again = copy_package(tmp_path, name="v3")
    replace(again / "module.yaml", '"1.0.0"', '"1.2.0"')

    result = import_into(db, storage, again)

    assert result.plan.lessons_restored == [
        {"slug": "holding-a-circle", "title": "Holding a circle"}
    ]
    assert result.plan.lessons_archived == [
        {"slug": "after-the-circle", "title": "After the circle"}
    ]
    db.expire_all()
    assert db.get(Lesson, work["second"]).archived_at is None
    assert db.get(Reflection, work["answers"]["plan"]).prompt.archived_at is None


def test_prompts_and_attachments_that_leave_are_archived_not_deleted(db, storage, tmp_path):
    import_into(db, storage, MINIMAL)
    package = copy_package(tmp_path)
    replace(package / "module.yaml", '"1.0.0"', '"2.0.0"')
    replace(
        package / L1,
        "  - id: hard-to-hear\n    text: Whose stories are hardest for you to listen to, and why?\n"
        "    required: false\n",
        "",
    )
    replace(
        package / L1,
        "attachments:\n  - path: attachments/listening-worksheet.pdf\n"
        "    title: Listening worksheet (PDF)\n",
        "",
    )
    (package / "attachments" / "listening-worksheet.pdf").unlink()
    (package / "attachments" / "circle-guide.txt").write_text("A new, better guide.\n")

    plan = import_into(db, storage, package).plan

    assert plan.prompts_archived == [
        {
            "lesson": "why-listen",
            "key": "hard-to-hear",
            "text": "Whose stories are hardest for you to listen to, and why?",
        }
    ]
    assert plan.attachments_archived == ["attachments/listening-worksheet.pdf"]
    assert plan.attachments_changed == ["attachments/circle-guide.txt"]
    db.expire_all()
    assert db.scalar(select(Prompt).where(Prompt.key == "hard-to-hear")).archived_at is not None
    worksheet = db.scalar(select(Attachment).where(Attachment.path.endswith(".pdf")))
    assert worksheet.archived_at is not None
    guide = db.scalar(select(Attachment).where(Attachment.path.endswith(".txt")))
    with storage.open_blob(guide.sha256) as blob:
        assert blob.read() == b"A new, better guide.\n"
