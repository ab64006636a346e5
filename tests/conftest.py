"""Fixtures in the flaskr shape: app, client, runner, auth, and factories (make_user).

Every test gets a fresh database of its own: on SQLite a copy of a file migrated
once per test process; on PostgreSQL (LMS_TEST_DATABASE=postgresql) a database
created from a migrated template and dropped afterwards.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session

from lms import create_app
from lms.db import make_engine
from lms.models import Cohort, Role, User
from lms.ops import migrate
from lms.storage import Storage
from lms.web.database import database
from lms.web.storage import storage as storage_of
from tests import factories
from tests.factories import PASSWORD
from tests.servers import LiveServer

POSTGRES_ADMIN_URL = os.environ.get(
    "LMS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI") == "true"


def _backend() -> str:
    return os.environ.get("LMS_TEST_DATABASE", "sqlite")


def skip_or_fail(reason: str) -> None:
    """Skip with the reason on a developer's machine; in CI nothing may be skipped."""
    if IN_CI:
        pytest.fail(f"{reason} (CI must run every test)")
    pytest.skip(reason)


def _postgres_admin():
    engine = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        engine.connect().close()
    except Exception as error:  # noqa: BLE001  (any failure means: no server to test on)
        engine.dispose()
        skip_or_fail(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {error}")
    return engine


def _postgres_url(name: str) -> str:
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def database_template(tmp_path_factory) -> Iterator[str]:
    """A migrated, empty database that each test's database is copied from."""
    if _backend() == "postgresql":
        admin = _postgres_admin()
        name = f"lms_template_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine = make_engine(_postgres_url(name))
        migrate.upgrade(engine)
        engine.dispose()
        yield name
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("template") / "template.sqlite3"
        engine = make_engine(f"sqlite:///{path}")
        migrate.upgrade(engine)
        engine.dispose()
        yield str(path)


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for this test alone."""
    if _backend() == "postgresql":
        admin = _postgres_admin()
        name = f"lms_test_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{database_template}"'))
        yield _postgres_url(name)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        path = tmp_path / "lms.sqlite3"
        shutil.copyfile(database_template, path)
        yield f"sqlite:///{path}"


@pytest.fixture(scope="session")
def static_dir(tmp_path_factory) -> str:
    """One folder of built static files for the session: each app reads it, none rebuilds."""
    return str(tmp_path_factory.mktemp("static"))


@pytest.fixture
def environ(tmp_path: Path, database_url: str, static_dir: str) -> dict[str, str]:
    """The LMS_* environment of this test's app (and of any server process it starts)."""
    return {
        "LMS_DATA_DIR": str(tmp_path / "data"),
        "LMS_DATABASE_URL": database_url,
        "LMS_SECRET_KEY": "test secret key, not for production",
        "LMS_BASE_URL": "http://lms.test",
        "LMS_STATIC_DIR": static_dir,
    }


@pytest.fixture
def app(environ: dict[str, str]) -> Iterator[Flask]:
    app = create_app(environ, {"TESTING": True})
    yield app
    database(app).engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    """A session on the test's database, for arranging data and checking what was stored."""
    session = database(app).new_session(write=True)
    yield session
    session.close()


@pytest.fixture
def make_user(db: Session) -> Callable[..., User]:
    """factories.make_user on the test's session: make_user(Role.ADMIN, email=...)."""
    return partial(factories.make_user, db)


@pytest.fixture
def cohort_with_staff(make_user, db: Session) -> tuple[Cohort, User, User]:
    """A cohort with a facilitator and a learner, as (cohort, facilitator, learner)."""
    facilitator = make_user(Role.FACILITATOR)
    learner = make_user()
    cohort = factories.make_cohort(db, facilitators=[facilitator], learners=[learner])
    return cohort, facilitator, learner


def csrf_token(client: FlaskClient, path: str = "/") -> str:
    """The CSRF token of the client's session, read from a page as a browser would."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


class Auth:
    """Sign a test client in and out through the real forms."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, email: str, password: str = PASSWORD, remember: bool = False, **kw):
        data = {
            "email": email,
            "password": password,
            "csrf_token": csrf_token(self.client, "/login"),
        }
        if remember:
            data["remember"] = "y"
        return self.client.post("/login", data=data, **kw)

    def logout(self):
        return self.client.post("/logout", data={"csrf_token": csrf_token(self.client)})

    def post(self, path: str, data: dict | None = None, **kw):
        """POST a form with this session's CSRF token added."""
        return self.client.post(
            path, data={**(data or {}), "csrf_token": csrf_token(self.client)}, **kw
        )


@pytest.fixture
def auth(client: FlaskClient) -> Auth:
    return Auth(client)


@pytest.fixture
def live_server(environ: dict[str, str], tmp_path: Path) -> Iterator[LiveServer]:
    """The app under gunicorn (two sync workers) on a free loopback port."""
    with LiveServer(environ, workers=2, log_path=tmp_path / "gunicorn.log") as server:
        yield server


class QueryCounter:
    """Counts the SQL statements the app's engine runs inside each `with` block.

    Each block gives its own frozen recording, so two counts taken one after the
    other are never the same list.
    """

    def __init__(self, engine) -> None:
        self.engine = engine

    def __enter__(self) -> Recording:
        self._recording = Recording()
        event.listen(self.engine, "before_cursor_execute", self._recording.add)
        return self._recording

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._recording.add)
        self._recording.stopped = True


class Recording:
    """The statements of one `with count_queries` block."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.stopped = False

    def add(self, _conn, _cursor, statement, *_args) -> None:
        skipped = ("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA")
        if not self.stopped and not statement.lstrip().upper().startswith(skipped):
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app: Flask) -> QueryCounter:
    """`with count_queries as q: client.get(...)`, then `q.count` is the statements run."""
    return QueryCounter(database(app).engine)


# --- Targets: a second, fresh database and data dir --------------------------------


@dataclass
class Target:
    """A fresh database and data dir to restore into, with an app over them."""

    app: Flask
    data_dir: Path

    @property
    def engine(self) -> Engine:
        return database(self.app).engine

    def restore(self, archive: Path, *args: str):
        return self.app.test_cli_runner().invoke(args=["restore", str(archive), *args])


@pytest.fixture
def make_target(
    database_template: str, tmp_path: Path, static_dir: str
) -> Iterator[Callable[..., Target]]:
    """make_target(migrated=True): a new database (migrated, or with no schema at all)."""
    apps: list[Flask] = []
    databases: list[str] = []
    admin = _postgres_admin() if _backend() == "postgresql" else None

    def make(migrated: bool = True) -> Target:
        n = len(apps) + 1
        if _backend() == "postgresql":
            name = f"lms_restore_{uuid.uuid4().hex[:12]}"
            template = f' TEMPLATE "{database_template}"' if migrated else ""
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"{template}'))
            databases.append(name)
            url = _postgres_url(name)
        else:
            path = tmp_path / f"target-{n}.sqlite3"
            if migrated:
                shutil.copyfile(database_template, path)
            url = f"sqlite:///{path}"
        data_dir = tmp_path / f"target-{n}-data"
        environ = {
            "LMS_DATA_DIR": str(data_dir),
            "LMS_DATABASE_URL": url,
            "LMS_SECRET_KEY": "test secret key, not for production",
            "LMS_BASE_URL": "http://lms.test",
            "LMS_STATIC_DIR": static_dir,
        }
        app = create_app(environ, {"TESTING": True})
        apps.append(app)
        return Target(app, data_dir)

    yield make
    for app in apps:
        database(app).engine.dispose()
    if admin is not None:
        with admin.connect() as conn:
            for name in databases:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- The app's data dir and its Storage ---------------------------------------------


@pytest.fixture
def data_dir(app) -> Path:
    """The test app's data dir."""
    return Path(app.config["LMS_DATA_DIR"])


@pytest.fixture
def storage(app) -> Storage:
    """The test app's one Storage, as its views use it."""
    return storage_of(app)
