"""Learners autosaving as fast as the server answers, and a check of what a database kept.

An autosaver is a learner of bench/seed.py's dataset, signed in through the real form,
who opens lesson 1 of the benchmark module and saves a growing answer to its first
prompt over HTTP as the page's script does (tests/faults.py's ``Learner``: cookies,
the CSRF header, ``Accept: application/json``), each save based on the revision the
last acknowledged one returned. A save is *acknowledged* when its 200 with a revision
has arrived. Until then the same text is sent again on the same revision: after a
connection error (the server is gone: a kill) at once, after a 503 when its
Retry-After says. The same text on an older revision is no conflict (the server keeps
what it has), so a save committed just before its answer was lost is acknowledged by
its retry.

``check`` reads a database afterwards: every acknowledged save must be there as the
revision its answer named, with its text, the revisions in the order sent.
"""

from __future__ import annotations

import http.client
import itertools
import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine, select

from bench.run import CSRF_META
from bench.seed import BENCH_MODULE, BENCH_PASSWORD
from lms.models import Reflection, ReflectionRevision, User
from tests.faults import Learner

LESSON_PATH = f"/modules/{BENCH_MODULE}/lessons/lesson-1"
REVISION_FIELD = re.compile(r'name="p(\d+)-revision" type="hidden" value="(\d+)"')
RETRY_SECONDS = 0.1  # after a connection error: the server is on its way back
MAX_RETRY_AFTER = 10  # seconds; a 503's Retry-After is honoured up to this
GRACE_SECONDS = 60  # once stopped, a save not acknowledged yet is still sent this long
SIGN_IN_THREADS = 8


def text_at(prefix: str, n: int) -> str:
    """The answer after its n-th save: the prefix and the numbers 1 to n, a word each."""
    return prefix + "".join(f" {i}" for i in range(1, n + 1))


@dataclass(frozen=True)
class Ack:
    """An acknowledged save: the text's length (its n), the revision, when the 200 arrived."""

    n: int
    revision: int
    at: float  # time.monotonic()
    unanswered_at: float | None = None  # time.time() of its first request that got no answer


@dataclass
class Autosaver:
    """One learner's session, answer and counts."""

    base: str
    email: str
    label: str
    prompt_id: int = 0
    start_revision: int = 0  # the revision lesson 1's page showed before the run
    acks: list[Ack] = field(default_factory=list)
    conflicts: int = 0
    busy: int = 0  # 503 answers (sent again after their Retry-After)
    connection_errors: int = 0  # requests that got no answer at all
    errors: Counter = field(default_factory=Counter)  # any other status, by status
    unacknowledged: int = 0  # saves still without a 200 when the grace time ran out
    failure: str | None = None

    def __post_init__(self) -> None:
        self.learner = Learner(self.base, 0)
        self.prefix = f"{self.label}, {self.email}:"
        self.revision = 0
        self.n = 0

    def open(self) -> None:
        """Sign in and open lesson 1: the prompt and the revision its page shows."""
        self.learner.sign_in(self.email, BENCH_PASSWORD)
        reply = self.learner.request(LESSON_PATH)
        page = reply.body.decode()
        found, token = REVISION_FIELD.search(page), CSRF_META.search(page)
        if found is None or token is None:
            raise RuntimeError(
                f"{self.email}: no answer form on {LESSON_PATH} ({reply.status}): {page[:300]}"
            )
        self.learner.token = token.group(1)
        self.prompt_id, self.start_revision = int(found.group(1)), int(found.group(2))
        self.learner.prompt_id = self.prompt_id
        self.revision = self.start_revision

    def run(self, stop: threading.Event) -> None:
        """Save a longer text each time until stopped; a failure is kept, not raised."""
        try:
            text = self.prefix
            while not stop.is_set():
                self.n += 1
                text += f" {self.n}"
                self._save(text, stop)
        except Exception as error:  # noqa: BLE001  (reported with the figures)
            self.failure = f"{self.email}: {error!r}"

    def _save(self, text: str, stop: threading.Event) -> None:
        give_up_at = unanswered_at = None
        while True:
            if stop.is_set():
                give_up_at = give_up_at or time.monotonic() + GRACE_SECONDS
                if time.monotonic() > give_up_at:
                    self.unacknowledged += 1
                    return
            try:
                answer = self.learner.autosave(text, self.revision)
            except (OSError, http.client.HTTPException):
                self.connection_errors += 1
                unanswered_at = unanswered_at or time.time()
                time.sleep(RETRY_SECONDS)
                continue
            if answer.status == 503:
                self.busy += 1
                time.sleep(min(float(answer.headers.get("Retry-After", 1)), MAX_RETRY_AFTER))
                continue
            if answer.status == 200 and answer.headers.get("Content-Type") == "application/json":
                self.revision = answer.json()["revision"]
                self.acks.append(Ack(self.n, self.revision, time.monotonic(), unanswered_at))
                return
            if answer.status == 409:
                # Never expected: this learner is the only one saving this answer.
                self.conflicts += 1
                self.revision = answer.json()["revision"]
                return
            self.errors[answer.status] += 1
            return


class Crowd:
    """Autosavers for the given learners, each in a thread of its own until stopped."""

    def __init__(self, base: str, emails: list[str], label: str) -> None:
        self.autosavers = [Autosaver(base, email, label) for email in emails]
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []

    def open(self) -> Crowd:
        """Sign everyone in and open their lesson (a few at a time: sign-in hashes)."""
        with ThreadPoolExecutor(SIGN_IN_THREADS) as pool:
            list(pool.map(Autosaver.open, self.autosavers))
        return self

    def start(self) -> float:
        """Start saving; returns the moment it started (time.monotonic())."""
        self.threads = [
            threading.Thread(target=a.run, args=(self.stop_event,), daemon=True)
            for a in self.autosavers
        ]
        for thread in self.threads:
            thread.start()
        return time.monotonic()

    def stop(self) -> None:
        """Stop saving; waits for the saves in flight to be acknowledged (or given up)."""
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout=GRACE_SECONDS + 60)
        stuck = sum(thread.is_alive() for thread in self.threads)
        if stuck:
            raise RuntimeError(f"{stuck} autosavers did not stop")

    def total(self, name: str) -> int:
        """The sum of one count over every autosaver ("acks" counts acknowledged saves)."""
        if name == "acks":
            return sum(len(a.acks) for a in self.autosavers)
        if name == "errors":
            return sum(a.errors.total() for a in self.autosavers)
        return sum(getattr(a, name) for a in self.autosavers)

    def failures(self) -> list[str]:
        """What no run should show: exceptions, conflicts, unexpected statuses, saves given up."""
        found = [a.failure for a in self.autosavers if a.failure]
        if conflicts := self.total("conflicts"):
            # Each answer has one session saving it, always on the revision last returned.
            found.append(f"{conflicts} saves refused as conflicts")
        statuses = sum((a.errors for a in self.autosavers), Counter())
        found += [f"{count} answers {status}" for status, count in sorted(statuses.items())]
        if given_up := self.total("unacknowledged"):
            found.append(f"{given_up} saves still unacknowledged {GRACE_SECONDS} s after the end")
        return found


@dataclass
class Kept:
    """What a database holds of the acknowledged saves it was checked for."""

    checked: int = 0  # acknowledged saves looked for
    present: int = 0  # ... found as that revision, with that text
    extra: int = 0  # revisions of the run no acknowledged save accounts for
    # Acknowledged by a retry, though the request whose answer was lost had committed
    # (its revision is older than the lost answer): what a kill does to a save in flight.
    committed_unanswered: int = 0
    disordered: int = 0  # revisions out of order, not this run's text, or a wrong current text
    examples: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return self.checked - self.present


def check(engine: Engine, crowd: Crowd, before: float | None = None) -> Kept:
    """Look for every save acknowledged (before the moment ``before``, if given) in the database.

    A learner's revisions since the run began must be numbered one after another, each
    holding a longer text of theirs than the one before, the last being the answer's
    current text.
    """
    kept = Kept()
    with engine.connect() as connection:
        for saver in crowd.autosavers:
            reflection = connection.execute(
                select(Reflection.id, Reflection.revision_count, Reflection.current_body)
                .join(User, User.id == Reflection.user_id)
                .where(User.email == saver.email, Reflection.prompt_id == saver.prompt_id)
            ).first()
            stored = {} if reflection is None else _revisions(connection, reflection.id, saver)
            acks = [a for a in saver.acks if before is None or a.at < before]
            _compare(kept, saver, acks, stored, reflection)
    return kept


def _revisions(connection, reflection_id: int, saver: Autosaver) -> dict[int, tuple[str, datetime]]:
    rows = connection.execute(
        select(ReflectionRevision.number, ReflectionRevision.body, ReflectionRevision.created_at)
        .where(
            ReflectionRevision.reflection_id == reflection_id,
            ReflectionRevision.number > saver.start_revision,
        )
        .order_by(ReflectionRevision.number)
    )
    return {number: (body, created_at) for number, body, created_at in rows}


def _compare(
    kept: Kept, saver: Autosaver, acks: list[Ack], revisions: dict[int, tuple[str, datetime]], row
) -> None:
    def problem(kind: str, what: str) -> None:
        if len(kept.examples) < 5:
            kept.examples.append(f"{saver.email} {kind}: {what}")

    # The texts this learner sent, built once: text_at for each would be quadratic.
    top = max([saver.n, *(a.n for a in acks)])
    texts = list(itertools.accumulate([saver.prefix, *(f" {i}" for i in range(1, top + 1))]))
    n_of = {text: n for n, text in enumerate(texts)}

    stored = {number: body for number, (body, _at) in revisions.items()}
    kept.checked += len(acks)
    for ack in acks:
        if stored.get(ack.revision) == texts[ack.n]:
            kept.present += 1
        else:
            problem("lost", f"revision {ack.revision} (save {ack.n}) is not stored")
            continue
        made_at = revisions[ack.revision][1]
        if ack.unanswered_at and made_at < datetime.fromtimestamp(ack.unanswered_at, UTC):
            kept.committed_unanswered += 1
    acknowledged = {ack.revision for ack in acks}
    kept.extra += sum(number not in acknowledged for number in stored)

    last_n = 0
    for expected, (number, body) in enumerate(stored.items(), saver.start_revision + 1):
        n = n_of.get(body)
        if number != expected or n is None or n <= last_n:
            kept.disordered += 1
            problem("disordered", f"revision {number} holds save {n}")
        last_n = n or last_n
    if stored:
        number, body = list(stored.items())[-1]
        if row is None or (row.revision_count, row.current_body) != (number, body):
            kept.disordered += 1
            problem("current text", "is not the last revision")
