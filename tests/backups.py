"""A populated instance to back up, and what a backup and a restore are compared by.

Used by the test_backup*.py and test_restore*.py stories; a second, fresh database and
data dir to restore into is conftest's ``make_target``.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from flask import Flask
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from lms import learner_files, reflections, review
from lms.audit import record
from lms.db import Base
from lms.models import (
    Attachment,
    Enrollment,
    LearnerFile,
    LessonProgress,
    Media,
    MediaVariant,
    Module,
    ProgressStatus,
    Role,
)
from lms.storage import Storage
from tests import factories
from tests.fixtures.packages.kit import MINIMAL

LIMITS = learner_files.Limits(max_bytes=1_000_000, quota_bytes=100_000_000)
OTHER_KIND = {"sqlite": ("postgresql", "PostgreSQL"), "postgresql": ("sqlite", "SQLite")}


# --- A populated instance ------------------------------------------------------------


def populate(app: Flask, db: Session, runner) -> None:
    """People, an imported module, a cohort, answers with revisions, feedback, files, audit."""
    data_dir = app.config["LMS_DATA_DIR"]
    imported = runner.invoke(args=["modules", "import", str(MINIMAL)])
    assert imported.exit_code == 0, imported.output
    learner, other, facilitator, admin = factories.make_users(
        db, Role.LEARNER, Role.LEARNER, Role.FACILITATOR, Role.ADMIN
    )
    module = factories.make_module(
        db,
        lessons=2,
        prompts=[{"accepts_files": True}],
        attachments=1,
        module_attachments=1,
        media=True,
        data_dir=data_dir,
    )
    listening = db.scalar(select(Module).where(Module.slug != module.slug))
    factories.make_cohort(db, "Spring cohort", [module, listening], [facilitator], [learner])
    for person in (learner, other):
        lesson = module.lessons[0]
        db.add(Enrollment(user_id=person.id, module_id=module.id, last_lesson_id=lesson.id))
        db.add(LessonProgress(user_id=person.id, lesson_id=lesson.id))
        prompt = lesson.prompts[0]
        draft = reflections.save_draft(db, person, prompt, "A first thought", based_on=0)
        reflections.save_draft(db, person, prompt, "A first thought, longer", based_on=1)
        answer = reflections.submit(
            db, person, prompt, "What I learned about listening\n\n« ça » 🕊", based_on=2
        )
        assert answer.id == draft.id
        db.flush()
        review.give_feedback(db, facilitator, answer, "Thank you for **this**.")
        for n in range(3):
            learner_files.add_file(
                db,
                person,
                answer,
                io.BytesIO(f"Notes {n} of {person.display_name}\n".encode() * (n + 1)),
                f"notes-{n}.txt",
                storage=Storage(Path(data_dir)),
                limits=LIMITS,
            )
    db.add(
        LessonProgress(
            user_id=learner.id,
            lesson_id=module.lessons[1].id,
            status=ProgressStatus.COMPLETE,
        )
    )
    record(db, admin, "user.role_changed", other, old="learner", new="facilitator")
    db.commit()
    # Mail written to the outbox (no SMTP here) is part of the data dir as well.
    outbox = Path(data_dir) / "outbox"
    outbox.mkdir(exist_ok=True)
    (outbox / "20260301T090000-abcdefgh.eml").write_bytes(b"Subject: Welcome\n\nHello\n")


# --- What is compared ------------------------------------------------------------------


def all_rows(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every table (and the Alembic revision), in primary key order."""
    with engine.connect() as conn:
        rows = {
            table.name: [
                tuple(row)
                for row in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in Base.metadata.sorted_tables
        }
        rows["alembic_version"] = conn.execute(
            text("SELECT version_num FROM alembic_version")
        ).all()
    return rows


def data_files(data_dir: Path | str) -> dict[str, str]:
    """path -> SHA-256 of every file that is data (what a backup must carry)."""
    root = Path(data_dir)
    found = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if relative.parts[0] in ("staging", "uploads", "secret_key") or not path.is_file():
            continue
        if path.name.startswith("lms.sqlite3") or any(p.startswith(".") for p in relative.parts):
            continue
        found[relative.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def assert_referenced_files_present(engine: Engine, data_dir: Path | str) -> int:
    """Every file a row refers to is in the data dir with the bytes the row's hash says."""
    blobs = Path(data_dir) / "blobs"
    with engine.connect() as conn:
        expected = {
            blobs / sha[:2] / sha[2:]: sha
            for sha in conn.scalars(
                select(Attachment.sha256).union(select(Media.sha256), select(MediaVariant.sha256))
            )
        }
        for row in conn.execute(select(LearnerFile)):
            path = Storage(Path(data_dir)).learner_folder(row.user_id) / row.public_id
            expected[path] = row.sha256
    for path, sha256 in expected.items():
        assert path.is_file(), f"{path.name} is referenced but missing"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha256
    return len(expected)


def leftovers(folder: Path) -> list[str]:
    """Anything a failed backup or restore might leave: partial files, work folders."""
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))
