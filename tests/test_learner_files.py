"""Learner files: types by content, size limit, quota, private storage, served as downloads only."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms.models import LearnerFile, Lesson, Role
from lms.web.storage import storage
from tests.conftest import Auth
from tests.factories import PDF_BYTES, make_cohort, make_module, png_bytes
from tests.lesson_page import on_a_new_lesson


@pytest.fixture
def lesson(client, db, make_user, auth):
    """A learner in a lesson with a prompt that accepts files and one that does not."""
    user, (files_prompt, words_prompt), url = on_a_new_lesson(
        db,
        make_user,
        auth,
        [{"text": "Share your drawing", "accepts_files": True}, {"text": "In words"}],
    )
    client.get(url)
    return user, files_prompt, words_prompt, url


def upload(auth, prompt, *files, json=False):
    """Post files as the lesson's upload form does (or as upload.js does, with json=True)."""
    data = {f"u{prompt.id}-files": [(io.BytesIO(content), name) for name, content in files]}
    headers = {"Accept": "application/json"} if json else {}
    return auth.post(
        f"/prompts/{prompt.id}/answer/files",
        data,
        content_type="multipart/form-data",
        headers=headers,
    )


def _stored(db) -> list[LearnerFile]:
    files = list(db.scalars(select(LearnerFile).order_by(LearnerFile.id)))
    db.commit()
    return files


def _files_on_disk(app) -> list[Path]:
    root = storage(app).learner_files_dir
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_a_file_is_attached_stored_by_id_and_listed(app, client, auth, db, lesson):
    user, prompt, _words, url = lesson
    response = upload(auth, prompt, ("../../drawing.png", png_bytes()))
    assert response.status_code == 302
    [stored] = _stored(db)
    assert stored.filename == "drawing.png"
    assert stored.content_type == "image/png"
    assert stored.size == len(png_bytes())
    assert stored.user_id == user.id
    assert stored.reflection_id is not None
    [path] = _files_on_disk(app)
    assert path == storage(app).learner_file_path(stored)
    assert path.name == stored.public_id
    assert str(user.id) == path.parent.name
    page = client.get(url).get_data(as_text=True)
    assert "Attached 1 file to your answer." in page
    assert f"/files/{stored.public_id}" in page


def test_files_are_always_downloads_never_inline(client, auth, db, lesson):
    _user, prompt, _words, _url = lesson
    upload(auth, prompt, ("story notes.txt", b"Once, in our street..."))
    [stored] = _stored(db)
    with client.get(f"/files/{stored.public_id}") as response:
        body = response.get_data()
    assert response.status_code == 200
    assert body == b"Once, in our street..."
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "story notes.txt" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"  # one charset
    assert "sandbox" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("page.html", b"<html><script>alert(1)</script></html>", "are not accepted here"),
        ("notes.txt", b"<!doctype html><script>alert(1)</script>", "web page"),
        ("photo.png", b"this is not a picture at all", "is not a PNG image"),
        ("worksheet.pdf", b"MZ\x90\x00 a windows program", "a Windows program"),
        ("drawing.svg", b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "are not accepted"),
        ("noextension", PDF_BYTES, "has no file extension"),
    ],
)
def test_types_are_checked_by_content(app, client, auth, db, lesson, name, content, message):
    _user, prompt, _words, url = lesson
    response = upload(auth, prompt, (name, content))
    assert response.status_code == 302
    assert message in client.get(url).get_data(as_text=True)
    assert _stored(db) == []
    assert _files_on_disk(app) == []


def _download(client, stored) -> tuple[bytes, str]:
    with client.get(f"/files/{stored.public_id}") as response:
        assert "Set-Cookie" not in response.headers
        return response.get_data(), response.headers["Content-Disposition"]


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../../etc/passwd.txt", "passwd.txt"),
        ("/var/lib/lms/secret.txt", "secret.txt"),
        ("notes\x00.exe.txt", "notes.exe.txt"),
        ("a\x1b[2Jb\x07.txt", "a[2Jb.txt"),
        ("\u202etxt.exe.txt", "txt.exe.txt"),
        ("n" * 296 + ".txt", "n" * 196 + ".txt"),
    ],
)
def test_hostile_names_are_cleaned_and_never_become_paths(
    app, client, auth, db, lesson, sent, kept
):
    _user, prompt, _words, _url = lesson
    upload(auth, prompt, (sent, b"plain words"))
    [stored] = _stored(db)
    assert stored.filename == kept
    [path] = _files_on_disk(app)
    assert path.name == stored.public_id  # the path is built from ids, never from the name
    body, disposition = _download(client, stored)
    assert body == b"plain words"
    assert disposition.startswith("attachment;")


@pytest.mark.parametrize(
    "sent",
    [
        "..\\..\\windows\\win.ini.txt",
        'x.txt"\r\nSet-Cookie: stolen=1; "y.txt',
        "naïve résumé 履歴書.txt",
    ],
)
def test_names_that_break_headers_stay_inside_the_header(client, auth, db, lesson, sent):
    _user, prompt, _words, _url = lesson
    upload(auth, prompt, (sent, b"plain words"))
    [stored] = _stored(db)
    assert "/" not in stored.filename
    assert "\\" not in stored.filename
    _body, disposition = _download(client, stored)
    assert "\r" not in disposition
    assert "\n" not in disposition
    assert disposition.isascii()  # anything else travels percent-encoded in filename*


@pytest.mark.parametrize(
    ("sent", "message"),
    [("..", "has no file extension"), ("\u202etxt.exe", "files of type .exe are not accepted")],
)
def test_names_that_clean_to_nothing_useful_are_refused(
    app, client, auth, db, lesson, sent, message
):
    _user, prompt, _words, url = lesson
    upload(auth, prompt, (sent, b"plain words"))
    assert message in client.get(url).get_data(as_text=True)
    assert _stored(db) == []
    assert _files_on_disk(app) == []


def test_a_polyglot_is_refused_and_leaves_nothing(app, client, auth, db, lesson):
    _user, prompt, _words, url = lesson
    gifar = b"GIF89a/*\x00\x00*/=1;<script>alert(1)</script>"
    upload(auth, prompt, ("avatar.gif", gifar))
    assert "hides a web page" in client.get(url).get_data(as_text=True)
    assert _stored(db) == []
    assert _files_on_disk(app) == []


def test_a_file_over_the_size_limit_is_refused(app, client, auth, db, lesson):
    _user, prompt, _words, url = lesson
    app.config["LMS_MAX_UPLOAD_BYTES"] = 1000
    upload(auth, prompt, ("big.txt", b"x" * 1001), ("small.txt", b"y" * 1000))
    page = client.get(url).get_data(as_text=True)
    assert "“big.txt” is larger than" in page
    assert [f.filename for f in _stored(db)] == ["small.txt"]
    assert len(_files_on_disk(app)) == 1


def test_the_quota_of_a_learner_is_kept(app, client, auth, db, lesson):
    _user, prompt, _words, url = lesson
    app.config["LMS_LEARNER_QUOTA_BYTES"] = 1500
    upload(auth, prompt, ("one.txt", b"a" * 1000))
    upload(auth, prompt, ("two.txt", b"b" * 1000))
    page = client.get(url).get_data(as_text=True)
    assert "“two.txt” does not fit" in page
    assert [f.filename for f in _stored(db)] == ["one.txt"]
    assert len(_files_on_disk(app)) == 1


def test_the_upload_script_gets_json(client, auth, db, lesson):
    _user, prompt, _words, url = lesson
    response = upload(auth, prompt, ("a.txt", b"hello"), json=True)
    assert response.status_code == 200
    assert response.json["redirect"].endswith(f"{url}#prompt-{prompt.id}")
    response = upload(auth, prompt, ("a.exe", b"MZ"), json=True)
    assert response.status_code == 400
    assert response.json["problems"]


def test_a_prompt_that_accepts_no_files_takes_none(auth, db, lesson):
    _user, _prompt, words, _url = lesson
    assert upload(auth, words, ("a.txt", b"hello")).status_code == 404
    assert _stored(db) == []


def test_removing_a_file_removes_it_from_disk(app, auth, db, lesson):
    _user, prompt, _words, _url = lesson
    upload(auth, prompt, ("a.txt", b"hello"))
    [stored] = _stored(db)
    response = auth.post(f"/files/{stored.public_id}/delete")
    assert response.status_code == 302
    assert _stored(db) == []
    assert _files_on_disk(app) == []


def test_who_may_download_a_learner_file(app, db, make_user, auth, lesson):
    owner, prompt, _words, _url = lesson
    upload(auth, prompt, ("a.txt", b"private words"))
    [stored] = _stored(db)
    path = f"/files/{stored.public_id}"
    facilitator, other_facilitator, admin, other_learner, cohort_mate = (
        make_user(Role.FACILITATOR),
        make_user(Role.FACILITATOR),
        make_user(Role.ADMIN),
        make_user(),
        make_user(),
    )
    module = db.get_one(Lesson, prompt.lesson_id).module
    make_cohort(db, modules=[module], facilitators=[facilitator], learners=[owner, cohort_mate])
    make_cohort(db, modules=[module], facilitators=[other_facilitator], learners=[other_learner])
    expected = [
        (facilitator, 200),
        (admin, 200),
        (other_facilitator, 404),
        (other_learner, 404),
        (cohort_mate, 404),
        (owner, 200),
    ]
    for person, status in expected:
        client = app.test_client()
        Auth(client).login(person.email)
        with client.get(path) as response:
            body = response.get_data()
        assert response.status_code == status, person.email
        if status == 200:
            assert body == b"private words"
        # Only the owner may remove it; the owner goes last.
        removed = Auth(client).post(f"{path}/delete").status_code
        assert removed == (302 if person is owner else 404), person.email
    anonymous = app.test_client().get(path)
    assert anonymous.status_code == 302
    assert "/login" in anonymous.headers["Location"]


def _downloads(app, person, path) -> int:
    client = app.test_client()
    Auth(client).login(person.email)
    with client.get(path) as response:
        response.get_data()
        return response.status_code


@pytest.mark.parametrize(
    ("arrangement", "status"),
    [
        ("a cohort of the module", 200),
        ("a cohort of another module", 404),
        ("the owner co-facilitates it", 404),
        ("the file is on no answer", 404),
    ],
)
def test_a_facilitator_reaches_a_file_only_through_a_cohort_of_its_module(
    app, db, make_user, auth, lesson, arrangement, status
):
    owner, prompt, _words, _url = lesson
    upload(auth, prompt, ("a.txt", b"private words"))
    [stored] = _stored(db)
    facilitator, admin = make_user(Role.FACILITATOR), make_user(Role.ADMIN)
    module = db.get_one(Lesson, prompt.lesson_id).module
    if arrangement == "a cohort of another module":
        module = make_module(db, lessons=1)
    if arrangement == "the owner co-facilitates it":
        make_cohort(db, modules=[module], facilitators=[facilitator, owner])
    else:
        make_cohort(db, modules=[module], facilitators=[facilitator], learners=[owner])
    if arrangement == "the file is on no answer":
        db.get_one(LearnerFile, stored.id).reflection_id = None  # as when an answer goes
        db.commit()
    path = f"/files/{stored.public_id}"

    assert _downloads(app, facilitator, path) == status
    assert (_downloads(app, admin, path), _downloads(app, owner, path)) == (200, 200)


def test_public_ids_do_not_follow_each_other(auth, db, lesson):
    _user, prompt, _words, _url = lesson
    upload(auth, prompt, ("a.txt", b"one"), ("b.txt", b"two"))
    first, second = _stored(db)
    assert len(first.public_id) >= 32
    assert first.public_id[:8] != second.public_id[:8]
    assert db.scalar(select(func.count()).select_from(LearnerFile)) == 2
