"""Several processes write to one database at once without "database is locked".

Each worker process runs what a failed sign-in runs — read the throttle row, then count
one more failure — in its own write transaction, as gunicorn's workers do. On SQLite
this holds only because write sessions begin IMMEDIATE; on PostgreSQL (the same test
runs there) because the row is locked before it is counted on.
"""

from __future__ import annotations

import multiprocessing
import traceback

from sqlalchemy import select

from lms.db import Database
from lms.models import Throttle
from lms.people import throttle

PROCESSES = 4
TRANSACTIONS = 150
KEY = throttle.account_key("everyone@example.org")
SETTINGS = {
    "LMS_LOGIN_FAILURES_PER_ACCOUNT": 10**9,
    "LMS_LOGIN_FAILURES_PER_ADDRESS": 10**9,
    "LMS_LOGIN_WINDOW_SECONDS": 24 * 3600,
}


def count_failures(url: str, start, results) -> None:
    """Worker process: TRANSACTIONS read-then-write transactions; report the errors."""
    database = Database(url)
    errors: list[str] = []
    start.wait(timeout=60)
    for _ in range(TRANSACTIONS):
        # A session per transaction, as the app has one per request.
        with database.new_session(write=True) as session:
            try:
                throttle.retry_after(session, [KEY])
                throttle.record_attempt(session, SETTINGS, [KEY])
                session.commit()
            except Exception:  # noqa: BLE001  (any failure is reported to the test)
                errors.append(traceback.format_exc(limit=1))
    database.engine.dispose()
    results.put(errors)


def test_concurrent_writes_from_several_processes(database_url, db):
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Barrier(PROCESSES)
    results = spawn.Queue()
    workers = [
        spawn.Process(target=count_failures, args=(database_url, start, results))
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    try:
        errors = [error for _ in workers for error in results.get(timeout=120)]
    finally:
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()

    assert errors == []
    assert [worker.exitcode for worker in workers] == [0] * PROCESSES
    row = db.scalar(select(Throttle).where(Throttle.key == KEY))
    assert row.attempts == PROCESSES * TRANSACTIONS
