"""The `lms` command: database, people, set-up and serving."""

from __future__ import annotations

import os
import secrets
import shutil
import sys

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

from lms import migrate
from lms.accounts import credentials
from lms.db import database, get_session
from lms.models import Role, User

FIRST_ADMIN_EMAIL = "admin@example.org"


def _create_app() -> Flask:
    from lms import create_app

    return create_app()


@click.group(
    cls=FlaskGroup, create_app=_create_app, add_version_option=False, add_default_commands=False
)
def main() -> None:
    """Run and manage the learning cohorts app."""


def init_app(app: Flask) -> None:
    """Register the command groups on the app (so `flask` and `lms` both see them)."""
    app.cli.add_command(db_group)
    app.cli.add_command(users_group)
    app.cli.add_command(setup)
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
    if len(password) < 10:
        raise click.BadParameter("use at least 10 characters", param_hint="--password")
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
    click.echo(f"Ready. Data lives in {current_app.config['LMS_DATA_DIR']}.")


@click.command("serve")
@click.option("--bind", default="127.0.0.1:5000", show_default=True)
@click.option(
    "--workers", default=3, show_default=True, help="Sync workers (2 x cores - 1 is usual)."
)
@click.option("--timeout", default=60, show_default=True)
def serve(bind: str, workers: int, timeout: int) -> None:
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
        "--access-logfile",
        "-",
        "lms:create_app()",
    ]
    os.execv(gunicorn, argv)  # noqa: S606  (replaces this process with gunicorn, fixed argv)
