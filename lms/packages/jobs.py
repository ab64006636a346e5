"""Import jobs: an uploaded package waits for its confirmation, then imports in a thread.

Between the preview and the confirmation the upload waits in the data dir under a
random token (``Storage.upload_path``, with who uploaded it beside it), never in the
web session. A confirmed import runs in a background thread of the process that
confirmed it, which writes its progress to the upload's status file; the status page
reads that file, so any worker can answer it. Nothing here knows Flask: the admin's
views pass the database, the storage and the limits in.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from pathlib import Path
from typing import Any, BinaryIO

from lms.db import Database, now_utc
from lms.models import User
from lms.packages.importer import VersionRefusedError, import_path
from lms.packages.problems import InvalidPackageError
from lms.packages.source import Limits
from lms.storage import Storage, is_token, write_bytes_atomic

log = logging.getLogger(__name__)

UPLOAD_MAX_AGE_SECONDS = 24 * 3600
# A status that has not moved for this long belongs to a worker that died.
STALE_STATUS_SECONDS = 300
PROGRESS_INTERVAL_SECONDS = 0.5
# The imports this process runs, by upload token.
_running: dict[str, threading.Thread] = {}


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None


def save_upload(
    storage: Storage, source: BinaryIO, max_bytes: int, user_id: int, filename: str
) -> str:
    """Keep an uploaded package, and who uploaded it, until it is confirmed; returns its token.

    Uploads nobody confirmed in time go first. Raises TooLargeError past max_bytes.
    """
    storage.remove_stale_uploads(UPLOAD_MAX_AGE_SECONDS)
    token = storage.save_upload(source, max_bytes)
    meta = {"user_id": user_id, "filename": filename, "uploaded_at": now_utc().isoformat()}
    write_bytes_atomic(storage.upload_meta_path(token), json.dumps(meta).encode())
    return token


def upload_of(storage: Storage, token: str, user_id: int) -> dict[str, Any] | None:
    """What is known of the upload this person made under this token; None for any other."""
    if not is_token(token):
        return None
    meta = _read_json(storage.upload_meta_path(token))
    if meta is None or meta.get("user_id") != user_id:
        return None
    return meta


def status(storage: Storage, token: str) -> dict[str, Any] | None:
    """How the upload's import goes; None until it is confirmed.

    A running import whose status stopped moving died with its worker: it reads as
    failed, with the message "stopped".
    """
    current = _read_json(storage.upload_status_path(token))
    if (
        current is not None
        and current["state"] == "running"
        and time.time() - current["updated"] > STALE_STATUS_SECONDS
    ):
        return {**current, "state": "failed", "message": "stopped"}
    return current


def start(
    database: Database,
    storage: Storage,
    limits: Limits,
    token: str,
    user_id: int,
    force: bool,
) -> None:
    """Start importing the upload in a background thread, unless it was started already."""
    if _read_json(storage.upload_status_path(token)) is not None or token in _running:
        return
    _write_status(storage, token, state="running", done=0, total=0)
    thread = threading.Thread(
        target=_run,
        args=(database, storage, limits, token, user_id, force),
        name=f"import-{token[:8]}",
    )
    _running[token] = thread
    thread.start()


def cancel(storage: Storage, token: str) -> None:
    """Forget an upload, unless this process is importing it."""
    if token not in _running:
        storage.remove_upload(token)


def wait_for_imports(timeout: float = 60) -> None:
    """Wait for the imports this process started (for tests and clean shutdowns)."""
    for thread in list(_running.values()):
        thread.join(timeout)


def _write_status(storage: Storage, token: str, **fields: Any) -> None:
    fields["updated"] = time.time()
    write_bytes_atomic(storage.upload_status_path(token), json.dumps(fields).encode())


def _run(
    database: Database, storage: Storage, limits: Limits, token: str, user_id: int, force: bool
) -> None:
    """Import an upload and record how it went; commits once, or changes nothing."""
    last = 0.0

    def progress(done: int, total: int) -> None:
        nonlocal last
        if time.monotonic() - last >= PROGRESS_INTERVAL_SECONDS or done == total:
            last = time.monotonic()
            _write_status(storage, token, state="running", done=done, total=total)

    try:
        session = database.new_session(write=True)
        try:
            actor = session.get(User, user_id)
            result = import_path(
                session,
                storage,
                storage.upload_path(token),
                limits,
                actor=actor,
                force=force,
                progress=progress,
            )
            module, plan = result.module, result.plan
            session.commit()
            _write_status(
                storage,
                token,
                state="done",
                module=module.slug,
                title=module.title,
                version=module.version,
                lessons=module.lesson_count,
                previous=plan.installed,
            )
        except (InvalidPackageError, VersionRefusedError) as error:
            session.rollback()
            problems = getattr(error, "problems", None) or [error.problem]
            _write_status(storage, token, state="failed", problems=[p.to_dict() for p in problems])
        finally:
            session.close()
    except Exception:
        log.exception("import %s failed", token[:8])
        _write_status(storage, token, state="failed", message="error")
    finally:
        with contextlib.suppress(FileNotFoundError):
            storage.upload_path(token).unlink()
        _running.pop(token, None)
