"""The benchmark: every hot path against this stack's own ceiling, with the issue's budgets.

    make bench                                    # SQLite, then PostgreSQL
    LMS_DATABASE_URL=postgresql+psycopg://USER@HOST/lms_bench make bench   # another server
    .venv/bin/python -m bench.run --backends sqlite --runs 3 --seconds 5 --connections 32

One run, on loopback, on SQLite and then on PostgreSQL (``--backends``; the PostgreSQL
server of LMS_DATABASE_URL, else the local one), each with steps 1–3 and 5:

1. seeds two databases (a large one, 10,000 learners and a cohort of 2,000, and a small
   one of 20 learners) with bench/seed.py; on PostgreSQL the database named in
   LMS_DATABASE_URL and a ``_small`` twin are created and dropped again;
2. in process, through Flask's test client: the time and the number of SQL statements
   of "My learning", the inbox (first page, filtered page) and the progress grid page
   at both sizes;
3. starts the app (the large database), the baseline app (bench/baseline.py) and the
   product's frame around the baseline's write (bench/frame.py) under gunicorn with the
   settings of ``lms serve``, signs a learner and a facilitator in, and drives every
   path with wrk: medians of ``--runs`` runs of ``--seconds`` each; then opens the
   learner's lesson in Chromium on an emulated slow phone (bench/mobile.py);
4. measures the import's peak memory (bench/import_memory.py);
5. runs the soak (bench/soak.py, docs/reliability.md): autosavers, kill -9, a backup
   restored, each with its acknowledged and lost saves (on PostgreSQL in a ``_soak``
   database of its own);
6. prints every figure with its ratio and PASS/FAIL, and exits 1 if a budget fails.

Ratios matter more than absolute figures: the machine may be shared and drift.
"""

from __future__ import annotations

import argparse
import contextlib
import http.cookiejar
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import make_url

from bench import mobile
from bench.frame import WRITE_PATH
from bench.seed import (
    BENCH_FACILITATOR,
    BENCH_LEARNER,
    BENCH_LEARNER_LESSONS,
    BENCH_MODULE,
    BENCH_PASSWORD,
    seed,
)

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GUNICORN_WORKERS = 3  # lms serve's default
LESSON_SLUG = f"lesson-{BENCH_LEARNER_LESSONS}"  # the bench learner's open lesson
SMALL_LEARNERS = 20
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')

# Budgets (issue 7, measured against the signed-in floors since issue 15).
LESSON_VS_HOME = 0.6
AUTOSAVE_VS_SIGNED_IN_WRITE = 0.7
HOME_VS_TEMPLATE = 0.5
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1/lms_bench"
P99_VS_P50 = 5.0
SCALE_TIME = 1.5
IMPORT_GROWTH_MB = 64


# --- Setting up -------------------------------------------------------------------------


def ensure_wrk() -> str:
    """The wrk binary, installed from the Debian package when it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: installing it with apt-get (Debian package).", flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "update"], check=True)  # noqa: S603  (fixed argv)
    subprocess.run([*sudo, "apt-get", "install", "-y", "wrk"], check=True)  # noqa: S603  (fixed argv)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk could not be installed: install it and run again.")
    return found


@dataclass
class Database:
    """One benchmark database: its URL and its data dir, and how to drop it."""

    url: str
    data_dir: Path
    drop: Callable[[], None] = lambda: None

    def environ(self) -> dict[str, str]:
        return {
            "LMS_DATABASE_URL": self.url,
            "LMS_DATA_DIR": str(self.data_dir),
            "LMS_SECRET_KEY": "benchmark secret key, not for production",
        }


def make_database(postgres_url: str | None, data_dir: Path, name: str | None = None) -> Database:
    """A database of its own and its data dir: on LMS_DATABASE_URL's PostgreSQL server a
    database ``name`` (the URL's by default) made afresh and dropped by ``drop()``, else a
    SQLite file in the data dir."""
    data_dir.mkdir(parents=True, exist_ok=True)
    if not postgres_url:
        return Database(f"sqlite:///{data_dir / 'lms.sqlite3'}", data_dir)
    url = make_url(postgres_url)
    name = name or url.database or "lms_bench"
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"Use a plain lower-case database name for the benchmark: {name}")
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    full = url.set(database=name).render_as_string(hide_password=False)
    return Database(full, data_dir, drop)


def make_databases(postgres_url: str | None, scratch: Path) -> tuple[Database, Database]:
    """A large and a small database: PostgreSQL ones when a URL is given, else SQLite files."""
    if not postgres_url:
        return make_database(None, scratch / "large"), make_database(None, scratch / "small")
    name = make_url(postgres_url).database or "lms_bench"
    large = make_database(postgres_url, scratch / "large", name)
    return large, make_database(postgres_url, scratch / "small", f"{name}_small")


def seed_database(db: Database, learners: int, cohort: int) -> dict[str, object]:
    """Migrate and seed the database in this process; the seed's summary."""
    from lms import create_app
    from lms.ops import migrate
    from lms.storage import Storage
    from lms.web.database import database

    app = create_app(db.environ())
    engine = database(app).engine
    migrate.upgrade(engine)
    session = database(app).new_session(write=True)
    try:
        summary = seed(session, Storage(db.data_dir), learners=learners, cohort_size=cohort)
    finally:
        session.close()
        engine.dispose()
    return {
        "counts": summary.counts,
        "seconds": summary.seconds,
        "cohort_id": summary.cohort_id,
        "module_id": summary.module_id,
    }


# --- In process: time and SQL statements at two sizes ----------------------------------


def _csrf(page: str) -> str:
    found = CSRF_META.search(page)
    if not found:
        raise RuntimeError("no CSRF token on the page")
    return found.group(1)


def _signed_in_app(db: Database, ids: dict[str, object]):
    """An app on the database, its engine, clients signed in, and the pages to measure."""
    from lms import create_app
    from lms.web.database import database

    app = create_app(db.environ())
    cohort, module = ids["cohort_id"], ids["module_id"]
    grid = f"/facilitate/cohorts/{cohort}/modules/{module}/progress"
    paths = {
        "my_learning": (BENCH_LEARNER, "/learning"),
        "inbox": (BENCH_FACILITATOR, "/facilitate/reflections"),
        "inbox_filtered": (
            BENCH_FACILITATOR,
            f"/facilitate/reflections?cohort={cohort}&module={module}&state=new",
        ),
        "grid": (BENCH_FACILITATOR, grid),
        "grid_by_progress": (BENCH_FACILITATOR, grid + "?sort=-progress"),
        "csv_export": (BENCH_FACILITATOR, grid.replace("/progress", "/progress.csv")),
    }
    clients = {}
    for email in (BENCH_LEARNER, BENCH_FACILITATOR):
        client = app.test_client()
        token = _csrf(client.get("/login").get_data(as_text=True))
        response = client.post(
            "/login", data={"email": email, "password": BENCH_PASSWORD, "csrf_token": token}
        )
        if response.status_code != 302:
            raise RuntimeError(f"{email} could not sign in ({response.status_code})")
        clients[email] = client
    return database(app).engine, {name: (clients[e], p) for name, (e, p) in paths.items()}


def _statements(engine, client, path: str) -> int:
    """The SQL statements one request runs (transaction control and pragmas aside)."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get(path)
        response.get_data()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}")
    return len(statements)


def measure_scale(
    small: Database, small_ids: dict, large: Database, large_ids: dict, repeats: int
) -> dict[str, dict[str, dict]]:
    """Median time (ms) and SQL statements of each page at both sizes.

    Requests to the two databases alternate, so that a busy moment on a shared machine
    weighs on both sizes alike.
    """
    sides = {
        "small": _signed_in_app(small, small_ids),
        "large": _signed_in_app(large, large_ids),
    }
    results: dict[str, dict[str, dict]] = {"small": {}, "large": {}}
    for name in sides["small"][1]:
        times: dict[str, list[float]] = {"small": [], "large": []}
        for side, (engine, pages) in sides.items():
            client, path = pages[name]
            for _ in range(3):
                client.get(path).get_data()
            results[side][name] = {"statements": _statements(engine, client, path)}
        for _ in range(repeats):
            for side, (_engine, pages) in sides.items():
                client, path = pages[name]
                started = time.perf_counter()
                client.get(path).get_data()
                times[side].append((time.perf_counter() - started) * 1000)
        for side, values in times.items():
            results[side][name] |= {
                "ms": statistics.median(values),
                "ms_min": min(values),
                "ms_max": max(values),
            }
    for engine, _pages in sides.values():
        engine.dispose()
    return results


# --- Over HTTP: gunicorn and wrk -------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn(app_spec: str, environ: dict[str, str], log: Path) -> Iterator[str]:
    """The app under gunicorn with lms serve's settings (sync workers) on a loopback port."""
    port = free_port()
    argv = [
        str(BIN / "gunicorn"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(GUNICORN_WORKERS),
        "--worker-class",
        "sync",
        "--timeout",
        "60",
        "--access-logfile",
        "-",
        app_spec,
    ]
    env = {**os.environ, **environ, "PYTHONPATH": str(ROOT)}
    with open(log, "ab") as out:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=out)  # noqa: S603  (our gunicorn, fixed argv)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start: see {log}") from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


class Browser:
    """A cookie-keeping client, to sign in and read CSRF tokens like a browser."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=60) as response:
            return response.read().decode()

    def sign_in(self, email: str) -> None:
        token = _csrf(self.get("/login"))
        data = urllib.parse.urlencode(
            {"email": email, "password": BENCH_PASSWORD, "csrf_token": token}
        ).encode()
        with self.opener.open(self.base + "/login", data=data, timeout=60) as response:
            response.read()
        if not any(c.name == "lms_session" for c in self.jar):
            raise RuntimeError(f"{email} could not sign in")

    @property
    def cookie(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


DONE_LUA = """
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "bad_status": %d, "socket_errors": %d, '
    .. '"p50_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid Lua string for these characters


def request_script(
    method: str = "GET", headers: dict[str, str] | None = None, body: str = ""
) -> str:
    """A wrk script sending one fixed request and reporting as JSON."""
    lines = [f"wrk.method = {_lua_string(method)}"]
    if body:
        lines.append(f"wrk.body = {_lua_string(body)}")
    for name, value in (headers or {}).items():
        lines.append(f"wrk.headers[{_lua_string(name)}] = {_lua_string(value)}")
    return "\n".join(lines) + "\n" + DONE_LUA


def write_script(
    first: int, last: int, path: str = "/write/", headers: dict[str, str] | None = None
) -> str:
    """A wrk script updating a random progress row through a write route (the baseline's,
    or the frame's with the signed-in learner's cookie and CSRF token in ``headers``)."""
    table = ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in (headers or {}).items())
    return (
        f"""
local headers = {{{table}}}
function init(args)
  math.randomseed(os.time())
end
function request()
  return wrk.format("POST", {_lua_string(path)} .. math.random({first}, {last}), headers, "")
end
"""
        + DONE_LUA
    )


def autosave_script(cookie: str, csrf: str, prompts: list[tuple[int, int]]) -> str:
    """A wrk script where each thread (one connection) autosaves its own prompt, as the page's
    script does: a JSON body with p<id>-body and p<id>-revision (the smaller encoding it
    takes for such a text), the CSRF token in a header and the body, Accept:
    application/json; each answer's revision is the base of the next save."""
    table = ", ".join(f"{{{pid}, {rev}}}" for pid, rev in prompts)
    return (
        f"""
local prompts = {{{table}}}
local cookie = {_lua_string(cookie)}
local csrf = {_lua_string(csrf)}
local text = "Autosaved while typing: I would start by listening to who repeats the rumours "
local assigned = 0
function setup(thread)
  assigned = assigned + 1
  thread:set("prompt_id", prompts[assigned][1])
  thread:set("revision", prompts[assigned][2])
end
function init(args)
  counter = 0
  math.randomseed(os.time() + prompt_id)
  salt = tostring(math.random(1, 1000000000))
  headers = {{}}
  headers["Cookie"] = cookie
  headers["X-CSRFToken"] = csrf
  headers["Accept"] = "application/json"
  headers["Content-Type"] = "application/json"
end
function request()
  counter = counter + 1
  local p = "p" .. prompt_id
  local body = '{{"csrf_token":"' .. csrf .. '","' .. p .. '-body":"' .. text .. salt .. " "
    .. counter .. '","' .. p .. '-revision":' .. revision .. "}}"
  return wrk.format("POST", "/prompts/" .. prompt_id .. "/answer", headers, body)
end
function response(status, headers, body)
  local r = string.match(body, '"revision":%s*(%d+)')
  if r then revision = tonumber(r) end
end
"""
        + DONE_LUA
    )


@dataclass
class Figure:
    """A path's wrk runs: requests per second and latencies, median and spread."""

    rps: list[float] = field(default_factory=list)
    p50_ms: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)
    bad: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.rps)

    def spread(self) -> str:
        return f"{min(self.rps):,.0f}–{max(self.rps):,.0f}"

    @property
    def p50(self) -> float:
        return statistics.median(self.p50_ms)

    @property
    def p99(self) -> float:
        return statistics.median(self.p99_ms)

    def as_dict(self) -> dict[str, object]:
        return {
            "rps": round(self.median, 1),
            "rps_min": round(min(self.rps), 1),
            "rps_max": round(max(self.rps), 1),
            "p50_ms": round(self.p50, 2),
            "p99_ms": round(self.p99, 2),
            "bad_responses": self.bad,
        }


def drain(url: str) -> None:
    """Wait for the requests wrk left queued at the end of a run: the next run starts idle.

    The server answers in turn, so a request sent now is answered after those.
    """
    parts = urllib.parse.urlsplit(url)
    try:
        with urllib.request.urlopen(f"{parts.scheme}://{parts.netloc}/", timeout=120) as answer:  # noqa: S310  (a loopback URL we built)
            answer.read()
    except urllib.error.HTTPError:
        pass  # the baseline has no "/": its 404 comes in turn all the same
    # Other workers may still be finishing a request or two of the run.
    time.sleep(1)


@dataclass(frozen=True)
class Target:
    """A path to drive: its name, URL and wrk script (made afresh for every run)."""

    name: str
    url: str
    script: Callable[[], str]
    one_thread_per_connection: bool = False


class Load:
    """Runs wrk: a short warm-up, then the measured runs."""

    def __init__(self, wrk: str, scratch: Path, args: argparse.Namespace) -> None:
        self.wrk = wrk
        self.scratch = scratch
        self.args = args

    def once(self, url: str, script: str, seconds: float, threads: int, connections: int) -> dict:
        path = self.scratch / "wrk.lua"
        path.write_text(script)
        run = subprocess.run(  # noqa: S603  (wrk with a fixed argv)
            [
                self.wrk,
                f"-t{threads}",
                f"-c{connections}",
                f"-d{seconds:g}s",
                "--timeout",
                "30s",
                "-s",
                str(path),
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        line = next(line for line in run.stdout.splitlines() if line.startswith("BENCH "))
        return json.loads(line[len("BENCH ") :])

    def measure(self, *paths: Target) -> dict[str, Figure]:
        """Each path's figure; runs take turns path by path, so drift on a shared machine
        weighs on a product path and the baseline it is compared with alike."""
        figures = {path.name: Figure() for path in paths}
        for path in paths:
            self.once(path.url, path.script(), 1, *self._shape(path))
            drain(path.url)
        for _ in range(self.args.runs):
            for path in paths:
                result = self.once(path.url, path.script(), self.args.seconds, *self._shape(path))
                drain(path.url)
                figure = figures[path.name]
                figure.rps.append(result["requests"] / (result["duration_us"] / 1e6))
                figure.p50_ms.append(result["p50_us"] / 1000)
                figure.p99_ms.append(result["p99_us"] / 1000)
                figure.bad += result["bad_status"] + result["socket_errors"]
        return figures

    def _shape(self, path: Target) -> tuple[int, int]:
        connections = self.args.connections
        if path.one_thread_per_connection:
            return connections, connections
        return min(self.args.threads, connections), connections


def autosave_prompts(db: Database, count: int) -> list[tuple[int, int]]:
    """(prompt id, revision) of prompts the bench learner may answer, one per connection."""
    from lms.models import Lesson, LessonProgress, Module, Prompt, Reflection, User

    engine = create_engine(db.url)
    with engine.connect() as conn:
        user_id = conn.scalar(select(User.id).where(User.email == BENCH_LEARNER))
        rows = conn.execute(
            select(Prompt.id, Reflection.revision_count)
            .join(Lesson, Lesson.id == Prompt.lesson_id)
            .join(Module, Module.id == Lesson.module_id)
            .join(
                LessonProgress,
                (LessonProgress.lesson_id == Lesson.id) & (LessonProgress.user_id == user_id),
            )
            .outerjoin(
                Reflection, (Reflection.prompt_id == Prompt.id) & (Reflection.user_id == user_id)
            )
            .where(Module.slug == BENCH_MODULE)
            .order_by(Lesson.position, Prompt.position)
        ).all()
    engine.dispose()
    if len(rows) < count:
        raise SystemExit(f"{count} connections need {count} prompts; the learner has {len(rows)}")
    return [(pid, rev or 0) for pid, rev in rows[:count]]


def first_ids(db: Database) -> tuple[int, list[int]]:
    """A lesson of the 40-lesson module, and the first and last progress row ids."""
    from lms.models import Lesson, LessonProgress, Module

    engine = create_engine(db.url)
    with engine.connect() as conn:
        lesson_id = conn.scalar(
            select(Lesson.id)
            .join(Module, Module.id == Lesson.module_id)
            .where(Module.slug == BENCH_MODULE, Lesson.slug == LESSON_SLUG)
        )
        progress_ids = list(
            conn.execute(select(func.min(LessonProgress.id), func.max(LessonProgress.id))).one()
        )
    engine.dispose()
    return lesson_id, progress_ids


def hash_cost() -> tuple[str, float]:
    """The password hash's method and parameters, and the time (ms) of one hash here."""
    from lms.people.credentials import hash_password

    started = time.perf_counter()
    hashed = hash_password(BENCH_PASSWORD)
    return hashed.split("$", 1)[0], (time.perf_counter() - started) * 1000


def import_memory(lessons: int, attachments_mb: int) -> dict[str, float]:
    """bench/import_memory.py's figures: the import's peak memory growth."""
    run = subprocess.run(  # noqa: S603  (this interpreter and our script)
        [
            sys.executable,
            str(ROOT / "bench" / "import_memory.py"),
            "--lessons",
            str(lessons),
            "--attachments-mb",
            str(attachments_mb),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    print(run.stdout.rstrip())
    if run.returncode not in (0, 1):
        print(run.stderr, file=sys.stderr)
        raise RuntimeError("bench/import_memory.py failed")
    growth = re.search(r"peak RSS growth:\s+([\d.]+) MB", run.stdout)
    idle = re.search(r"idle app RSS:\s+([\d.]+) MB", run.stdout)
    return {"growth_mb": float(growth.group(1)), "idle_mb": float(idle.group(1))}


def soak(postgres_url: str, learners: int, seconds: float) -> dict[str, object]:
    """bench/soak.py's figures, run in its own process as ``make soak`` runs it."""
    env = dict(os.environ)
    if postgres_url:
        url = make_url(postgres_url)
        name = f"{url.database or 'lms_bench'}_soak"
        env["LMS_DATABASE_URL"] = url.set(database=name).render_as_string(hide_password=False)
    with tempfile.TemporaryDirectory(prefix="lms-bench-soak-") as scratch:
        out = Path(scratch) / "soak.json"
        argv = ["--learners", str(learners), "--seconds", f"{seconds:g}", "--json", str(out)]
        run = subprocess.run(  # noqa: S603  (this interpreter and our module)
            [sys.executable, "-m", "bench.soak", *argv], cwd=ROOT, env=env, check=False
        )
        if run.returncode not in (0, 1) or not out.is_file():
            raise RuntimeError("bench/soak.py failed")
        return json.loads(out.read_text())


# --- The report -------------------------------------------------------------------------


class Report:
    """Lines of figures, and the verdict of every budget (named for the database it ran on)."""

    def __init__(self) -> None:
        self.failed: list[str] = []
        self.checks: list[dict[str, object]] = []
        self.prefix = ""

    def check(self, name: str, passed: bool, detail: str) -> None:
        name = self.prefix + name
        verdict = "PASS" if passed else "FAIL"
        self.checks.append({"budget": name, "pass": passed, "detail": detail})
        if not passed:
            self.failed.append(name)
        print(f"  {verdict}  {name}: {detail}")


def _stop(signum: int, _frame) -> None:
    raise SystemExit(128 + signum)


def bench_backend(
    backend: str, postgres_url: str, args: argparse.Namespace, wrk: str, report: Report
) -> dict[str, object]:
    """Seed, measure in process and over HTTP, and check the budgets on one database."""
    results: dict[str, object] = {"backend": backend}
    with tempfile.TemporaryDirectory(prefix="lms-bench-") as temporary:
        scratch = Path(temporary)
        if args.logs:
            shutil.rmtree(args.logs, ignore_errors=True)
            args.logs.mkdir(parents=True)
            scratch = args.logs.resolve()
        large, small = make_databases(postgres_url, scratch)
        try:
            print(f"Benchmark on {backend}; {platform.machine()}, {os.cpu_count()} cores.")
            print(f"Seeding {args.learners:,} learners (cohort of {args.cohort:,})...", flush=True)
            seeded = seed_database(large, args.learners, args.cohort)
            counts = ", ".join(f"{v:,} {k}" for k, v in seeded["counts"].items())
            print(f"  {counts} in {seeded['seconds']:.1f} s")
            small_seeded = seed_database(small, SMALL_LEARNERS, SMALL_LEARNERS)
            results["seed"] = {"large": seeded, "small": small_seeded}

            print("\nPages whose cost must not grow with the number of learners (in process):")
            scale = measure_scale(small, small_seeded, large, seeded, args.repeats)
            at_small, at_large = scale["small"], scale["large"]
            results["scale"] = scale
            print(f"  {'page':18} {'20 learners':>18} {'10,000 learners':>20} {'ratio':>7}")
            for name in at_small:
                a, b = at_small[name], at_large[name]
                print(
                    f"  {name:18} {a['ms']:8.2f} ms {a['statements']:3d} SQL "
                    f"{b['ms']:10.2f} ms {b['statements']:3d} SQL {b['ms'] / a['ms']:6.2f}x"
                )
            for name in ("my_learning", "inbox", "inbox_filtered", "grid"):
                a, b = at_small[name], at_large[name]
                ratio = b["ms"] / a["ms"]
                report.check(
                    f"{name} time at {args.learners:,} ≤ {SCALE_TIME}× at {SMALL_LEARNERS}",
                    ratio <= SCALE_TIME,
                    f"{b['ms']:.2f} ms / {a['ms']:.2f} ms = {ratio:.2f}×",
                )
                report.check(
                    f"{name} SQL statements the same at both sizes",
                    a["statements"] == b["statements"],
                    f"{a['statements']} and {b['statements']}",
                )
            report.check(
                "csv_export SQL statements the same at both sizes",
                at_small["csv_export"]["statements"] == at_large["csv_export"]["statements"],
                f"{at_small['csv_export']['statements']} and "
                f"{at_large['csv_export']['statements']}",
            )

            print(
                f"\nThroughput over HTTP (gunicorn, {GUNICORN_WORKERS} sync workers; wrk "
                f"{args.connections} connections; median of {args.runs} × {args.seconds:g} s):",
                flush=True,
            )
            lesson_id, progress_ids = first_ids(large)
            load = Load(wrk, scratch, args)
            figures: dict[str, Figure] = {}
            with gunicorn("lms:create_app()", large.environ(), scratch / "app.log") as app_url:
                learner = Browser(app_url)
                learner.sign_in(BENCH_LEARNER)
                lesson_path = f"/modules/{BENCH_MODULE}/lessons/{LESSON_SLUG}"
                page = learner.get(lesson_path)
                learner_csrf = _csrf(page)
                page_bytes = len(page.encode())
                staff = Browser(app_url)
                staff.sign_in(BENCH_FACILITATOR)
                anonymous = Browser(app_url)
                login_csrf = _csrf(anonymous.get("/login"))

                def get(browser: Browser) -> Callable[[], str]:
                    return lambda: request_script(headers={"Cookie": browser.cookie})

                baseline_env = large.environ() | {"BENCH_PAGE_BYTES": str(page_bytes)}
                with (
                    gunicorn(
                        "bench.baseline:create_app()", baseline_env, scratch / "baseline.log"
                    ) as base_url,
                    # The product with the write route's statement behind its signed-in
                    # frame; the same database and secret: the learner's cookie holds.
                    gunicorn(
                        "bench.frame:create_app()", large.environ(), scratch / "frame.log"
                    ) as frame_url,
                ):
                    baseline_bytes = len(Browser(base_url).get(f"/page/{lesson_id}").encode())
                    print(f"  lesson page {page_bytes:,} bytes; baseline page {baseline_bytes:,}")
                    figures |= load.measure(
                        Target("baseline_template", f"{base_url}/page/{lesson_id}", request_script),
                        Target("lesson_page", app_url + lesson_path, get(learner)),
                        # The floor under every signed-in page: the layout and the user only.
                        Target("signed_in_home", app_url + "/", get(learner)),
                    )
                    figures |= load.measure(
                        Target(
                            "baseline_write",
                            base_url,
                            lambda: write_script(progress_ids[0], progress_ids[-1]),
                        ),
                        # The floor under every signed-in write: the frame and one UPDATE.
                        Target(
                            "signed_in_write",
                            frame_url,
                            lambda: write_script(
                                progress_ids[0],
                                progress_ids[-1],
                                WRITE_PATH,
                                {"Cookie": learner.cookie, "X-CSRFToken": learner_csrf},
                            ),
                        ),
                        Target(
                            "autosave",
                            app_url,
                            lambda: autosave_script(
                                learner.cookie,
                                learner_csrf,
                                autosave_prompts(large, args.connections),
                            ),
                            one_thread_per_connection=True,
                        ),
                    )
                cohort, module = seeded["cohort_id"], seeded["module_id"]
                grid = f"/facilitate/cohorts/{cohort}/modules/{module}/progress"
                login_body = urllib.parse.urlencode(
                    {"email": BENCH_LEARNER, "password": BENCH_PASSWORD, "csrf_token": login_csrf}
                )
                figures |= load.measure(
                    Target("my_learning", app_url + "/learning", get(learner)),
                    Target("catalog", app_url + "/modules", get(learner)),
                    Target("inbox", app_url + "/facilitate/reflections", get(staff)),
                    Target(
                        "inbox_filtered",
                        app_url
                        + f"/facilitate/reflections?cohort={cohort}&module={module}&state=new",
                        get(staff),
                    ),
                    Target("grid", app_url + grid, get(staff)),
                    Target("csv_export", app_url + grid + ".csv", get(staff)),
                    Target(
                        "login",
                        app_url + "/login",
                        lambda: request_script(
                            "POST",
                            {
                                "Cookie": anonymous.cookie,
                                "Content-Type": "application/x-www-form-urlencoded",
                            },
                            login_body,
                        ),
                    ),
                )
                # The same lesson, cold and warm, in a real browser on an emulated slow phone.
                phone = None
                if not args.skip_mobile:
                    phone = mobile.measure_lesson_load(
                        app_url, BENCH_LEARNER, BENCH_PASSWORD, lesson_path, args.runs
                    )

            template = figures["baseline_template"].median
            print(
                f"  {'path':18} {'req/s':>8} {'spread':>13} {'p50 ms':>8} {'p99 ms':>8}"
                f" {'vs template':>11}"
            )
            for name, figure in figures.items():
                print(
                    f"  {name:18} {figure.median:8,.0f} {figure.spread():>13} {figure.p50:8.2f} "
                    f"{figure.p99:8.2f} {figure.median / template:10.2f}×"
                    + (f"  ({figure.bad} bad responses)" if figure.bad else "")
                )
            results["http"] = {name: f.as_dict() for name, f in figures.items()}
            results["page_bytes"] = {"lesson": page_bytes, "baseline": baseline_bytes}
            for name, figure in figures.items():
                if figure.bad:
                    report.check(f"{name} answers", False, f"{figure.bad} errors or bad statuses")
            lesson, autosave = figures["lesson_page"], figures["autosave"]
            home, signed_in_write = figures["signed_in_home"], figures["signed_in_write"]
            write = figures["baseline_write"].median
            for name, part, whole, budget in (
                ("lesson page", lesson, home, LESSON_VS_HOME),
                ("autosave", autosave, signed_in_write, AUTOSAVE_VS_SIGNED_IN_WRITE),
            ):
                ratio = part.median / whole.median
                floor_name = "signed-in home" if whole is home else "signed-in write"
                report.check(
                    f"{name} ≥ {budget}× the {floor_name}",
                    ratio >= budget,
                    f"{part.median:,.0f} / {whole.median:,.0f} req/s = {ratio:.2f}×",
                )
            ratio = home.median / template
            report.check(
                f"signed-in home ≥ {HOME_VS_TEMPLATE}× the baseline template route",
                ratio >= HOME_VS_TEMPLATE,
                f"{home.median:,.0f} / {template:,.0f} req/s = {ratio:.2f}×",
            )
            for name in ("lesson_page", "autosave"):
                figure = figures[name]
                ratio = figure.p99 / figure.p50
                report.check(
                    f"{name} p99 ≤ {P99_VS_P50:g}× p50 at {args.connections} connections",
                    ratio <= P99_VS_P50,
                    f"{figure.p99:.1f} ms / {figure.p50:.1f} ms = {ratio:.2f}×",
                )
            floor = home.median / template
            write_floor = signed_in_write.median / write
            results["signed_in_floor"] = round(floor, 3)
            results["signed_in_write_floor"] = round(write_floor, 3)
            print(
                f"  a signed-in page that renders only the layout (the home page) runs at "
                f"{floor:.2f}× the template route: no signed-in page can do better"
            )
            print(
                f"  a signed-in POST that runs only the write route's UPDATE runs at "
                f"{write_floor:.2f}× the write route: no signed-in write can do better"
            )
            method, ms = hash_cost()
            results["login"] = {"hash": method, "hash_ms": round(ms, 1)}
            print(
                f"  login: {figures['login'].median:,.0f} req/s, bounded by the password hash "
                f"({method}, {ms:.0f} ms per hash in one process)"
            )
            if phone:
                print(
                    f"\nThe lesson on a slow phone (bench/mobile.py; {phone['browser']}; "
                    f"{mobile.CONDITIONS}; median of {args.runs} runs):"
                )
                mobile.print_figures(phone)
                results["mobile"] = phone
                for name, passed, detail in mobile.budgets(phone):
                    report.check(name, passed, detail)
        finally:
            large.drop()
            small.drop()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--cohort", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", 3)))
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_SECONDS", 5)))
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=30, help="in-process timings per page")
    parser.add_argument("--import-lessons", type=int, default=200)
    parser.add_argument("--import-mb", type=int, default=100)
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--soak-learners", type=int, default=50)
    parser.add_argument("--soak-seconds", type=float, default=20, help="of each soak scenario")
    parser.add_argument("--skip-soak", action="store_true")
    parser.add_argument("--skip-mobile", action="store_true", help="no lesson on a slow phone")
    parser.add_argument(
        "--backends",
        type=lambda v: [b for b in v.split(",") if b],
        default=["sqlite", "postgresql"],
        help="comma-separated: sqlite, postgresql (both by default, one after the other)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--logs", type=Path, help="keep gunicorn's logs (and the SQLite files) in this folder"
    )
    args = parser.parse_args(argv)

    started = time.monotonic()
    # Stopped (SIGTERM or Ctrl+C), the runner still stops its servers and drops its databases.
    signal.signal(signal.SIGTERM, _stop)
    wrk = ensure_wrk()
    if not args.skip_mobile:
        mobile.chromium()  # missing, it is said now rather than after the seeding
    postgres_url = os.environ.get("LMS_DATABASE_URL") or DEFAULT_POSTGRES_URL
    if not postgres_url.startswith("postgresql"):
        raise SystemExit("LMS_DATABASE_URL: the benchmark's second database is PostgreSQL")
    os.environ.pop("LMS_DATABASE_URL", None)  # each app gets its own database below
    results: dict[str, object] = {
        "backends": args.backends,
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "settings": vars(args) | {"json": str(args.json) if args.json else None},
    }
    report = Report()

    for backend in args.backends:
        url = "" if backend == "sqlite" else postgres_url
        report.prefix = f"[{backend}] "
        print(f"\n=== {backend} ===", flush=True)
        results[backend] = bench_backend(backend, url, args, wrk, report)
        if not args.skip_soak:
            print("\nSoak (bench/soak.py): no acknowledged save may be lost", flush=True)
            soaked = soak(url, args.soak_learners, args.soak_seconds)
            results[backend]["soak"] = soaked
            for scenario in soaked["results"]:
                report.check(
                    f"soak, {scenario['scenario']}: no acknowledged save lost",
                    scenario["passed"],
                    f"{scenario['checked']:,} acknowledged saves looked for, "
                    f"{scenario['lost']} lost",
                )
    report.prefix = ""

    if not args.skip_import:
        print("\nImport memory (bench/import_memory.py):", flush=True)
        memory = import_memory(args.import_lessons, args.import_mb)
        results["import"] = memory
        report.check(
            f"import peak memory growth < {IMPORT_GROWTH_MB} MB",
            memory["growth_mb"] < IMPORT_GROWTH_MB,
            f"{memory['growth_mb']:.1f} MB over an idle app of {memory['idle_mb']:.1f} MB",
        )

    results["checks"] = report.checks
    results["minutes"] = round((time.monotonic() - started) / 60, 1)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(
        f"\n{len(report.checks) - len(report.failed)} of {len(report.checks)} budgets pass "
        f"({results['minutes']} minutes)."
    )
    for name in report.failed:
        print(f"  FAIL  {name}")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
