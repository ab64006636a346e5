"""Faults for the tests of "no lost work": learners over HTTP, held locks, a database that goes.

Nothing here imitates the app: a learner is urllib with a cookie jar talking to the real
server, a lock is a transaction held open in a real database, and a database that goes
away is a TCP proxy between the app and PostgreSQL that the test stops and starts.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import re
import socket
import sqlite3
import subprocess
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from lms.models import Enrollment, LessonProgress, Reflection, ReflectionRevision, Role, User
from tests import factories
from tests.conftest import PASSWORD
from tests.servers import free_port

LOCK_TIMEOUT_MS = 500  # the test servers' LMS_DB_LOCK_TIMEOUT_MS, so a held lock fails fast


@dataclass
class Reply:
    """What the server said to one request: status, headers and body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


class Learner:
    """A learner's browser without the page: cookies, the CSRF header, autosave requests."""

    def __init__(self, base: str, prompt_id: int) -> None:
        self.base = base
        self.prompt_id = prompt_id
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.token = ""

    def request(
        self, path: str, data: bytes | None = None, headers: dict | None = None, timeout=30
    ) -> Reply:
        req = urllib.request.Request(self.base + path, data=data, headers=headers or {})  # noqa: S310
        try:
            with self.opener.open(req, timeout=timeout) as response:
                return Reply(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            with error:
                return Reply(error.code, dict(error.headers), error.read())

    def read_token(self, path: str) -> None:
        page = self.request(path).body.decode()
        self.token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)

    def sign_in(self, email: str, password: str = PASSWORD) -> None:
        self.read_token("/login")
        answer = self.post("/login", {"email": email, "password": password})
        assert answer.status == 200, answer
        self.read_token("/my-work")  # the session was renewed at sign-in

    def post(self, path: str, fields: dict[str, str], timeout=30) -> Reply:
        body = urllib.parse.urlencode(fields).encode()
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/x-www-form-urlencoded",
            "X-CSRFToken": self.token,
        }
        return self.request(path, body, headers, timeout)

    def autosave(self, text: str, revision: int, timeout=30) -> Reply:
        """What autosave.js sends: the text and the revision it is based on."""
        p = self.prompt_id
        return self.post(
            f"/prompts/{p}/answer", {f"p{p}-body": text, f"p{p}-revision": str(revision)}, timeout
        )

    def multipart(self, filename: str, content: bytes) -> tuple[bytes, dict[str, str]]:
        """An upload form's body and headers, as upload.js sends it."""
        boundary = uuid.uuid4().hex
        body = b"".join(
            [
                f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
                f"{self.token}\r\n".encode(),
                f'--{boundary}\r\nContent-Disposition: form-data; name="u{self.prompt_id}-files";'
                f' filename="{filename}"\r\nContent-Type: text/plain\r\n\r\n'.encode(),
                content,
                f"\r\n--{boundary}--\r\n".encode(),
            ]
        )
        headers = {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Accept": "application/json",
        }
        return body, headers


def learners_on_a_prompt(db: Session, data_dir: str, count: int) -> tuple[int, list[User]]:
    """A module with one lesson whose prompt takes files, and learners who opened it."""
    module = factories.make_module(
        db, lessons=1, prompts=[{"accepts_files": True}], data_dir=data_dir
    )
    lesson = module.lessons[0]
    prompt_id = lesson.prompts[0].id
    learners = factories.make_users(db, *[Role.LEARNER] * count)
    for learner in learners:
        db.add(Enrollment(user_id=learner.id, module_id=module.id, last_lesson_id=lesson.id))
        db.add(LessonProgress(user_id=learner.id, lesson_id=lesson.id))
    # Committed, with no transaction left open: on SQLite it would hold the write lock.
    db.commit()
    return prompt_id, learners


def revisions(db: Session, user: User, prompt_id: int) -> list[tuple[int, str]]:
    """The learner's revisions of their answer, oldest first, as (number, text)."""
    rows = db.execute(
        select(ReflectionRevision.number, ReflectionRevision.body)
        .join(Reflection)
        .where(Reflection.user_id == user.id, Reflection.prompt_id == prompt_id)
        .order_by(ReflectionRevision.number)
    ).all()
    db.rollback()  # no transaction left open: on SQLite the test's session writes
    return [tuple(row) for row in rows]


def current_text(db: Session, user: User, prompt_id: int) -> str | None:
    """The answer's text as the learner's page shows it."""
    text = db.scalar(
        select(Reflection.current_body).where(
            Reflection.user_id == user.id, Reflection.prompt_id == prompt_id
        )
    )
    db.rollback()
    return text


@contextlib.contextmanager
def locked(database_url: str, table: str = "reflection") -> Iterator[None]:
    """Hold a lock another connection would take, as a long transaction elsewhere does.

    SQLite: the database's write lock (BEGIN IMMEDIATE). PostgreSQL: the table, in
    ACCESS EXCLUSIVE mode, so that even reading it waits.
    """
    if database_url.startswith("sqlite"):
        conn = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
    else:
        import psycopg

        conn = psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://"))
        conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    try:
        yield
    finally:
        conn.rollback()
        conn.close()


class TcpProxy:
    """A TCP relay on a free loopback port to a target port, stopped and started at will.

    Stopped, it closes every connection it relays and refuses new ones: to the app it
    is a database server that went away. Started again, it listens on the same port.
    """

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> TcpProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def stop(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, set()
        if listener is not None:
            # shutdown wakes the accept() blocked in the relay's thread; close alone does not.
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                if self._listener is not listener:  # stopped meanwhile
                    client.close()
                    upstream.close()
                    return
                self._sockets.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        # One side closed: close both (shutdown first wakes the other pump's recv).
        with self._lock:
            self._sockets.difference_update((source, sink))
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class Outage:
    """A database that goes away and comes back, for a server started with ``environ``.

    PostgreSQL: the app reaches the shared server through a TcpProxy that ``down()``
    stops (every connection cut, new ones refused) and ``up()`` starts again. SQLite has
    no server to lose and its file stays open in the workers (pooled connections keep
    their handle whatever happens to the path), so its outage is another process holding
    the database for the whole time: writes wait, then fail; reads go on (WAL).
    """

    def __init__(self, database_url: str, environ: dict[str, str]) -> None:
        self.database_url = database_url
        self.url = make_url(database_url)
        self.proxy: TcpProxy | None = None
        self.environ = dict(environ)
        self.held = contextlib.ExitStack()
        self.reads_go_on = self.url.get_backend_name() == "sqlite"
        if not self.reads_go_on:
            self.proxy = TcpProxy(self.url.port or 5432).start()
            proxied = self.url.set(host="127.0.0.1", port=self.proxy.port)
            self.environ["LMS_DATABASE_URL"] = proxied.render_as_string(hide_password=False)

    def down(self) -> None:
        if self.proxy:
            self.proxy.stop()
        else:
            self.held.enter_context(locked(self.database_url))

    def up(self) -> None:
        if self.proxy:
            self.proxy.start()
        else:
            self.held.close()

    def close(self) -> None:
        self.held.close()
        if self.proxy:
            self.proxy.stop()


def mount_tmpfs(path: Path, size: int) -> bool:
    """Mount a tmpfs of that size on path; False when this user may not (not root)."""
    mount = ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "lms-test", str(path)]
    try:
        return subprocess.run(mount, capture_output=True, check=False).returncode == 0
    except FileNotFoundError:
        return False
