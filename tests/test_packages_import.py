"""Importing packages: a first import, all or nothing, and export round trips."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lms import packages
from lms.models import AuditEvent, Lesson, Media, Module, ModuleVersion, Prompt
from tests.fixtures.packages.importing import import_into, version_two
from tests.fixtures.packages.kit import BUNDLED, MINIMAL, data_listing, snapshot, zip_folder


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
