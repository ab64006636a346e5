"""What a request may carry: body sizes per route, text every database can store, plain JSON."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from lms.models import ReflectionRevision, User
from tests.conftest import csrf_token
from tests.factories import make_enrollment, make_module

MIB = 1024 * 1024


class CountingStream:
    """A body of the given size, made up as it is read, that counts what the app read.

    Between ``head`` and ``tail`` it is filler: with the right head and tail, one file
    of a multipart form.
    """

    def __init__(self, size: int, head: bytes = b"", tail: bytes = b"") -> None:
        self.size = size
        self.head, self.tail = head, tail
        self.position = 0
        self.read_bytes = 0

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = 0) -> None:
        self.position = self.size + offset if whence == 2 else offset

    def read(self, size: int = -1) -> bytes:
        left = self.size - self.position
        size = left if size is None or size < 0 else min(size, left)
        chunk = bytearray(b"x" * size)
        for start, part in ((0, self.head), (self.size - len(self.tail), self.tail)):
            for index, byte in enumerate(part):
                if self.position <= start + index < self.position + size:
                    chunk[start + index - self.position] = byte
        self.position += size
        self.read_bytes += size
        return bytes(chunk)

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)


def _one_file(size: int, field: str) -> CountingStream:
    head = (
        f'--xyz\r\nContent-Disposition: form-data; name="{field}"; filename="m.zip"\r\n'
        "Content-Type: application/zip\r\n\r\n"
    ).encode()
    return CountingStream(size, head, b"\r\n--xyz--\r\n")


def _post_announcing(client, path: str, stream: CountingStream):
    return client.post(path, input_stream=stream, content_type="multipart/form-data; boundary=xyz")


def test_an_anonymous_200_mb_post_to_sign_in_is_refused_before_it_is_read(client):
    stream = CountingStream(200 * MIB)
    response = _post_announcing(client, "/login", stream)
    assert response.status_code == 413
    assert stream.read_bytes == 0
    assert "larger than this site accepts" in response.get_data(as_text=True)


def test_routes_that_take_files_allow_their_own_size_and_no_more(app, client, auth, make_user):
    from lms.models import Role

    admin = make_user(role=Role.ADMIN)
    auth.login(admin.email)
    limit = app.config["LMS_MAX_PACKAGE_BYTES"]
    stream = CountingStream(limit + 2 * MIB)
    over = _post_announcing(client, "/admin/modules/import", stream)
    assert over.status_code == 413
    assert stream.read_bytes == 0
    # Within the package limit but over every other route's: read, then refused as a form.
    within = _one_file(9 * MIB, "package")
    assert _post_announcing(client, "/admin/modules/import", within).status_code == 400
    assert within.read_bytes >= 9 * MIB
    elsewhere = CountingStream(9 * MIB)
    assert _post_announcing(client, "/account/password", elsewhere).status_code == 413
    assert elsewhere.read_bytes == 0


@pytest.fixture
def opened_prompt(client, db, make_user, auth):
    user = make_user()
    auth.login(user.email)
    module = make_module(db, lessons=1)
    make_enrollment(db, user, module)
    prompt = module.lessons[0].prompts[0]
    db.commit()
    assert client.get(f"/modules/{module.slug}/lessons/lesson-1").status_code == 200
    return prompt


def _revisions(db) -> int:
    count = db.scalar(select(func.count()).select_from(ReflectionRevision))
    db.commit()
    return count


def test_the_longest_answer_in_a_non_latin_script_fits(client, db, opened_prompt):
    """100,000 characters of three UTF-8 bytes each: 900 KB form-encoded."""
    prompt = opened_prompt
    body = "中" * 100_000
    response = client.post(
        f"/prompts/{prompt.id}/answer",
        data={f"p{prompt.id}-body": body, f"p{prompt.id}-revision": "0"},
        headers={"X-CSRFToken": csrf_token(client), "Accept": "application/json"},
    )
    assert response.status_code == 200
    assert response.json["revision"] == 1


UNSTORABLE = ["before\x00after", "\x00", "a lone \ud800 surrogate"]


@pytest.mark.parametrize("body", UNSTORABLE)
def test_an_answer_no_database_can_store_is_a_400_in_plain_words(client, db, opened_prompt, body):
    prompt = opened_prompt
    payload = {f"p{prompt.id}-body": body, f"p{prompt.id}-revision": 0}
    response = client.post(
        f"/prompts/{prompt.id}/answer",
        data=json.dumps(payload),
        content_type="application/json",
        headers={"X-CSRFToken": csrf_token(client), "Accept": "application/json"},
    )
    assert response.status_code == 400
    assert "U+0000" in response.json["error"]
    assert _revisions(db) == 0


def test_a_form_field_with_u0000_is_refused_on_every_route_the_same_way(client, db):
    token = csrf_token(client, "/register")
    response = client.post(
        "/register",
        data={
            "csrf_token": token,
            "email": "nul@example.org",
            "display_name": "Nul\x00Name",
            "password": "a long enough password",
            "confirm": "a long enough password",
        },
    )
    assert response.status_code == 400
    assert "U+0000" in response.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(User)) == 0


def test_u0000_in_a_query_or_a_path_is_refused(client):
    assert client.get("/modules?page=1%00").status_code == 400
    assert client.get("/modules/well%00ness").status_code in (302, 404)


@pytest.mark.parametrize("body", ["5", "[1, 2]", '{"p1-body": {"nested": 1}}', "not json"])
def test_a_json_body_must_be_an_object_of_plain_values(client, db, opened_prompt, body):
    prompt = opened_prompt
    response = client.post(
        f"/prompts/{prompt.id}/answer",
        data=body.replace("p1-", f"p{prompt.id}-"),
        content_type="application/json",
        headers={"X-CSRFToken": csrf_token(client), "Accept": "application/json"},
    )
    assert response.status_code == 400
    assert response.json["error"]
    assert _revisions(db) == 0
