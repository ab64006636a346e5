"""The `lms` command: first start prints an admin password once, and only once."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from lms.models import Role, User


def test_setup_creates_one_admin_and_prints_the_password_once(runner, db):
    first = runner.invoke(args=["setup"])
    assert first.exit_code == 0, first.output
    password = re.search(r"password: (\S+)", first.output)
    assert password, first.output

    second = runner.invoke(args=["setup"])
    assert second.exit_code == 0, second.output
    assert "password:" not in second.output
    admins = db.scalar(select(func.count()).select_from(User).where(User.role == Role.ADMIN))
    assert admins == 1


def test_the_printed_admin_password_signs_in(runner, auth, client):
    output = runner.invoke(args=["setup"]).output
    email = re.search(r"email: +(\S+)", output).group(1)
    password = re.search(r"password: (\S+)", output).group(1)
    response = auth.login(email, password)
    assert response.status_code == 302
    assert client.get("/admin/people").status_code == 200


def test_db_upgrade_command(runner):
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "head" in result.output
