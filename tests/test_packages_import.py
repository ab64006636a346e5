"""Importing packages: all or nothing, versions that keep learners' work, export round trips."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lms import packages
from lms.db import now_utc
from lms.models import (
    Attachment,
    AuditEvent,
    Enrollment,
    Lesson,
    LessonProgress,
    Media,
    Module,
    ModuleVersion,
    ProgressStatus,
    Prompt,
    Reflection,
    ReflectionRevision,
    ReflectionState,
    Role,
)
from lms.storage import Storage
from tests.fixtures.packages.kit import (
    BUNDLED,
    MINIMAL,
    copy_package,
    data_listing,
    replace,
    snapshot,
    write_lesson,
    zip_folder,
)

L1 = "lessons/01-why-listen.md"
L2 = "lessons/02-holding-a-circle.md"


@pytest.fixture
def data_dir(app) -> Path:
    return Path(app.config["LMS_DATA_DIR"])


@pytest.fixture
def storage(data_dir) -> Storage:
    return Storage(data_dir)


def import_into(db: Session, storage: Storage, path: Path, **options) -> packages.ImportResult:
    """Import and commit, as the command and the admin pages do."""
    result = packages.import_path(db, storage, path, **options)
    db.commit()
    return result


def module_content(db: Session, slug: str) -> dict:
    """What a module holds, without ids or times: equal for equal imports."""
    db.expire_all()
    module = db.scalar(select(Module).where(Module.slug == slug))
    lessons = {lesson.id: lesson.slug for lesson in module.lessons}
    content = {
        "module": [
            getattr(module, name)
            for name in packages.importer.MODULE_FIELDS + ("version", "lesson_count")
        ],
        "lessons": [
            (l.slug, l.position, l.title, l.minutes, l.body_markdown, l.body_html, l.archived_at)
            for l in module.lessons  # noqa: E741
        ],
        "prompts": sorted(
            (lessons[p.lesson_id], p.key, p.position, p.text, p.required, p.accepts_files)
            for p in db.scalars(select(Prompt).where(Prompt.lesson_id.in_(lessons)))
        ),
        "attachments": sorted(
            (
                a.path,
                lessons.get(a.lesson_id),
                a.title,
                a.filename,
                a.content_type,
                a.size,
                a.sha256,
                a.position,
                a.archived_at,
            )
            for a in module.attachments
        ),  # fmt: skip
        "media": sorted(
            (m.path, m.content_type, m.size, m.sha256)
            for m in db.scalars(select(Media).where(Media.module_id == module.id))
        ),
    }
    db.rollback()  # end the read: the command under test writes next
    return content


# --- A first import ---------------------------------------------------------


def test_a_package_becomes_a_module_with_its_lessons_prompts_and_files(db, storage):
    result = import_into(db, storage, MINIMAL)

    module = db.scalar(select(Module).where(Module.slug == "listening-circles"))
    assert module.id == result.module.id
    assert (module.title, module.version, module.sequence.value) == (
        "Listening circles",
        "1.0.0",
        "linear",
    )
    assert module.authors == ["Amina Yusuf", "Tomás Ribeiro"]
    assert module.lesson_count == 2
    first, second = module.lessons
    assert (first.slug, first.position, first.minutes) == ("why-listen", 1, 15)
    assert [(p.key, p.required) for p in first.prompts] == [
        ("last-time-heard", True),
        ("hard-to-hear", False),
    ]
    assert second.prompts[0].accepts_files is True
    assert '<img src="/media/listening-circles/circle.png?v=' in first.body_html
    assert "<strong>why listening comes first</strong>" in first.body_html

    attachments = {a.path: a for a in module.attachments}
    worksheet = attachments["attachments/listening-worksheet.pdf"]
    assert (worksheet.lesson_id, worksheet.title, worksheet.content_type) == (
        first.id,
        "Listening worksheet (PDF)",
        "application/pdf",
    )
    assert attachments["attachments/circle-guide.txt"].lesson_id is None
    for row in [*attachments.values(), *db.scalars(select(Media))]:
        assert storage.blob_path(row.sha256).read_bytes() == (MINIMAL / row.path).read_bytes()

    record = db.scalar(select(ModuleVersion))
    assert (record.version, record.package_sha256) == (
        "1.0.0",
        result.plan and record.package_sha256,
    )
    assert record.changes["lessons_added"] == [
        {"slug": "why-listen", "title": "Why listening comes first"},
        {"slug": "holding-a-circle", "title": "Holding a circle"},
    ]
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "module.imported"))
    assert event.details["version"] == "1.0.0"


def test_the_staging_area_is_gone_after_an_import(db, storage, data_dir):
    import_into(db, storage, zip_folder(MINIMAL, data_dir.parent / "p.zip", top="x"))
    assert sorted(p.split("/")[0] for p in data_listing(data_dir)) == ["blobs"] * 3
    assert list(storage.staging_dir.iterdir()) == []


def test_stored_lesson_html_is_sanitised_even_past_the_validator(db, storage):
    hostile = (
        '<script>alert(1)</script><img src="../media/circle.png" onerror="alert(1)">\n\n'
        '[x](javascript:alert(1)) <a href="java&#x09;script:alert(1)">y</a> '
        '<span style="color:red" onmouseover="alert(1)">z</span>\n\n'
        '<iframe src="https://evil.example/"></iframe><svg onload="alert(1)"></svg>'
    )
    with packages.open_package(MINIMAL) as source:
        package = packages.read_package(source)
        # As if the validator had missed all of it: the renderer still cleans it.
        lessons = (dataclasses.replace(package.lessons[0], body_markdown=hostile),)
        package = dataclasses.replace(package, lessons=lessons + package.lessons[1:])
        packages.import_package(db, storage, source, package)
    db.commit()
    stored = db.scalar(select(Lesson.body_html).where(Lesson.slug == "why-listen")).lower()
    assert "<script" not in stored
    assert "<svg" not in stored
    assert "evil.example" not in stored
    assert not re.search(r"<[^>]*\son\w+=", stored)
    assert "javascript:" not in stored.replace("[x](javascript:alert(1))", "")
    assert "style=" not in stored
    assert '<img src="/media/listening-circles/circle.png?v=' in stored


def test_progress_is_reported_while_files_are_copied(db, storage):
    seen: list[tuple[int, int]] = []
    with packages.open_package(MINIMAL) as source:
        package = packages.read_package(source)
        packages.import_package(db, storage, source, package, progress=lambda *a: seen.append(a))
    db.commit()
    assert seen[-1] == (package.total_bytes, package.total_bytes)
    assert all(done <= total for done, total in seen)


# --- Versions ---------------------------------------------------------------


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
        reflection = Reflection(
            user_id=learner.id,
            prompt_id=prompt.id,
            state=ReflectionState.SUBMITTED,
            revision_count=1,
            current_body=text,
            submitted_at=now_utc(),
            submitted_revision=1,
            submitted_body=text,
        )
        db.add(reflection)
        db.flush()
        db.add(
            ReflectionRevision(
                reflection_id=reflection.id,
                number=1,
                body=text,
                submitted=True,
                prompt_text=prompt.text,
            )
        )
        answers[prompt.key] = reflection.id
    db.commit()
    return {"learner": learner, "first": first.id, "second": second.id, "answers": answers}


def version_two(tmp_path: Path) -> Path:
    """Lesson 1 renamed and its prompt reworded, lesson 2 removed, a new lesson added."""
    package = copy_package(tmp_path, name="v2")
    replace(package / "module.yaml", '"1.0.0"', '"1.1.0"')
    replace(package / L1, "title: Why listening comes first", "title: Why we listen first")
    replace(
        package / L1,
        "text: When did you last feel truly heard? What did the other person do?",
        "text: Think of a time you felt truly heard. What did the other person do?",
    )
    (package / L2).unlink()
    write_lesson(
        package,
        "02-after-the-circle.md",
        "slug: after-the-circle\ntitle: After the circle\nminutes: 10\n"
        "prompts:\n  - id: follow-up\n    text: What will you follow up on?",
        "Thank everyone, and keep what was said in the circle.\n",
    )
    return package


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
    archived_answer = db.get(Reflection, work["answers"]["plan"])
    assert archived_answer.prompt.lesson_id == work["second"]
    assert archived_answer.current_body == "Plan"

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


# --- All or nothing ---------------------------------------------------------


class CrashError(Exception):
    pass


def crash_on_second_lesson(monkeypatch) -> None:
    real = packages.importer.html.render_lesson
    calls = iter(range(1000))

    def render(*args, **kwargs):
        if next(calls) == 1:
            raise CrashError("the power went out")
        return real(*args, **kwargs)

    monkeypatch.setattr(packages.importer.html, "render_lesson", render)


@pytest.mark.parametrize("installed", [False, True], ids=["first-import", "new-version"])
def test_a_crash_mid_import_leaves_database_and_files_as_before(
    db, storage, data_dir, monkeypatch, tmp_path, installed
):
    if installed:
        import_into(db, storage, MINIMAL)
    before = snapshot(db, data_dir)
    crash_on_second_lesson(monkeypatch)
    package = version_two(tmp_path)
    (package / "media" / "new.png").write_bytes(
        (MINIMAL / "media" / "circle.png").read_bytes() + b"!"
    )

    with pytest.raises(CrashError):
        packages.import_path(db, storage, package)
    db.rollback()

    assert snapshot(db, data_dir) == before
    assert list(storage.staging_dir.iterdir()) == []


def test_a_failure_while_files_move_in_leaves_nothing(db, storage, data_dir, monkeypatch, tmp_path):
    before = snapshot(db, data_dir)
    moved: list[str] = []
    real_replace = os.replace

    def flaky_replace(src, dst):
        if "blobs" in str(dst):
            if moved:
                raise OSError(28, "No space left on device")
            moved.append(str(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky_replace)
    packages.import_path(db, storage, MINIMAL)
    with pytest.raises(OSError, match="No space left"):
        db.commit()
    db.rollback()

    assert moved  # one blob had moved in before the disk filled up
    assert snapshot(db, data_dir) == before


def test_a_failed_database_commit_takes_the_files_back(db, storage, data_dir):
    from sqlalchemy import event

    before = snapshot(db, data_dir)
    packages.import_path(db, storage, MINIMAL)

    def refuse(_session):
        assert storage.has_blob(db.scalar(select(Media.sha256)))  # the files moved in first
        raise CrashError("the database went away")

    event.listen(db, "before_commit", refuse)  # runs after the import's own listener
    with pytest.raises(CrashError):
        db.commit()
    db.rollback()
    event.remove(db, "before_commit", refuse)

    assert snapshot(db, data_dir) == before


KILLED_IMPORT = """
import os, sys
from pathlib import Path
from sqlalchemy import event
from lms import create_app, packages
from lms.web.database import database
from lms.storage import Storage

app = create_app()
with app.app_context():
    session = database().new_session(write=True)
    packages.import_path(session, Storage(Path(app.config["LMS_DATA_DIR"])), Path(sys.argv[1]))
    # The files have moved in; the process dies before the database commits.
    event.listen(session, "before_commit", lambda s: os._exit(9))
    session.commit()
"""


@pytest.mark.slow
def test_a_process_killed_between_files_and_commit_is_undone(db, storage, data_dir, environ):
    before = snapshot(db, data_dir)
    killed = subprocess.run(  # noqa: S603  (our own interpreter and script)
        [sys.executable, "-c", textwrap.dedent(KILLED_IMPORT), str(MINIMAL)],
        env={**os.environ, **environ},
        capture_output=True,
        timeout=60,
    )
    assert killed.returncode == 9, killed.stderr.decode()
    assert storage.staging_dir.is_dir()
    assert any(p.startswith("blobs/") for p in data_listing(data_dir))  # half-way state

    assert packages.recover_abandoned_imports(db, storage) == 1
    db.commit()
    assert snapshot(db, data_dir) == before


# --- Export round trip ------------------------------------------------------


def test_export_writes_a_package_that_imports_to_the_same_module(db, storage, runner, tmp_path):
    import_into(db, storage, MINIMAL)
    original = module_content(db, "listening-circles")
    out = tmp_path / "exported.zip"

    result = runner.invoke(args=["modules", "export", "listening-circles", str(out)])
    assert result.exit_code == 0, result.output

    package = packages.validate_path(out)
    assert package.warnings == ()
    assert not packages.plan_import(db, package).has_changes
    db.rollback()
    db.execute(delete(Module))
    db.commit()
    import_into(db, storage, out)
    assert module_content(db, "listening-circles") == original


def test_export_is_reproducible_and_leaves_archived_content_out(db, storage, tmp_path):
    import_into(db, storage, MINIMAL)
    import_into(db, storage, version_two(tmp_path))
    first = packages.export_module(db, storage, "listening-circles", tmp_path / "a.zip")
    second = packages.export_module(db, storage, "listening-circles", tmp_path / "b.zip")
    assert first.read_bytes() == second.read_bytes()
    exported = packages.validate_path(first)
    assert [lesson.slug for lesson in exported.lessons] == ["why-listen", "after-the-circle"]


def test_export_of_an_unknown_module_says_so(runner, tmp_path):
    result = runner.invoke(args=["modules", "export", "nope", str(tmp_path / "x.zip")])
    assert result.exit_code == 1
    assert "No module has the slug 'nope'" in result.output


# --- The command ------------------------------------------------------------


def test_validate_and_list_commands(runner, tmp_path):
    valid = runner.invoke(args=["modules", "validate", str(MINIMAL)])
    assert valid.exit_code == 0
    assert valid.output == (
        "listening-circles 1.0.0 is valid: 2 lessons, 3 prompts, 2 attachments, 1 media files.\n"
    )
    assert runner.invoke(args=["modules", "list"]).output.startswith("No modules yet.")
    runner.invoke(args=["modules", "import", str(MINIMAL)])
    assert runner.invoke(args=["modules", "list"]).output == (
        "listening-circles  1.0.0  2 lessons  Listening circles\n"
    )


def test_validate_command_lists_every_problem_and_fails(runner, tmp_path):
    package = copy_package(tmp_path)
    replace(package / "module.yaml", "sequence: linear", "sequence: sideways")
    replace(package / L1, "id: hard-to-hear", "id: last-time-heard")
    result = runner.invoke(args=["modules", "validate", str(package)])
    assert result.exit_code == 1
    assert 'module.yaml:13: "sequence" is "linear"' in result.output
    assert f'{L1}:11: prompt id "last-time-heard" is used twice in this lesson' in result.output
    assert "2 problems to fix; nothing was imported." in result.output


def test_setup_imports_bundled_modules_once_then_upgrades(app, runner, db, tmp_path):
    bundled = tmp_path / "bundled"
    bundled.mkdir()
    copy_package(bundled, name="listening-circles")
    app.config["LMS_BUNDLED_MODULES_DIR"] = str(bundled)

    first = runner.invoke(args=["setup"])
    assert first.exit_code == 0, first.output
    assert "Imported the bundled module listening-circles 1.0.0 (2 lessons)." in first.output

    second = runner.invoke(args=["setup"])
    assert second.exit_code == 0
    assert "Imported" not in second.output
    assert len(db.scalars(select(ModuleVersion)).all()) == 1
    db.rollback()

    replace(bundled / "listening-circles" / "module.yaml", '"1.0.0"', '"1.0.1"')
    third = runner.invoke(args=["setup"])
    assert "Imported the bundled module listening-circles 1.0.1 (2 lessons)." in third.output


def test_setup_reports_a_broken_bundled_module_and_goes_on(app, runner, tmp_path):
    bundled = tmp_path / "bundled"
    bundled.mkdir()
    broken = copy_package(bundled, name="broken")
    replace(broken / "module.yaml", "format: 1", "format: 9")
    app.config["LMS_BUNDLED_MODULES_DIR"] = str(bundled)
    result = runner.invoke(args=["setup"])
    assert result.exit_code == 0
    assert "The bundled module in modules/broken was not imported:" in result.output
    assert 'module.yaml:2: this package says "format: 9"' in result.output
    assert "Ready." in result.output


# --- The bundled modules ----------------------------------------------------

BUNDLED_MODULES = sorted(p for p in BUNDLED.iterdir() if (p / "module.yaml").is_file())


@pytest.mark.parametrize("folder", BUNDLED_MODULES, ids=lambda p: p.name)
def test_bundled_modules_validate_clean_and_round_trip(db, storage, tmp_path, folder):
    package = packages.validate_path(folder)
    assert [str(w) for w in package.warnings] == []
    assert len(package.lessons) >= 4
    import_into(db, storage, folder)
    original = module_content(db, package.slug)

    exported = packages.export_module(db, storage, package.slug, tmp_path / "out.zip")
    assert not packages.plan_import(db, packages.validate_path(exported)).has_changes
    db.rollback()
    db.execute(delete(Module))
    db.commit()
    import_into(db, storage, exported)
    assert module_content(db, package.slug) == original
