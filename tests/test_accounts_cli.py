"""The `lms users create` command: an account from the command line, refused as the form would."""

from __future__ import annotations

from sqlalchemy import func, select

from lms.models import Role, User
from tests.conftest import PASSWORD


def _create_user(runner, email: str, password: str = PASSWORD, role: str = "admin"):
    args = ["users", "create", "--email", email, "--name", "Ada", "--role", role]
    return runner.invoke(args=[*args, "--password", password])


def test_cli_creates_an_admin_who_can_sign_in(runner, client, auth, db):
    result = _create_user(runner, "ada@example.org")

    assert result.exit_code == 0, result.output
    assert "Created admin ada@example.org." in result.output
    user = db.scalar(select(User).where(User.email == "ada@example.org"))
    db.commit()
    assert user.role == Role.ADMIN
    assert auth.login("ada@example.org").status_code == 302
    assert client.get("/admin/people").status_code == 200


def test_cli_refuses_a_taken_email(runner, db, make_user):
    make_user(email="ada@example.org")

    result = _create_user(runner, "ADA@example.org")

    assert result.exit_code != 0
    assert "has an account already" in result.output
    count = select(func.count()).select_from(User).where(User.email == "ada@example.org")
    assert db.scalar(count) == 1


def test_cli_refuses_a_short_password(runner, db):
    result = _create_user(runner, "ada@example.org", password="short")

    assert result.exit_code != 0
    assert "at least 10 characters" in result.output
    assert db.scalar(select(func.count()).select_from(User)) == 0
