"""The soak (bench/soak.py) for a couple of seconds a scenario, so that the suite repeats it.

On this test's own database, SQLite or PostgreSQL, seeded with bench/seed.py and served
by gunicorn: a few learners autosave; then while the server is killed with SIGKILL and
restarted; then while a backup is taken, which is restored into an empty database. Not
one acknowledged save may be missing, and the check itself must see a save that is.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from bench import soak
from bench.autosavers import Ack, Crowd, check, text_at
from bench.run import Database, seed_database
from bench.seed import BENCH_MODULE
from lms import reflections
from lms.db import make_engine
from lms.models import Lesson, Module, Prompt, ReflectionRevision, User

LEARNERS = 3
SECONDS = 2.0
WORKERS = 2  # as the live_server fixture: fewer to boot after each kill than lms serve's 3


@pytest.fixture
def live(environ: dict[str, str]) -> Database:
    """The test's database and data dir, seeded with the benchmark's dataset."""
    data_dir = Path(environ["LMS_DATA_DIR"])
    data_dir.mkdir(parents=True, exist_ok=True)
    database = Database(environ["LMS_DATABASE_URL"], data_dir)
    seed_database(database, LEARNERS, LEARNERS)
    return database


@pytest.fixture
def emails(live: Database) -> list[str]:
    return soak.learner_emails(live, LEARNERS)


def assert_nothing_lost(result: soak.Result) -> None:
    print("\n" + result.line())
    assert result.problems == []
    assert result.figures["acknowledged"] > 0
    assert result.checked > 0
    assert result.lost == 0
    assert result.passed


@pytest.mark.slow
def test_learners_autosaving_at_once_lose_no_acknowledged_save(live, emails, tmp_path):
    result = soak.autosavers(live, emails, SECONDS, tmp_path, WORKERS)
    assert_nothing_lost(result)
    assert result.figures["conflicts"] == 0


@pytest.mark.slow
def test_the_server_killed_twice_mid_load_loses_no_acknowledged_save(live, emails, tmp_path):
    rng = random.Random(1)  # noqa: S311  (moments to kill at)
    result = soak.killed(live, emails, SECONDS, 2, rng, tmp_path, WORKERS)
    assert_nothing_lost(result)
    assert result.figures["kills"] == 2


@pytest.mark.slow
def test_a_backup_under_load_restores_every_save_acknowledged_before_it(live, emails, tmp_path):
    restored = soak.restore_target(live, tmp_path / "restored")
    try:
        result = soak.backed_up(live, restored, emails, SECONDS, tmp_path, WORKERS)
    finally:
        restored.drop()
    assert_nothing_lost(result)
    assert result.figures["present in the restore"] == result.checked


def test_the_check_finds_an_acknowledged_save_the_database_does_not_hold(live, emails, db):
    crowd = Crowd("http://unused", emails[:1], "check")
    [saver] = crowd.autosavers
    user = db.scalar(select(User).where(User.email == saver.email))
    prompt = db.scalars(
        select(Prompt)
        .join(Lesson)
        .join(Module)
        .where(Module.slug == BENCH_MODULE)
        .order_by(Lesson.position, Prompt.position)
    ).first()
    before = reflections.find_reflection(db, user, prompt)
    saver.prompt_id = prompt.id
    saver.start_revision = revision = before.revision_count if before else 0
    # Three saves as the server makes them, each acknowledged.
    for n in range(1, 4):
        text = text_at(saver.prefix, n)
        saved = reflections.save_draft(db, user, prompt, text, based_on=revision)
        db.commit()
        revision = saved.revision_count
        saver.acks.append(Ack(n, revision, time.monotonic()))
    saver.n = 3
    engine = make_engine(live.url)
    try:
        kept = check(engine, crowd)
        assert (kept.checked, kept.lost, kept.disordered) == (3, 0, 0)

        second = db.scalar(
            select(ReflectionRevision).where(
                ReflectionRevision.reflection_id == saved.id,
                ReflectionRevision.number == saver.acks[1].revision,
            )
        )
        second.body = "another text"
        db.commit()
        kept = check(engine, crowd)
    finally:
        engine.dispose()
    assert (kept.checked, kept.lost, kept.disordered) == (3, 1, 1)
