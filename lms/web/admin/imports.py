"""The admin's module pages: upload a package, preview what it changes, confirm, follow it.

The upload waits, and its import runs, as ``lms.packages.jobs`` says; these views only
check who asks, render and redirect.
"""

from __future__ import annotations

import contextlib
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select

from lms import packages
from lms.models import Module, ModuleVersion
from lms.packages import jobs
from lms.storage import TooLargeError
from lms.web.admin.forms import CancelImportForm, ConfirmImportForm, PackageUploadForm
from lms.web.admin.views import bp
from lms.web.database import database, get_session
from lms.web.forms import require_pressed
from lms.web.request_limits import accepts_files
from lms.web.storage import storage


def _load_upload(token: str) -> dict[str, Any]:
    """What is known of the upload this admin made under this token, else 404."""
    meta = jobs.upload_of(storage(), token, current_user.id)
    if meta is None:
        abort(404)
    return meta


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
    try:
        token = jobs.save_upload(
            storage(),
            form.package.data.stream,
            current_app.config["LMS_MAX_PACKAGE_BYTES"],
            current_user.id,
            form.package.data.filename or "package.zip",
        )
    except TooLargeError:
        flash(gettext("That package is larger than this site accepts."), "error")
        return redirect(url_for("admin.modules"))
    return redirect(url_for("admin.import_preview", token=token))


@bp.get("/modules/import/<token>")
def import_preview(token: str):
    meta = _load_upload(token)
    if jobs.status(storage(), token) is not None:
        return redirect(url_for("admin.import_status", token=token))
    limits = packages.Limits.from_config(current_app.config)
    try:
        package = packages.validate_path(storage().upload_path(token), limits)
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
    _load_upload(token)
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400)
    limits = packages.Limits.from_config(current_app.config)
    jobs.start(database(), storage(), limits, token, current_user.id, form.force.data)
    return redirect(url_for("admin.import_status", token=token))


@bp.get("/modules/import/<token>/status")
def import_status(token: str):
    meta = _load_upload(token)
    status = jobs.status(storage(), token)
    if status is None:
        return redirect(url_for("admin.import_preview", token=token))
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
    _load_upload(token)
    require_pressed(CancelImportForm)
    jobs.cancel(storage(), token)
    return redirect(url_for("admin.modules"))


@bp.get("/modules/<slug>/export")
def export_module(slug: str):
    path = storage().new_export_file()
    try:
        packages.export_module(get_session(), storage(), slug, path)
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
