"""The `lms` command: database, people, set-up, backups and serving."""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

from lms import create_app, packages
from lms.config import CHECKOUT_DIR
from lms.models import Module, Role, User
from lms.ops import backup, housekeeping, migrate
from lms.people import credentials
from lms.web.database import database, get_session
from lms.web.forms import PASSWORD_MIN_LENGTH
from lms.web.storage import storage

FIRST_ADMIN_EMAIL = "admin@example.org"


@click.group(
    cls=FlaskGroup, create_app=create_app, add_version_option=False, add_default_commands=False
)
def main() -> None:
    """Run and manage the learning cohorts app."""


def init_app(app: Flask) -> None:
    """Register the command groups on the app (so `flask` and `lms` both see them)."""
    app.cli.add_command(db_group)
    app.cli.add_command(users_group)
    app.cli.add_command(modules_group)
    app.cli.add_command(setup)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(storage_group)
    app.cli.add_command(serve)


@click.group("db")
def db_group() -> None:
    """The database schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Create or change the schema up to REVISION (head by default)."""
    migrate.upgrade(database().engine, revision)
    click.echo(f"Database is at {revision}.")


@db_group.command("check")
@with_appcontext
def db_check() -> None:
    """Fail when the models and the migrated database differ."""
    diff = migrate.differences(database().engine)
    if diff:
        for change in diff:
            click.echo(change, err=True)
        raise click.ClickException("The models and the migrations differ.")
    click.echo("The models and the database agree.")


@click.group("users")
def users_group() -> None:
    """People's accounts."""


@users_group.command("create")
@click.option("--email", required=True)
@click.option("--name", "display_name", required=True)
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.LEARNER.value,
    show_default=True,
)
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Asked for when not given.",
)
@with_appcontext
def users_create(email: str, display_name: str, role: str, password: str) -> None:
    """Create an account with a role."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise click.BadParameter(
            f"use at least {PASSWORD_MIN_LENGTH} characters", param_hint="--password"
        )
    session = get_session()
    try:
        user = credentials.create_user(session, email, display_name, password, Role(role))
    except credentials.EmailTakenError:
        raise click.ClickException(f"{email} has an account already.") from None
    session.commit()
    click.echo(f"Created {user.role.value} {user.email}.")


@click.command("setup")
@with_appcontext
def setup() -> None:
    """Migrate, import the bundled modules, and create the first admin once."""
    migrate.upgrade(database().engine)
    session = get_session()
    if session.scalar(select(User.id).where(User.role == Role.ADMIN).limit(1)) is None:
        password = secrets.token_urlsafe(12)
        credentials.create_user(session, FIRST_ADMIN_EMAIL, "Admin", password, Role.ADMIN)
        session.commit()
        click.echo(
            "\n  First start: an admin account was created.\n"
            f"    email:    {FIRST_ADMIN_EMAIL}\n"
            f"    password: {password}\n"
            "  It is shown only this once: sign in and change it under Password.\n"
        )
    _import_bundled_modules()
    click.echo(f"Ready. Data lives in {storage().data_dir}.")


@click.group("modules")
def modules_group() -> None:
    """Module packages: validate, import, export and list them."""


def _limits() -> packages.Limits:
    return packages.Limits.from_config(current_app.config)


def _echo_problems(problems: list[packages.Problem]) -> None:
    for problem in problems:
        prefix = "warning: " if problem.warning else ""
        click.echo(f"{prefix}{problem}", err=not problem.warning)


def _invalid(error: packages.InvalidPackageError) -> click.ClickException:
    _echo_problems(error.problems)
    count = len(error.errors)
    return click.ClickException(
        f"{count} problem{'s' if count != 1 else ''} to fix; nothing was imported."
    )


def _echo_plan(plan: packages.Plan) -> None:
    if plan.is_new:
        click.echo(f"New module {plan.slug} {plan.version}: {plan.title}")
    else:
        click.echo(f"{plan.slug}: {plan.installed} -> {plan.version}")
    if plan.module_changes:
        click.echo(f"  module details changed: {', '.join(plan.module_changes)}")
    for label, items in (
        ("lesson added", plan.lessons_added),
        ("lesson restored", plan.lessons_restored),
        ("lesson archived", plan.lessons_archived),
    ):
        for item in items:
            click.echo(f"  {label}: {item['slug']} ({item['title']})")
    for item in plan.lessons_changed:
        click.echo(f"  lesson changed: {item['slug']} ({', '.join(item['changes'])})")
    for label, items in (
        ("prompt added", plan.prompts_added),
        ("prompt changed", plan.prompts_changed),
        ("prompt archived", plan.prompts_archived),
    ):
        for item in items:
            click.echo(f"  {label}: {item['lesson']}/{item['key']}")
    for label, paths in (
        ("attachment added", plan.attachments_added),
        ("attachment changed", plan.attachments_changed),
        ("attachment archived", plan.attachments_archived),
        ("media added", plan.media_added),
        ("media changed", plan.media_changed),
    ):
        for path in paths:
            click.echo(f"  {label}: {path}")
    if not plan.is_new and not plan.has_changes:
        click.echo("  no changes to the content")


@modules_group.command("validate")
@click.argument("path", type=click.Path(path_type=Path))
@with_appcontext
def modules_validate(path: Path) -> None:
    """Check a module package (a folder or a .zip) and list every problem."""
    try:
        package = packages.validate_path(path, _limits())
    except packages.InvalidPackageError as error:
        raise _invalid(error) from None
    _echo_problems(list(package.warnings))
    prompts = sum(len(lesson.prompts) for lesson in package.lessons)
    click.echo(
        f"{package.slug} {package.version} is valid: {len(package.lessons)} lessons, "
        f"{prompts} prompts, {len(package.all_attachments)} attachments, "
        f"{len(package.media)} media files."
    )


@modules_group.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
@click.option("--force", is_flag=True, help="Import even when this version is installed.")
@with_appcontext
def modules_import(path: Path, dry_run: bool, force: bool) -> None:
    """Import a module package, or a new version of an installed module."""
    session = get_session()
    limits = _limits()
    try:
        with packages.open_package(path, limits) as source:
            package = packages.read_package(source, limits)
            _echo_problems(list(package.warnings))
            plan = packages.plan_import(session, package)
            # End the reading transaction: copying the files must hold no database lock.
            session.rollback()
            _echo_plan(plan)
            if plan.refusal is not None and not force:
                raise click.ClickException(str(plan.refusal.translated()))
            if dry_run:
                click.echo("Dry run: nothing was imported.")
                return
            with click.progressbar(length=package.total_bytes, label="Copying files") as bar:
                result = packages.import_package(
                    session,
                    storage(),
                    source,
                    package,
                    force=force,
                    progress=lambda done, _total: bar.update(done - bar.pos),
                )
            session.commit()
    except packages.InvalidPackageError as error:
        raise _invalid(error) from None
    except packages.VersionRefusedError as error:
        raise click.ClickException(error.problem.translated()) from None
    click.echo(
        f"Imported {result.module.slug} {result.module.version} "
        f"({result.module.lesson_count} lessons)."
    )


@modules_group.command("export")
@click.argument("slug")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def modules_export(slug: str, out: Path) -> None:
    """Write an installed module as a package (.zip) that imports again."""
    try:
        packages.export_module(get_session(), storage(), slug, out)
    except packages.UnknownModuleError:
        raise click.ClickException(
            f"No module has the slug {slug!r}; `lms modules list` shows them."
        ) from None
    click.echo(f"Wrote {out}.")


@modules_group.command("list")
@with_appcontext
def modules_list() -> None:
    """List the installed modules."""
    modules = get_session().scalars(select(Module).order_by(Module.slug)).all()
    if not modules:
        click.echo("No modules yet. Import one with: lms modules import PATH")
    for module in modules:
        state = "" if module.published else "  (unpublished)"
        click.echo(
            f"{module.slug}  {module.version}  {module.lesson_count} lessons  {module.title}{state}"
        )


def _import_bundled_modules() -> None:
    """Import each bundled module not installed at its version yet (a second run: nothing)."""
    session = get_session()
    modules_dir = Path(
        current_app.config.get("LMS_BUNDLED_MODULES_DIR") or CHECKOUT_DIR / "modules"
    )
    # An import killed half way left blobs nobody refers to: take them back first.
    packages.recover_abandoned_imports(session, storage())
    folders = packages.bundled_packages(session, modules_dir)
    session.rollback()
    for folder in folders:
        try:
            result = packages.import_path(session, storage(), folder, _limits())
            session.commit()
        except (packages.InvalidPackageError, packages.VersionRefusedError) as error:
            session.rollback()
            click.echo(f"The bundled module in modules/{folder.name} was not imported:", err=True)
            problems = getattr(error, "problems", None) or [error.problem]
            _echo_problems(problems)
            continue
        click.echo(
            f"Imported the bundled module {result.module.slug} {result.module.version} "
            f"({result.module.lesson_count} lessons)."
        )


def _size(size: int) -> str:
    for unit in ("bytes", "KB", "MB"):
        if size < 1000:
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


@click.command("backup")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(out: Path) -> None:
    """Write the database and the data dir to OUT (a .tar), while the app keeps serving."""
    started = time.monotonic()
    try:
        result = backup.write_backup(database().engine, storage(), out)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    manifest = result.manifest
    click.echo(
        f"Wrote {out} ({_size(result.size)}, {time.monotonic() - started:.1f} s): "
        f"the {manifest.kind} database at schema revision {manifest.schema_revision}, "
        f"{sum(manifest.tables.values())} rows, {len(manifest.files)} files."
    )
    if result.attempts > 1:
        click.echo(f"Files changed while it ran: it was taken {result.attempts} times.")


@click.command("restore")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--force", is_flag=True, help="Replace the data of a database and data dir that hold some."
)
@with_appcontext
def restore_command(archive: Path, force: bool) -> None:
    """Restore a backup made by `lms backup` into an empty database and data dir.

    Stop the app first: the database and the files are replaced under it.
    """
    started = time.monotonic()
    try:
        result = backup.restore(archive, database().engine, storage(), force=force)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    manifest = result.manifest
    click.echo(
        f"Restored the backup of {manifest.created_at} "
        f"({time.monotonic() - started:.1f} s): {sum(manifest.tables.values())} rows, "
        f"{len(manifest.files)} files."
    )
    if result.upgraded_to:
        click.echo(
            f"The database was migrated from {manifest.schema_revision} to {result.upgraded_to}."
        )


@click.group("storage")
def storage_group() -> None:
    """The data dir's files."""


@storage_group.command("sweep")
@click.option(
    "--min-age-minutes",
    type=click.IntRange(min=1),
    default=60,
    show_default=True,
    help="Only files older than this are taken (a request may be writing a newer one).",
)
@with_appcontext
def storage_sweep(min_age_minutes: int) -> None:
    """Remove files nothing refers to: orphaned uploads, old blobs, leftovers of crashes.

    Safe while the app serves; run it from cron, say nightly.
    """
    report = housekeeping.sweep(get_session(), storage(), min_age_seconds=min_age_minutes * 60)
    click.echo(
        f"Freed {_size(report.bytes_freed)}: {report.learner_files_removed} learners' files, "
        f"{report.blobs_removed} blobs, {report.temporary_files_removed} temporary files, "
        f"{report.held_folders_removed} folders of interrupted backups or restores, "
        f"{report.imports_undone} interrupted imports undone."
    )


@click.command("serve")
@click.option("--bind", default="127.0.0.1:5000", show_default=True)
@click.option(
    "--workers", default=3, show_default=True, help="Sync workers (2 x cores - 1 is usual)."
)
@click.option("--timeout", default=60, show_default=True)
@click.option(
    "--graceful-timeout", default=30, show_default=True, help="Seconds a stopping worker gets."
)
def serve(bind: str, workers: int, timeout: int, graceful_timeout: int) -> None:
    """Serve the app with gunicorn (sync workers, logs to the terminal)."""
    gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or "gunicorn"
    click.echo(f"Serving on http://{bind} (Ctrl+C stops).")
    argv = [
        gunicorn,
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--timeout",
        str(timeout),
        "--graceful-timeout",
        str(graceful_timeout),
        # Which X-Forwarded-* headers to believe is the app's decision (LMS_PROXY_COUNT,
        # lms/web/security.py), made once: gunicorn would otherwise believe any sent to it
        # from 127.0.0.1, proxy or not.
        "--forwarded-allow-ips",
        "",
        # gunicorn 23+ opens a control socket in $HOME by default, one path for every
        # gunicorn of the host (each new one removes the last one's); nothing uses it.
        "--no-control-socket",
        "--access-logfile",
        "-",
        "lms:create_app()",
    ]
    os.execv(gunicorn, argv)  # noqa: S606  (replaces this process with gunicorn, fixed argv)
