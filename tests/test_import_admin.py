"""The admin's import pages: upload, preview what changes, confirm, follow; refusals say why."""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.models import AuditEvent, Lesson, Module, Role
from lms.packages import jobs
from tests.conftest import csrf_token
from tests.fixtures.packages.kit import (
    MINIMAL,
    copy_package,
    replace,
    snapshot,
    zip_folder,
)


@pytest.fixture
def admin(make_user, auth):
    user = make_user(Role.ADMIN)
    auth.login(user.email)
    return user


def upload(client, zipped: Path | bytes, name: str = "package.zip"):
    data = zipped.read_bytes() if isinstance(zipped, Path) else zipped
    return client.post(
        "/admin/modules/import",
        data={
            "package": (io.BytesIO(data), name),
            "csrf_token": csrf_token(client, "/admin/modules"),
        },
        content_type="multipart/form-data",
    )


def token_of(response) -> str:
    match = re.search(r"/admin/modules/import/([A-Za-z0-9_-]+)$", response.headers["Location"])
    assert match, response.headers.get("Location")
    return match.group(1)


def confirm(client, token: str, force: bool = False):
    data = {"csrf_token": csrf_token(client, f"/admin/modules/import/{token}")}
    if force:
        data["force"] = "y"
    response = client.post(f"/admin/modules/import/{token}", data=data)
    jobs.wait_for_imports()
    return response


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_upload_preview_confirm_imports_the_module(client, admin, db, data_dir, tmp_path):
    response = upload(client, zip_folder(MINIMAL, tmp_path / "p.zip", top="listening-circles"))
    assert response.status_code == 302
    token = token_of(response)
    assert (data_dir / "uploads" / f"{token}.zip").is_file()
    with client.session_transaction() as session:
        assert token not in json.dumps(dict(session), default=str)

    preview = page(client, f"/admin/modules/import/{token}")
    assert "A new module, version 1.0.0." in preview
    assert "Lessons added" in preview
    assert "Why listening comes first" in preview
    assert "When did you last feel truly heard?" in preview
    assert db.scalar(select(Module)) is None  # nothing changes before confirming
    db.rollback()

    done = confirm(client, token)
    assert done.headers["Location"].endswith(f"/admin/modules/import/{token}/status")
    status = page(client, f"/admin/modules/import/{token}/status")
    assert "Listening circles 1.0.0 was imported, with 2 lessons." in status

    module = db.scalar(select(Module))
    assert (module.slug, module.lesson_count) == ("listening-circles", 2)
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "module.imported"))
    assert event.actor_id == admin.id
    assert not (data_dir / "uploads" / f"{token}.zip").exists()
    assert "Listening circles" in page(client, "/admin/modules")


def test_a_new_version_previews_archived_lessons_and_changed_prompts(client, admin, db, tmp_path):
    confirm(client, token_of(upload(client, zip_folder(MINIMAL, tmp_path / "v1.zip"))))
    package = copy_package(tmp_path)
    replace(package / "module.yaml", '"1.0.0"', '"1.1.0"')
    replace(package / "lessons/01-why-listen.md", "What did the other person do?", "What helped?")
    (package / "lessons/02-holding-a-circle.md").unlink()

    token = token_of(upload(client, zip_folder(package, tmp_path / "v2.zip")))
    preview = page(client, f"/admin/modules/import/{token}")

    assert "Installed version 1.0.0; this package is version 1.1.0." in preview
    assert "Lessons archived" in preview
    assert "Hidden from new learners; learners' answers are kept." in preview
    assert "<del>When did you last feel truly heard? What did the other person do?</del>" in preview
    assert "<ins>When did you last feel truly heard? What helped?</ins>" in preview

    confirm(client, token)
    archived = db.scalar(select(Lesson).where(Lesson.slug == "holding-a-circle"))
    assert archived.archived_at is not None


def test_an_invalid_package_lists_its_problems_and_offers_no_import(
    client, admin, db, data_dir, tmp_path
):
    package = copy_package(tmp_path)
    replace(package / "lessons/01-why-listen.md", "id: hard-to-hear", "id: last-time-heard")
    with open(package / "lessons/02-holding-a-circle.md", "a") as handle:
        handle.write("\n[Prize](javascript:alert(1))\n")
    before = snapshot(db, data_dir)
    token = token_of(upload(client, zip_folder(package, tmp_path / "p.zip")))

    preview = page(client, f"/admin/modules/import/{token}")

    assert "This package has 2 problems to fix. Nothing was imported." in preview
    assert (
        "<code>lessons/01-why-listen.md:11</code>: prompt id &#34;last-time-heard&#34; is used "
        "twice in this lesson"
    ) in preview
    assert "<code>lessons/02-holding-a-circle.md:18</code>" in preview
    assert f'action="/admin/modules/import/{token}"' not in preview  # no confirm form
    cancel = client.post(
        f"/admin/modules/import/{token}/cancel",
        data={"csrf_token": csrf_token(client, "/admin/modules")},
    )
    assert cancel.status_code == 302
    assert snapshot(db, data_dir) == before


def test_a_hostile_zip_is_refused_in_the_preview_and_leaves_no_trace(
    client, admin, db, data_dir, tmp_path
):
    hostile = io.BytesIO()
    with zipfile.ZipFile(hostile, "w") as archive:
        archive.writestr("../../../etc/cron.d/evil", "* * * * * root sh")
        archive.writestr("module.yaml", "format: 1\n")
    before = snapshot(db, data_dir)
    token = token_of(upload(client, hostile.getvalue()))
    preview = page(client, f"/admin/modules/import/{token}")
    assert "this path leads outside the package" in preview
    client.post(
        f"/admin/modules/import/{token}/cancel",
        data={"csrf_token": csrf_token(client, "/admin/modules")},
    )
    assert snapshot(db, data_dir) == before
    assert not (data_dir.parent / "etc").exists()


def test_the_same_version_is_refused_unless_the_admin_forces_it(client, admin, db, tmp_path):
    zipped = zip_folder(MINIMAL, tmp_path / "p.zip")
    confirm(client, token_of(upload(client, zipped)))

    token = token_of(upload(client, zipped))
    preview = page(client, f"/admin/modules/import/{token}")
    assert "listening-circles 1.0.0 is installed already." in preview
    assert "Import it anyway" in preview
    assert "The lessons, prompts and files are the same as the installed ones." in preview

    confirm(client, token)
    status = page(client, f"/admin/modules/import/{token}/status")
    assert "Not imported" in status
    assert "listening-circles 1.0.0 is installed already." in status

    forced = token_of(upload(client, zipped))
    confirm(client, forced, force=True)
    assert "is now at version 1.0.0 (it was 1.0.0)" in page(
        client, f"/admin/modules/import/{forced}/status"
    )


def test_uploads_must_be_zips_within_the_size_limit(app, client, admin, data_dir):
    refused = upload(client, b"plain text", name="notes.txt")
    assert refused.status_code == 400
    assert "Choose a .zip file." in refused.get_data(as_text=True)

    app.config["LMS_MAX_PACKAGE_BYTES"] = 10
    too_big = upload(client, b"PK\x03\x04" + b"\x00" * 100)
    assert too_big.headers["Location"].endswith("/admin/modules")
    assert "That package is larger than this site accepts." in page(client, "/admin/modules")
    assert not list((data_dir / "uploads").glob("*.zip"))


def test_an_upload_belongs_to_the_admin_who_made_it(client, admin, make_user, auth, tmp_path):
    token = token_of(upload(client, zip_folder(MINIMAL, tmp_path / "p.zip")))
    other = make_user(Role.ADMIN)
    auth.logout()
    auth.login(other.email)
    assert client.get(f"/admin/modules/import/{token}").status_code == 404
    assert client.get(f"/admin/modules/import/{token}/status").status_code == 404
    assert client.get("/admin/modules/import/..%2F..%2Fsecret_key").status_code == 404


def test_learners_and_facilitators_cannot_see_the_import_pages(client, make_user, auth):
    auth.login(make_user(Role.FACILITATOR).email)
    assert client.get("/admin/modules").status_code == 404
    assert client.post("/admin/modules/import").status_code in (400, 404)


def test_a_running_import_shows_its_progress_and_refreshes(client, admin, data_dir, tmp_path):
    token = token_of(upload(client, zip_folder(MINIMAL, tmp_path / "p.zip")))
    status = {"state": "running", "done": 25, "total": 100, "updated": time.time()}
    (data_dir / "uploads" / f"{token}.status.json").write_text(json.dumps(status))
    running = page(client, f"/admin/modules/import/{token}/status")
    assert '<meta http-equiv="refresh" content="2">' in running
    assert '<progress max="100" value="25"' in running
    assert "25% of the files copied." in running

    status["updated"] = time.time() - jobs.STALE_STATUS_SECONDS - 1
    (data_dir / "uploads" / f"{token}.status.json").write_text(json.dumps(status))
    stale = page(client, f"/admin/modules/import/{token}/status")
    assert "The import stopped before it finished. Nothing was changed" in stale
    assert "refresh" not in stale


def test_an_installed_module_downloads_as_a_package(client, admin, tmp_path):
    confirm(client, token_of(upload(client, zip_folder(MINIMAL, tmp_path / "p.zip"))))
    response = client.get("/admin/modules/listening-circles/export")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=listening-circles-1.0.0.zip"
    )
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        assert "lessons/01-why-listen.md" in archive.namelist()
    response.close()
    assert client.get("/admin/modules/nope/export").status_code == 404
