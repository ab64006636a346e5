"""The admin's module pages: upload a package, preview what it changes, confirm, follow it.

Between the preview and the confirmation the upload waits in the data dir under a
random token (``uploads/<token>.zip``, with who uploaded it beside it), never in the
session. A confirmed import runs in a background thread of the worker, which writes
its progress to ``uploads/<token>.status.json``; the status page reads that file,
so any worker can answer it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from flask import (
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    send_file,
    url_for,
)
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileAllowed, FileField, FileRequired
from sqlalchemy import select
from wtforms import BooleanField, SubmitField

from lms import packages
from lms.db import now_utc
from lms.models import Module, ModuleVersion, User
from lms.storage import Storage, TooLargeError, is_token, write_bytes_atomic
from lms.web.admin.views import bp
from lms.web.database import database, get_session
from lms.web.forms import BaseForm
from lms.web.request_limits import accepts_files
from lms.web.storage import storage

log = logging.getLogger(__name__)

UPLOAD_MAX_AGE_SECONDS = 24 * 3600
# A status that has not moved for this long belongs to a worker that died.
STALE_STATUS_SECONDS = 300
PROGRESS_INTERVAL_SECONDS = 0.5
_running: dict[str, threading.Thread] = {}


class PackageUploadForm(BaseForm):
    package = FileField(
        _l("Module package (.zip)"),
        validators=[FileRequired(), FileAllowed(["zip"], _l("Choose a .zip file."))],
        description=_l(
            "A zip of the module's folder: module.yaml, lessons/, attachments/, media/."
        ),
    )
    submit = SubmitField(_l("Upload and preview"))


class ConfirmImportForm(BaseForm):
    force = BooleanField(_l("Import it anyway (this version, or an older one)"))
    submit = SubmitField(_l("Import"))


class CancelImportForm(BaseForm):
    submit = SubmitField(_l("Cancel"))


def _status_path(storage: Storage, token: str) -> Path:
    return storage.uploads_dir / f"{token}.status.json"


def _meta_path(storage: Storage, token: str) -> Path:
    return storage.uploads_dir / f"{token}.json"


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None


def _load_upload(token: str) -> tuple[Storage, dict[str, Any]]:
    """The upload this admin made under this token, else 404."""
    store = storage()
    if not is_token(token):
        abort(404)
    meta = _read_json(_meta_path(store, token))
    if meta is None or meta.get("user_id") != current_user.id:
        abort(404)
    return store, meta


def _translated(problems: list[packages.Problem]) -> list[dict[str, Any]]:
    return [
        {"location": p.location, "message": p.translated(gettext), "warning": p.warning}
        for p in problems
    ]


def _modules_page(form: PackageUploadForm):
    rows = get_session().execute(
        select(Module, ModuleVersion)
        .outerjoin(
            ModuleVersion,
            (ModuleVersion.module_id == Module.id) & (ModuleVersion.version == Module.version),
        )
        .order_by(Module.title, Module.id)
    )
    return render_template("admin/imports.html", rows=rows.all(), form=form)


@bp.get("/modules")
def modules():
    return _modules_page(PackageUploadForm())


@bp.post("/modules/import")
@accepts_files("LMS_MAX_PACKAGE_BYTES")
def upload_package():
    form = PackageUploadForm()
    if not form.validate_on_submit():
        return _modules_page(form), 400
    store = storage()
    store.remove_stale_uploads(UPLOAD_MAX_AGE_SECONDS)
    limit = current_app.config["LMS_MAX_PACKAGE_BYTES"]
    try:
        token = store.save_upload(form.package.data.stream, limit)
    except TooLargeError:
        flash(gettext("That package is larger than this site accepts."), "error")
        return redirect(url_for("admin.modules"))
    meta = {
        "user_id": current_user.id,
        "filename": form.package.data.filename or "package.zip",
        "uploaded_at": now_utc().isoformat(),
    }
    write_bytes_atomic(_meta_path(store, token), json.dumps(meta).encode())
    return redirect(url_for("admin.import_preview", token=token))


@bp.get("/modules/import/<token>")
def import_preview(token: str):
    storage, meta = _load_upload(token)
    if _read_json(_status_path(storage, token)) is not None:
        return redirect(url_for("admin.import_status", token=token))
    limits = packages.Limits.from_config(current_app.config)
    try:
        package = packages.validate_path(storage.upload_path(token), limits)
    except packages.InvalidPackageError as error:
        return render_template(
            "admin/imports_preview.html",
            token=token,
            meta=meta,
            problems=_translated(error.problems),
            errors=len(error.errors),
            cancel_form=CancelImportForm(),
        )
    plan = packages.plan_import(get_session(), package)
    refusal = plan.refusal.translated(gettext) if plan.refusal else None
    return render_template(
        "admin/imports_preview.html",
        token=token,
        meta=meta,
        package=package,
        plan=plan,
        refusal=refusal,
        problems=_translated(list(package.warnings)),
        errors=0,
        form=ConfirmImportForm(),
        cancel_form=CancelImportForm(),
    )


@bp.post("/modules/import/<token>")
def confirm_import(token: str):
    storage, _meta = _load_upload(token)
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400)
    if _read_json(_status_path(storage, token)) is None and token not in _running:
        _write_status(storage, token, state="running", done=0, total=0)
        _start(current_app._get_current_object(), token, current_user.id, form.force.data)
    return redirect(url_for("admin.import_status", token=token))


@bp.get("/modules/import/<token>/status")
def import_status(token: str):
    storage, meta = _load_upload(token)
    status = _read_json(_status_path(storage, token))
    if status is None:
        return redirect(url_for("admin.import_preview", token=token))
    if status["state"] == "running" and time.time() - status["updated"] > STALE_STATUS_SECONDS:
        status = {**status, "state": "failed", "message": "stopped"}
    problems = [packages.Problem.from_dict(p) for p in status.get("problems", [])]
    return render_template(
        "admin/imports_status.html",
        token=token,
        meta=meta,
        status=status,
        problems=_translated(problems),
    )


@bp.post("/modules/import/<token>/cancel")
def cancel_import(token: str):
    storage, _meta = _load_upload(token)
    if not CancelImportForm().validate_on_submit():
        abort(400)
    if token not in _running:
        storage.remove_upload(token)
    return redirect(url_for("admin.modules"))


@bp.get("/modules/<slug>/export")
def export_module(slug: str):
    store = storage()
    fd, temporary = tempfile.mkstemp(dir=store.data_dir, prefix=".export-", suffix=".zip")
    os.close(fd)
    path = Path(temporary)
    try:
        packages.export_module(get_session(), store, slug, path)
        handle = open(path, "rb")  # noqa: SIM115  (send_file closes it)
    except packages.UnknownModuleError:
        abort(404)
    finally:
        # Unlinked while open: the bytes live until the download ends, then vanish.
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    version = get_session().scalar(select(Module.version).where(Module.slug == slug))
    return send_file(
        handle,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"{slug}-{version}.zip",
    )


# --- The import itself, in the background ------------------------------------


def _write_status(storage: Storage, token: str, **status: Any) -> None:
    status["updated"] = time.time()
    write_bytes_atomic(_status_path(storage, token), json.dumps(status).encode())


def _start(app: Flask, token: str, user_id: int, force: bool) -> None:
    thread = threading.Thread(
        target=_run_import, args=(app, token, user_id, force), name=f"import-{token[:8]}"
    )
    _running[token] = thread
    thread.start()


def wait_for_imports(timeout: float = 60) -> None:
    """Wait for the imports this process started (for tests and clean shutdowns)."""
    for thread in list(_running.values()):
        thread.join(timeout)


def _run_import(app: Flask, token: str, user_id: int, force: bool) -> None:
    """Import an upload and record how it went; commits once, or changes nothing."""
    store = storage(app)
    last = 0.0

    def progress(done: int, total: int) -> None:
        nonlocal last
        if time.monotonic() - last >= PROGRESS_INTERVAL_SECONDS or done == total:
            last = time.monotonic()
            _write_status(store, token, state="running", done=done, total=total)

    try:
        with app.app_context():
            session = database(app).new_session(write=True)
            try:
                actor = session.get(User, user_id)
                result = packages.import_path(
                    session,
                    store,
                    store.upload_path(token),
                    packages.Limits.from_config(app.config),
                    actor=actor,
                    force=force,
                    progress=progress,
                )
                module, plan = result.module, result.plan
                session.commit()
                _write_status(
                    store,
                    token,
                    state="done",
                    module=module.slug,
                    title=module.title,
                    version=module.version,
                    lessons=module.lesson_count,
                    previous=plan.installed,
                )
            except (packages.InvalidPackageError, packages.VersionRefusedError) as error:
                session.rollback()
                problems = getattr(error, "problems", None) or [error.problem]
                _write_status(
                    store, token, state="failed", problems=[p.to_dict() for p in problems]
                )
            finally:
                session.close()
    except Exception:
        log.exception("import %s failed", token[:8])
        _write_status(store, token, state="failed", message="error")
    finally:
        with contextlib.suppress(FileNotFoundError):
            store.upload_path(token).unlink()
        _running.pop(token, None)
