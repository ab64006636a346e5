"""A large, realistic dataset for the benchmark: learners, modules, a cohort, progress, answers.

    .venv/bin/python -m bench.seed [--learners 10000] [--cohort 2000]

Seeds the database of the app that LMS_DATABASE_URL and LMS_DATA_DIR point at (migrated
first; it should be empty). What it makes, at the default size:

- the four bundled modules (from ``modules/``) and a generated 40-lesson module, all
  through the real importer;
- N learners (bulk inserts sharing one precomputed password hash), a facilitator and an
  admin; every learner is enrolled in the 40-lesson module and in one bundled module;
- a cohort of the first 2,000 learners and the facilitator, working through the
  40-lesson module;
- about 200,000 progress rows (each learner completed a random number of lessons, in
  order, and opened the next) and about 100,000 reflections, with their revisions and,
  for a quarter of the submitted ones, a facilitator's feedback.

The first learner (``BENCH_LEARNER``) has the same shape at every size: enrolled in the
same two modules, 20 lessons complete and the 21st open. Every account signs in with
``BENCH_PASSWORD``. Seeding is deterministic for a given size and seed.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, insert, select, text
from sqlalchemy.orm import Session

from bench.import_memory import build_package
from lms import packages
from lms.config import CHECKOUT_DIR
from lms.db import now_utc
from lms.html import render_markdown
from lms.models import (
    Cohort,
    CohortModule,
    Enrollment,
    Feedback,
    Lesson,
    LessonProgress,
    Membership,
    MembershipRole,
    Module,
    ProgressStatus,
    Prompt,
    Reflection,
    ReflectionRevision,
    ReflectionState,
    ReviewState,
    Role,
    User,
    new_token,
)
from lms.people import credentials
from lms.storage import Storage

BENCH_PASSWORD = "benchmark passphrase"  # noqa: S105  (a throwaway dataset's only password)
BENCH_LEARNER = "learner00001@bench.example"
BENCH_FACILITATOR = "facilitator@bench.example"
BENCH_ADMIN = "admin@bench.example"
BENCH_MODULE = "benchmark-module"
BENCH_LEARNER_LESSONS = 21  # the bench learner completed 20 lessons and opened the 21st
MAX_LESSONS_REACHED = 34  # other learners reached 0..34 lessons of the 40 (mean 17)
SUBMITTED_SHARE = 0.6  # of completed lessons with a submitted answer to the first prompt
FEEDBACK_SHARE = 0.25  # of submitted answers with a facilitator's feedback
CHUNK = 10_000

FIRST_NAMES = ["Amina", "Bruno", "Chen", "Dina", "Emeka", "Farah", "Goran", "Hana", "Ivan", "Joy"]
LAST_NAMES = ["Abebe", "Boateng", "Costa", "Diallo", "Erdem", "Fofana", "Garcia", "Haddad"]
ANSWER = (
    "In my community the first warning sign is usually rumour: stories passed on at the "
    "market and on phones that nobody checks. I would start by listening to who repeats "
    "them and why, then ask the elders and the youth group to meet together. "
)


@dataclass(frozen=True)
class Summary:
    """How many rows of each kind the seed wrote, and how long it took."""

    counts: dict[str, int]
    seconds: float
    cohort_id: int
    module_id: int


def _chunks(rows: Iterable[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _bulk(session: Session, table: Table, rows: Iterable[dict[str, Any]]) -> int:
    """Core executemany inserts, a chunk at a time: no ORM objects for bulk rows."""
    total = 0
    for batch in _chunks(rows):
        session.execute(insert(table), batch)
        total += len(batch)
    return total


def _import_modules(session: Session, storage: Storage, modules_dir: Path, lessons: int) -> None:
    """The bundled modules and a generated module of `lessons` lessons, via the importer."""
    folders = sorted(p for p in modules_dir.iterdir() if (p / "module.yaml").is_file())
    with tempfile.TemporaryDirectory(prefix="lms-bench-seed-") as scratch:
        folders.append(build_package(Path(scratch) / "package", lessons, attachments_mb=1))
        for folder in folders:
            packages.import_path(session, storage, folder, packages.Limits())
            session.commit()


def seed(
    session: Session,
    storage: Storage,
    *,
    learners: int = 10_000,
    cohort_size: int = 2_000,
    lessons: int = 40,
    modules_dir: Path = CHECKOUT_DIR / "modules",
    random_seed: int = 7,
) -> Summary:
    """Fill a migrated, empty database with the benchmark's dataset; commits."""
    started = time.perf_counter()
    rng = random.Random(random_seed)  # noqa: S311  (a reproducible dataset, not a secret)
    now = now_utc()
    cohort_size = min(cohort_size, learners)
    _import_modules(session, storage, modules_dir, lessons)

    modules = {m.slug: m for m in session.scalars(select(Module).order_by(Module.slug))}
    bench_module = modules[BENCH_MODULE]
    bundled = [m for slug, m in modules.items() if slug != BENCH_MODULE]
    lessons_of: dict[int, list[int]] = {}
    for module_id, lesson_id in session.execute(
        select(Lesson.module_id, Lesson.id)
        .where(Lesson.archived_at.is_(None))
        .order_by(Lesson.module_id, Lesson.position)
    ):
        lessons_of.setdefault(module_id, []).append(lesson_id)
    prompts_of: dict[int, list[tuple[int, str]]] = {}
    for lesson_id, prompt_id, question in session.execute(
        select(Prompt.lesson_id, Prompt.id, Prompt.text).order_by(Prompt.lesson_id, Prompt.position)
    ):
        prompts_of.setdefault(lesson_id, []).append((prompt_id, question))

    # People: the accounts the benchmark signs in with go through the app's own code.
    password_hash = credentials.hash_password(BENCH_PASSWORD)
    facilitator = credentials.create_user(
        session, BENCH_FACILITATOR, "Facilitator", BENCH_PASSWORD, Role.FACILITATOR
    )
    credentials.create_user(session, BENCH_ADMIN, "Admin", BENCH_PASSWORD, Role.ADMIN)
    session.flush()
    width = max(5, len(str(learners)))

    def people() -> Iterator[dict[str, Any]]:
        for n in range(1, learners + 1):
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} {n:0{width}d}"
            yield {
                "email": f"learner{n:0{width}d}@bench.example",
                "display_name": name,
                "password_hash": password_hash,
                "role": Role.LEARNER,
                "session_token": new_token(),
                "time_zone": "UTC",
                "created_at": now - timedelta(days=90),
            }

    _bulk(session, User.__table__, people())
    learner_ids = list(
        session.scalars(
            select(User.id).where(User.role == Role.LEARNER).order_by(User.email).limit(learners)
        )
    )

    cohort = Cohort(name="Benchmark cohort", created_by_id=facilitator.id, created_at=now)
    session.add(cohort)
    session.flush()
    session.execute(
        insert(CohortModule.__table__), [{"cohort_id": cohort.id, "module_id": bench_module.id}]
    )
    memberships = [
        {
            "cohort_id": cohort.id,
            "user_id": facilitator.id,
            "role": MembershipRole.FACILITATOR,
            "joined_at": now,
        }
    ] + [
        {"cohort_id": cohort.id, "user_id": uid, "role": MembershipRole.LEARNER, "joined_at": now}
        for uid in learner_ids[:cohort_size]
    ]
    _bulk(session, Membership.__table__, memberships)

    # Enrollments and progress: lessons completed in order, the next one opened.
    enrollments: list[dict[str, Any]] = []
    progress: list[dict[str, Any]] = []
    reached: dict[int, int] = {}
    bench_lessons = lessons_of[bench_module.id]
    for n, uid in enumerate(learner_ids):
        plan = [
            (bench_module, BENCH_LEARNER_LESSONS if n == 0 else rng.randint(0, MAX_LESSONS_REACHED))
        ]
        other = bundled[n % len(bundled)]
        plan.append((other, 2 if n == 0 else rng.randint(0, len(lessons_of[other.id]))))
        for module, count in plan:
            ids = lessons_of[module.id][:count]
            started_at = now - timedelta(days=60, minutes=n)
            enrollments.append(
                {
                    "user_id": uid,
                    "module_id": module.id,
                    "enrolled_at": started_at,
                    "last_lesson_id": ids[-1] if ids else None,
                }
            )
            for i, lesson_id in enumerate(ids):
                last = i == len(ids) - 1
                visited = started_at + timedelta(hours=i + 1)
                progress.append(
                    {
                        "user_id": uid,
                        "lesson_id": lesson_id,
                        "status": ProgressStatus.IN_PROGRESS if last else ProgressStatus.COMPLETE,
                        "first_opened_at": visited,
                        "last_visited_at": visited,
                        "completed_at": None if last else visited + timedelta(minutes=20),
                    }
                )
        reached[uid] = plan[0][1]
    _bulk(session, Enrollment.__table__, enrollments)
    _bulk(session, LessonProgress.__table__, progress)

    # Reflections: submitted answers on completed lessons, drafts on the open one.
    reflections: list[dict[str, Any]] = []
    for n, uid in enumerate(learner_ids):
        count = reached[uid]
        for i, lesson_id in enumerate(bench_lessons[:count]):
            is_open = i == count - 1
            for p, (prompt_id, _text) in enumerate(prompts_of.get(lesson_id, [])):
                if n == 0:
                    keep = p == 0  # the bench learner: the first prompt of each lesson
                elif is_open:
                    keep = p == 0 and rng.random() < 0.5
                else:
                    keep = p == 0 and rng.random() < SUBMITTED_SHARE
                if not keep:
                    continue
                revisions = 2 if rng.random() < 0.4 else 1
                at = now - timedelta(days=30, minutes=(n * 40 + i) % 40_000)
                submitted = not is_open
                reflections.append(
                    {
                        "user_id": uid,
                        "prompt_id": prompt_id,
                        "state": ReflectionState.SUBMITTED if submitted else ReflectionState.DRAFT,
                        "revision_count": revisions,
                        "current_body": f"{ANSWER}({n}/{i})",
                        "created_at": at,
                        "updated_at": at,
                        "submitted_at": at if submitted else None,
                        "submitted_revision": revisions if submitted else None,
                        "submitted_body": f"{ANSWER}({n}/{i})" if submitted else None,
                        "review_state": ReviewState.NEW,
                    }
                )
    for row in reflections:
        if row["state"] == ReflectionState.SUBMITTED and rng.random() < FEEDBACK_SHARE:
            row["review_state"] = ReviewState.REVIEWED
            row["reviewed_at"] = row["submitted_at"] + timedelta(days=1)
        else:
            row["reviewed_at"] = None
    reflection_count = _bulk(session, Reflection.__table__, reflections)
    del reflections

    prompt_text = {pid: question for pairs in prompts_of.values() for pid, question in pairs}
    revisions: list[dict[str, Any]] = []
    feedback: list[dict[str, Any]] = []
    feedback_html = render_markdown("Thank you: **well observed**. Who else could you ask?")
    stored = session.execute(
        select(
            Reflection.id,
            Reflection.prompt_id,
            Reflection.revision_count,
            Reflection.current_body,
            Reflection.state,
            Reflection.review_state,
            Reflection.created_at,
        ).order_by(Reflection.id)
    )
    for rid, pid, count, body, state, review, at in stored:
        for number in range(1, count + 1):
            final = number == count
            revisions.append(
                {
                    "reflection_id": rid,
                    "number": number,
                    "body": body if final else body[: len(body) // 2],
                    "submitted": final and state == ReflectionState.SUBMITTED,
                    "prompt_text": prompt_text[pid],
                    "created_at": at,
                }
            )
        if review == ReviewState.REVIEWED:
            feedback.append(
                {
                    "reflection_id": rid,
                    "author_id": facilitator.id,
                    "revision_number": count,
                    "body_markdown": "Thank you: **well observed**. Who else could you ask?",
                    "body_html": feedback_html,
                    "created_at": at + timedelta(days=1),
                    "read_at": at + timedelta(days=2) if rid % 2 else None,
                }
            )
    _bulk(session, ReflectionRevision.__table__, revisions)
    _bulk(session, Feedback.__table__, feedback)
    session.commit()
    if session.get_bind().dialect.name == "postgresql":
        # A site that grew to this size has statistics (autovacuum gathers them); right
        # after a bulk load PostgreSQL has none yet and plans as if every table were empty.
        session.execute(text("ANALYZE"))
        session.commit()

    counts = {
        "learners": len(learner_ids),
        "cohort_learners": cohort_size,
        "modules": len(modules),
        "enrollments": len(enrollments),
        "progress": len(progress),
        "reflections": reflection_count,
        "revisions": len(revisions),
        "feedback": len(feedback),
    }
    return Summary(counts, time.perf_counter() - started, cohort.id, bench_module.id)


def main(argv: list[str] | None = None) -> int:
    """Seed the database of LMS_DATABASE_URL / LMS_DATA_DIR (migrating it first)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--cohort", type=int, default=2_000)
    parser.add_argument("--lessons", type=int, default=40)
    args = parser.parse_args(argv)

    from lms import create_app
    from lms.ops import migrate
    from lms.web.database import database

    app = create_app()
    migrate.upgrade(database(app).engine)
    session = database(app).new_session(write=True)
    try:
        summary = seed(
            session,
            Storage(Path(app.config["LMS_DATA_DIR"])),
            learners=args.learners,
            cohort_size=args.cohort,
            lessons=args.lessons,
        )
    finally:
        session.close()
    rows = ", ".join(f"{count:,} {name}" for name, count in summary.counts.items())
    print(f"Seeded in {summary.seconds:.1f} s: {rows}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
