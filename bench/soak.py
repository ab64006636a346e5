"""The soak: no acknowledged save is ever lost, under load, kill -9, and a backup restored.

    make soak                                     # SQLite
    LMS_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/lms_soak make soak
    .venv/bin/python -m bench.soak --learners 50 --seconds 20 --kills 4

One run seeds a database with bench/seed.py (on PostgreSQL the database named in
LMS_DATABASE_URL and a ``_restore`` twin are created and dropped again, as ``make
bench`` does) and serves it with gunicorn (tests/servers.py's LiveServer, the sync
workers of ``lms serve``). Then, one after the other, N learners autosave their own
answers as fast as the server answers (bench/autosavers.py) for D seconds:

a. **autosavers**: just that;
b. **kill -9**: the gunicorn master and its workers are SIGKILLed together at random
   moments, and gunicorn started again on the same port; the learners send every save
   not acknowledged yet again until it is;
c. **backup**: ``lms backup`` runs a third of the way in; the archive is restored with
   ``lms restore`` into an empty database and data dir, which must hold every save
   acknowledged before the backup started, and be consistent (every file its rows refer
   to is there, and the row counts are the manifest's).

After each, the database is read: every acknowledged save must be there as its revision
with its text, in order (``lost`` counts those that are not). Each scenario prints its
figures and PASS/FAIL, then a table sums them up; the exit status is 1 if one fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bench.autosavers import Crowd, Kept, check
from bench.run import BIN, GUNICORN_WORKERS, Database, make_database, seed_database
from lms.db import Base, make_engine
from lms.models import Role, User
from lms.ops import backup
from lms.storage import referenced_files
from tests.servers import LiveServer

LEARNERS = 50
SECONDS = 20.0
KILLS = 4
BACKUP_AT = 1 / 3  # of the run: load before the backup, during it and after it


@dataclass
class Result:
    """One scenario's figures, what it lost, and any other problem it found."""

    name: str
    figures: dict[str, float | int | str]
    checked: int  # acknowledged saves looked for afterwards
    lost: int  # ... and not found
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.lost == 0 and self.checked > 0 and not self.problems

    def line(self) -> str:
        """The scenario's figures on one line, with its verdict."""
        figures = ", ".join(f"{name} {_number(value)}" for name, value in self.figures.items())
        verdict = "PASS" if self.passed else "FAIL"
        return f"  {verdict}  {self.name}: {figures}; lost {self.lost}" + "".join(
            f"\n        {problem}" for problem in self.problems
        )


def _number(value: float | int | str) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) else value


def _load_figures(crowd: Crowd, seconds: float) -> dict[str, float | int | str]:
    acks = crowd.total("acks")
    return {
        "learners": len(crowd.autosavers),
        "seconds": seconds,
        "acknowledged": acks,
        "saves/s": acks / seconds,
        "conflicts": crowd.total("conflicts"),
        "503s": crowd.total("busy"),
        "connection errors": crowd.total("connection_errors"),
        "other errors": crowd.total("errors"),
        # The machine may be shared: its load over the last minute, from the end of the run.
        "load average": round(os.getloadavg()[0], 1),
    }


def _kept_problems(kept: Kept, where: str) -> list[str]:
    problems = [f"{where}: {example}" for example in kept.examples]
    if kept.disordered:
        problems.insert(0, f"{where}: {kept.disordered} revisions out of order or not ours")
    return problems


def _checked(url: str, crowd: Crowd, before: float | None = None) -> Kept:
    engine = make_engine(url)
    try:
        return check(engine, crowd, before)
    finally:
        engine.dispose()


# --- a. Concurrent autosavers ------------------------------------------------------------


def autosavers(
    live: Database, emails: list[str], seconds: float, logs: Path, workers: int = GUNICORN_WORKERS
) -> Result:
    """N learners autosaving for the given time; every acknowledged save must be kept."""
    with LiveServer(live.environ(), workers, logs / "autosavers.log") as server:
        crowd = Crowd(server.url, emails, "autosavers").open()
        started = crowd.start()
        time.sleep(seconds)
        crowd.stop()
        ran = time.monotonic() - started
    kept = _checked(live.url, crowd)
    figures = _load_figures(crowd, ran) | {"unacknowledged yet stored": kept.extra}
    problems = crowd.failures() + _kept_problems(kept, "database")
    return Result("autosavers", figures, kept.checked, kept.lost, problems)


# --- b. kill -9 of the server mid-load ----------------------------------------------------


def kill_9(server: LiveServer) -> None:
    """SIGKILL gunicorn's master and every worker at once, as the OOM killer or a crash would.

    The master is stopped first, so that it forks no new worker while they are listed.
    """
    master = server.process
    os.kill(master.pid, signal.SIGSTOP)
    for pid in [master.pid, *server.worker_pids()]:
        os.kill(pid, signal.SIGKILL)
    master.wait()
    server.stop()  # closes its log; nothing left to stop


def killed(
    live: Database,
    emails: list[str],
    seconds: float,
    kills: int,
    rng: random.Random,
    logs: Path,
    workers: int = GUNICORN_WORKERS,
) -> Result:
    """The load while the server is killed with SIGKILL and restarted, ``kills`` times."""
    server = LiveServer(live.environ(), workers, logs / "killed.log").start()
    downtimes = []
    try:
        crowd = Crowd(server.url, emails, "kill -9").open()
        started = crowd.start()
        for _ in range(kills):
            time.sleep(rng.uniform(0.5, 1.5) * seconds / (kills + 1))
            kill_9(server)
            down = time.monotonic()
            server.start()  # the same port, data dir and database
            downtimes.append(time.monotonic() - down)
        time.sleep(max(started + seconds - time.monotonic(), seconds / (kills + 1)))
        crowd.stop()
        ran = time.monotonic() - started
    finally:
        server.stop()
    kept = _checked(live.url, crowd)
    figures = _load_figures(crowd, ran) | {
        "kills": len(downtimes),
        "restart s (median)": statistics.median(downtimes) if downtimes else 0.0,
        "committed, answer lost, acknowledged by a retry": kept.committed_unanswered,
        "unacknowledged yet stored": kept.extra,
    }
    problems = crowd.failures() + _kept_problems(kept, "database")
    return Result("kill -9", figures, kept.checked, kept.lost, problems)


# --- c. A backup under load, restored --------------------------------------------------


def _lms(environ: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603  (our lms command, fixed argv)
        [str(BIN / "lms"), *args],
        env={**os.environ, **environ},
        capture_output=True,
        text=True,
        check=False,
    )


def restore_problems(restored: Database, manifest: backup.Manifest) -> list[str]:
    """What makes a restored database inconsistent: missing files, counts off the manifest."""
    engine = make_engine(restored.url)
    try:
        with engine.connect() as connection:
            counts = {
                t.name: connection.scalar(select(func.count()).select_from(t))
                for t in Base.metadata.sorted_tables
            }
            referenced = referenced_files(connection)
    finally:
        engine.dispose()
    problems = [
        f"table {name}: {counts.get(name)} rows, the manifest says {count}"
        for name, count in manifest.tables.items()
        if counts.get(name) != count
    ]
    missing = sorted(p for p in referenced if not (restored.data_dir / p).is_file())
    if missing:
        problems.append(f"{len(missing)} files the rows refer to are missing, e.g. {missing[0]}")
    wrong = [
        e.path
        for e in manifest.files
        if not (restored.data_dir / e.path).is_file()
        or (restored.data_dir / e.path).stat().st_size != e.size
    ]
    if wrong:
        problems.append(f"{len(wrong)} files of the manifest missing or cut, e.g. {wrong[0]}")
    return problems


def backed_up(
    live: Database,
    restored: Database,
    emails: list[str],
    seconds: float,
    logs: Path,
    workers: int = GUNICORN_WORKERS,
) -> Result:
    """The load with ``lms backup`` taken during it; the archive restored and checked."""
    archive = logs / "soak-backup.tar"
    archive.unlink(missing_ok=True)
    with LiveServer(live.environ(), workers, logs / "backup.log") as server:
        crowd = Crowd(server.url, emails, "backup").open()
        started = crowd.start()
        time.sleep(seconds * BACKUP_AT)
        backup_started = time.monotonic()
        made = _lms(live.environ(), "backup", str(archive))
        backup_ended = time.monotonic()
        time.sleep(max(started + seconds - time.monotonic(), 0.5))
        crowd.stop()
        ran = time.monotonic() - started
    if made.returncode != 0:
        return Result("backup", {}, 0, 0, [f"lms backup failed: {made.stderr.strip()}"])
    before_restore = time.monotonic()
    restore = _lms(restored.environ(), "restore", str(archive))
    restore_seconds = time.monotonic() - before_restore
    if restore.returncode != 0:
        return Result("backup", {}, 0, 0, [f"lms restore failed: {restore.stderr.strip()}"])

    live_kept = _checked(live.url, crowd)
    in_restore = _checked(restored.url, crowd, before=backup_started)
    manifest = backup.read_manifest(archive)
    during = sum(backup_started <= a.at <= backup_ended for s in crowd.autosavers for a in s.acks)
    figures = _load_figures(crowd, ran) | {
        "backup s": backup_ended - backup_started,
        "acknowledged while it ran": during,
        "archive MB": archive.stat().st_size / 1e6,
        "rows": sum(manifest.tables.values()),
        "files": len(manifest.files),
        "restore s": restore_seconds,
        "acknowledged before the backup": in_restore.checked,
        "present in the restore": in_restore.present,
        "later ones in it too": in_restore.extra,  # the snapshot is of a moment of the run
    }
    problems = crowd.failures() + _kept_problems(in_restore, "restore")
    problems += restore_problems(restored, manifest)
    if live_kept.lost or live_kept.disordered:
        problems.append(f"the live database lost {live_kept.lost} acknowledged saves")
        problems += _kept_problems(live_kept, "live database")
    return Result("backup", figures, in_restore.checked, in_restore.lost, problems)


# --- The run ------------------------------------------------------------------------------


def restore_target(live: Database, data_dir: Path) -> Database:
    """An empty database and data dir to restore into: a SQLite file in the data dir, or
    ``<name>_restore`` on the live database's PostgreSQL server (made afresh)."""
    if live.url.startswith("sqlite"):
        return make_database(None, data_dir)
    return make_database(live.url, data_dir, f"{make_url(live.url).database}_restore")


def learner_emails(db: Database, count: int) -> list[str]:
    """The first ``count`` learners of the seeded database."""
    engine = make_engine(db.url)
    try:
        with engine.connect() as connection:
            return list(
                connection.scalars(
                    select(User.email)
                    .where(User.role == Role.LEARNER)
                    .order_by(User.email)
                    .limit(count)
                )
            )
    finally:
        engine.dispose()


def durability(url: str) -> str:
    """The database's settings that decide when a commit is on disk, read from it."""
    engine = make_engine(url)
    try:
        with engine.connect() as c:
            if engine.dialect.name == "sqlite":
                journal = c.exec_driver_sql("PRAGMA journal_mode").scalar()
                level = c.exec_driver_sql("PRAGMA synchronous").scalar()
                level = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(level, level)
                return (
                    f"SQLite {sqlite3.sqlite_version} (journal_mode={journal}, synchronous={level})"
                )
            show = {
                n: c.exec_driver_sql(f"SHOW {n}").scalar()
                for n in ("server_version", "synchronous_commit", "fsync")
            }
            return (
                f"PostgreSQL {show['server_version']} (synchronous_commit="
                f"{show['synchronous_commit']}, fsync={show['fsync']})"
            )
    finally:
        engine.dispose()


def run(
    live: Database,
    restored: Database,
    *,
    learners: int,
    seconds: float,
    kills: int,
    rng: random.Random,
    logs: Path,
) -> list[Result]:
    """The three scenarios on a seeded database, one after the other; their results."""
    emails = learner_emails(live, learners)
    if len(emails) < learners:
        raise SystemExit(f"{learners} learners wanted; the database has {len(emails)}")
    results = []
    for scenario in (
        lambda: autosavers(live, emails, seconds, logs),
        lambda: killed(live, emails, seconds, kills, rng, logs),
        lambda: backed_up(live, restored, emails, seconds, logs),
    ):
        results.append(scenario())
        print(results[-1].line(), flush=True)
    return results


LOOKED_FOR = {
    "autosavers": "every acknowledged save, in the database",
    "kill -9": "every acknowledged save, in the database",
    "backup": "those acknowledged before the backup, in the restore",
}


def summary(results: list[Result]) -> str:
    """The table of every scenario's acknowledged and lost saves."""
    lines = [f"  {'scenario':11} {'acknowledged':>12} {'looked for':>10} {'lost':>5}  verdict"]
    for r in results:
        lines.append(
            f"  {r.name:11} {r.figures.get('acknowledged', 0):12,} {r.checked:10,} "
            f"{r.lost:5,}  {'PASS' if r.passed else 'FAIL'}  ({LOOKED_FOR[r.name]})"
        )
    return "\n".join(lines)


def _stop(signum: int, _frame) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--learners", type=int, default=LEARNERS)
    parser.add_argument("--seconds", type=float, default=SECONDS, help="of each scenario")
    parser.add_argument("--kills", type=int, default=KILLS, help="kill -9s in scenario b")
    parser.add_argument("--seed", type=int, help="of the kills' moments (default: random)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--logs", type=Path, help="keep gunicorn's logs and the archive here")
    args = parser.parse_args(argv)

    signal.signal(signal.SIGTERM, _stop)
    postgres_url = os.environ.pop("LMS_DATABASE_URL", "")
    if postgres_url and not postgres_url.startswith("postgresql"):
        raise SystemExit("LMS_DATABASE_URL: the soak runs on SQLite (unset) or PostgreSQL")
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**6)
    name = (make_url(postgres_url).database or "lms_soak") if postgres_url else None
    with tempfile.TemporaryDirectory(prefix="lms-soak-") as temporary:
        scratch = Path(temporary)
        if args.logs:
            shutil.rmtree(args.logs, ignore_errors=True)
            args.logs.mkdir(parents=True)
            scratch = args.logs.resolve()
        live = make_database(postgres_url, scratch / "live", name)
        restored = restore_target(live, scratch / "restored")
        try:
            settings = durability(live.url)
            print(
                f"Soak on {settings}; {platform.machine()}, {os.cpu_count()} cores, "
                f"Python {platform.python_version()}; gunicorn {GUNICORN_WORKERS} sync "
                f"workers; {args.learners} learners × {args.seconds:g} s a scenario, "
                f"{args.kills} kills (seed {seed}).",
                flush=True,
            )
            seeded = seed_database(live, args.learners, args.learners)
            print(f"  seeded in {seeded['seconds']:.1f} s", flush=True)
            results = run(
                live,
                restored,
                learners=args.learners,
                seconds=args.seconds,
                kills=args.kills,
                rng=random.Random(seed),  # noqa: S311  (moments to kill at, not a secret)
                logs=scratch,
            )
        finally:
            live.drop()
            restored.drop()
    print("\n" + summary(results))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "at": datetime.now(UTC).isoformat(timespec="minutes"),
                    "database": settings,
                    "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                    "settings": vars(args) | {"seed": seed, "json": str(args.json)},
                    "results": [
                        {"scenario": r.name, "checked": r.checked, "lost": r.lost}
                        | {"passed": r.passed}
                        | {"figures": r.figures, "problems": r.problems}
                        for r in results
                    ],
                },
                indent=2,
                default=str,
            )
            + "\n"
        )
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
