"""Delivery: responses compressed where it is safe, static files hashed, cached and precompressed.

Through the app as a client sees it (the test client runs the whole WSGI stack,
WhiteNoise in front): what comes back for each Accept-Encoding, decoded, equals what
comes back plain. The byte budgets of issue 15 are checked on the bundled wellness module.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import brotli
import pytest
from flask import jsonify
from sqlalchemy import select

from lms import create_app
from lms.models import Attachment, LiveSession, Module, Role, Sequence
from lms.web import static_files
from lms.web.database import database
from tests.factories import make_cohort, make_enrollment, make_users
from tests.fixtures.packages.importing import import_into
from tests.fixtures.packages.kit import BUNDLED

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "lms" / "static"
BROWSER = "gzip, deflate, br, zstd"  # what Chromium sends (over https, and to 127.0.0.1)
KB = 1024
HASHED = re.compile(r"^/static/(?P<name>[\w/-]+)\.(?P<digest>[0-9a-f]{12})\.(?P<ext>css|js)$")


def decoded(response) -> bytes:
    """The body as the client reads it, after undoing its Content-Encoding."""
    body = response.get_data()
    encoding = response.headers.get("Content-Encoding")
    if encoding == "br":
        return brotli.decompress(body)
    if encoding == "gzip":
        return gzip.decompress(body)
    assert encoding is None, encoding
    return body


def steady(body: bytes) -> bytes:
    """The body without what differs from one request to the next (signed at this second)."""
    body = re.sub(rb'(csrf-token" content="|name="csrf_token" value=")[^"]+', rb"\1-", body)
    return re.sub(rb"DTSTAMP:\d{8}T\d{6}Z", b"DTSTAMP:-", body)


def fetch(client, url: str, accept: str | None, site: str | None = "same-origin"):
    """GET as a browser would, with its Accept-Encoding and Sec-Fetch-Site (None: not sent)."""
    headers = {}
    if accept is not None:
        headers["Accept-Encoding"] = accept
    if site is not None:
        headers["Sec-Fetch-Site"] = site
    response = client.get(url, headers=headers)
    response.get_data()  # read it whole, then let go of a static file's handle
    response.close()
    return response


@pytest.fixture
def wellness(db, storage) -> Module:
    """The bundled wellness module, imported as `lms setup` does; every lesson open."""
    import_into(db, storage, BUNDLED / "holistic-wellness")
    module = db.scalar(select(Module).where(Module.slug == "holistic-wellness"))
    # Open, so that a learner reaches every lesson without answering: the page is the same.
    module.sequence = Sequence.OPEN
    db.commit()
    return module


@pytest.fixture
def site(app, db, auth, wellness) -> dict[str, str]:
    """An admin signed in and enrolled in the wellness module, which a cohort of 20
    learners with six live sessions works through: a URL of each kind that is compressed."""
    admin, *learners = make_users(db, Role.ADMIN, *[Role.LEARNER] * 20)
    make_enrollment(db, admin, wellness)
    cohort = make_cohort(db, "Spring", [wellness], [], learners)
    start = datetime(2026, 3, 10, 17, 30, tzinfo=UTC)
    db.add_all(
        LiveSession(
            cohort_id=cohort.id,
            title=f"Circle {n}",
            starts_at=start + timedelta(days=7 * n),
            notes="Bring a notebook. " * 5,
        )
        for n in range(6)
    )
    db.commit()

    # Every JSON answer of the app is shorter than COMPRESS_MIN_SIZE (an autosave's is
    # about 120 bytes): this route stands for a longer one, behind every hook of the app.
    app.add_url_rule("/test-only/long.json", "long_json", _long_json)
    auth.login(admin.email)
    lesson = f"/modules/{wellness.slug}/lessons/arriving-with-yourself"
    page = auth.client.get(lesson).get_data(as_text=True)
    return {
        "html": lesson,
        "css": re.search(r'href="(/static/css/site\.[^"]+)"', page)[1],
        "js": re.search(r'src="(/static/js/autosave\.[^"]+)"', page)[1],
        "json": "/test-only/long.json",
        "csv": f"/facilitate/cohorts/{cohort.id}/modules/{wellness.id}/progress.csv",
        "ics": f"/cohorts/{cohort.id}/calendar.ics",
    }


def _long_json():
    response = jsonify(items=["x" * 40] * 40)
    response.set_etag("long-json-1")
    return response


TYPES = {
    "html": "text/html",
    "css": "text/css",
    "js": "text/javascript",
    "json": "application/json",
    "csv": "text/csv",
    "ics": "text/calendar",
}


# --- Compressed as the client accepts -------------------------------------------------


@pytest.mark.parametrize("kind", TYPES)
@pytest.mark.parametrize(
    ("accept", "encoding"),
    [
        (BROWSER, "br"),
        ("gzip, deflate", "gzip"),
        ("identity", None),
        (None, None),
    ],
)
def test_each_kind_goes_out_compressed_as_the_client_accepts(auth, site, kind, accept, encoding):
    plain = fetch(auth.client, site[kind], None)
    response = fetch(auth.client, site[kind], accept)

    assert response.status_code == plain.status_code == 200
    assert response.mimetype == TYPES[kind]
    assert response.headers.get("Content-Encoding") == encoding
    assert "Accept-Encoding" in response.headers["Vary"]
    assert steady(decoded(response)) == steady(decoded(plain))
    if encoding:
        assert len(response.get_data()) < len(plain.get_data()) / 2


def test_the_clients_preference_is_followed(auth, site):
    response = fetch(auth.client, site["html"], "br;q=0.5, gzip")
    assert response.headers["Content-Encoding"] == "gzip"
    response = fetch(auth.client, site["html"], "br;q=0, gzip;q=0")
    assert "Content-Encoding" not in response.headers


def test_a_compressed_answer_has_an_etag_of_its_own(auth, site):
    """A strong ETag names one set of bytes: the compressed body gets its own."""
    plain = fetch(auth.client, site["json"], None)
    compressed = fetch(auth.client, site["json"], BROWSER)
    assert plain.headers["ETag"] == '"long-json-1"'
    assert compressed.headers["ETag"] == '"long-json-1:br"'
    again = auth.client.get(
        site["json"],
        headers={
            "Accept-Encoding": BROWSER,
            "Sec-Fetch-Site": "same-origin",
            "If-None-Match": compressed.headers["ETag"],
        },
    )
    assert again.status_code == 304


def test_a_redirect_goes_out_as_it_is(auth, site):
    response = fetch(auth.client, "/login", BROWSER)  # signed in already: sent home
    assert response.status_code == 302
    assert "Content-Encoding" not in response.headers


def test_files_go_out_as_they_are_stored(auth, db, storage, make_user):
    """An attachment of a compressible type (a CSV template) is sent as stored: its length,
    ranges and ETag stay its own."""
    import_into(db, storage, BUNDLED / "community-resilience")
    attachment = db.scalar(
        select(Attachment).where(Attachment.filename == "contact-tree-template.csv")
    )
    module = attachment.module
    module.sequence = Sequence.OPEN
    learner = make_user()
    make_enrollment(db, learner, module)
    auth.login(learner.email)
    if attachment.lesson is not None:
        fetch(auth.client, f"/modules/{module.slug}/lessons/{attachment.lesson.slug}", None)
    stored = (BUNDLED / "community-resilience" / "attachments" / attachment.filename).read_bytes()
    assert len(stored) > 500  # long enough to be compressed, were it not a file

    response = fetch(auth.client, f"/attachments/{attachment.id}", BROWSER)

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "Content-Encoding" not in response.headers
    assert response.headers["ETag"] == f'"{attachment.sha256}"'
    assert response.get_data() == stored


# --- BREACH: never for a request another site can have made with the cookies ----------


@pytest.mark.parametrize(
    ("site_header", "compressed"),
    [
        ("same-origin", True),
        ("none", True),  # an address typed, a bookmark
        ("same-site", False),  # another site of the same domain
        ("cross-site", False),
        (None, False),  # an old browser, or a script, that says nothing
    ],
)
def test_a_page_is_compressed_only_when_no_other_site_can_have_asked_for_it(
    auth, site, site_header, compressed
):
    response = fetch(auth.client, site["html"], BROWSER, site=site_header)
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == ("br" if compressed else None)
    assert "Accept-Encoding" in response.headers["Vary"]


def test_a_request_without_the_session_cookie_is_compressed_from_anywhere(app):
    client = app.test_client()  # no cookie at all: the page holds no one's secret
    response = fetch(client, "/login", BROWSER, site="cross-site")
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "br"


def test_the_remember_cookie_alone_counts_as_signed_in(app):
    client = app.test_client()
    client.set_cookie(app.config["REMEMBER_COOKIE_NAME"], "anything")
    response = fetch(client, "/login", BROWSER, site="cross-site")
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers


def test_static_files_are_compressed_from_anywhere(auth, site):
    response = fetch(auth.client, site["css"], BROWSER, site="cross-site")
    assert response.headers["Content-Encoding"] == "br"


def test_compression_can_be_left_to_a_proxy(environ):
    app = create_app({**environ, "LMS_COMPRESS": "0"}, {"TESTING": True})
    response = fetch(app.test_client(), "/login", BROWSER)
    database(app).engine.dispose()
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
    assert "Accept-Encoding" not in response.headers.get("Vary", "")


# --- Streams stay streams ------------------------------------------------------------


@pytest.mark.parametrize("accept", [BROWSER, "gzip", None])
def test_the_progress_export_streams_compressed(auth, site, accept):
    response = auth.client.get(
        site["csv"], headers={"Accept-Encoding": accept or "", "Sec-Fetch-Site": "same-origin"}
    )
    assert response.is_streamed  # a generator, consumed as it goes out
    assert "Content-Length" not in response.headers  # not buffered to be measured
    assert response.headers["Content-Disposition"].startswith("attachment;")
    text = decoded(response).decode()
    response.close()
    lines = text.splitlines()
    assert lines[0].startswith("name,email,percent,")
    assert len(lines) == 21
    assert "Learner 21," in text


# --- Static files: hashed names, cached for a year, precompressed --------------------


def test_pages_name_static_files_by_their_hash(auth, site):
    page = fetch(auth.client, site["html"], None).get_data(as_text=True)
    urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
    assert len(urls) >= 4  # two stylesheets, two scripts
    for url in urls:
        match = HASHED.match(url)
        assert match, url
        source = STATIC / f"{match['name']}.{match['ext']}"
        assert static_files.hashed_name(str(source.relative_to(STATIC)), _sha(source)) == (
            url.removeprefix("/static/")
        )


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_templates_name_static_files_through_static_url():
    """url_for('static') gives the unhashed name, asked again on every page."""
    using_url_for = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "lms" / "templates").rglob("*.html")
        if "url_for('static'" in path.read_text() or 'url_for("static"' in path.read_text()
    ]
    assert using_url_for == []


@pytest.mark.parametrize(("kind", "media_type"), [("css", "text/css"), ("js", "text/javascript")])
def test_a_hashed_file_is_cached_for_a_year_and_served_compressed(auth, site, kind, media_type):
    url = site[kind]
    name = f"{HASHED.match(url)['name']}.{kind}"
    source = static_files.minified(name, (STATIC / name).read_bytes())
    assert len(source) < len((STATIC / name).read_bytes())
    for accept, encoding in [(BROWSER, "br"), ("gzip, deflate", "gzip"), (None, None)]:
        response = fetch(auth.client, url, accept, site=None)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.mimetype == media_type
        assert response.mimetype_params == {"charset": "utf-8"}
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Vary"] == "Accept-Encoding"
        assert "Access-Control-Allow-Origin" not in response.headers
        assert "Set-Cookie" not in response.headers  # never reached Flask's session
        assert response.headers.get("Content-Encoding") == encoding
        assert int(response.headers["Content-Length"]) == len(response.get_data())
        assert decoded(response) == source


def test_the_unhashed_name_still_works_and_is_asked_again_each_time(auth, site):
    hashed = fetch(auth.client, site["css"], BROWSER)
    response = fetch(auth.client, "/static/css/site.css", BROWSER)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    source = (STATIC / "css" / "site.css").read_bytes()
    assert decoded(response) == static_files.minified("css/site.css", source)
    # One ETag for the content, whatever its name and encoding (weak: encodings differ).
    assert response.headers["ETag"] == hashed.headers["ETag"]
    assert response.headers["ETag"].startswith('W/"')
    again = auth.client.get(
        "/static/css/site.css",
        headers={"Accept-Encoding": BROWSER, "If-None-Match": response.headers["ETag"]},
    )
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["Cache-Control"] == "no-cache"
    again.close()


def test_a_missing_static_file_is_a_404(client):
    response = fetch(client, "/static/css/site.0123456789ab.css", BROWSER)
    assert response.status_code == 404


def test_stylesheets_refer_to_no_other_static_file():
    """The build renames files without rewriting what refers to them: a url() would break."""
    for path in STATIC.rglob("*.css"):
        urls = re.findall(r"url\(([^)]*)\)", path.read_text())
        assert [url for url in urls if "data:" not in url] == [], path.name


# --- The build: once per version of the files, whole or not at all ------------------


@pytest.fixture
def source(tmp_path) -> Path:
    folder = tmp_path / "source"
    shutil.copytree(STATIC, folder)
    return folder


def test_a_changed_file_gets_a_new_name_and_the_others_keep_theirs(source, tmp_path):
    into = tmp_path / "builds"
    first = static_files.build(source, into)
    (source / "css" / "site.css").write_text("body { color: #123; }\n")
    second = static_files.build(source, into)

    assert second.hashed["css/site.css"] != first.hashed["css/site.css"]
    assert second.hashed["js/autosave.js"] == first.hashed["js/autosave.js"]
    assert second.folder != first.folder  # the old build stays for pages already served
    assert (first.folder / first.hashed["css/site.css"]).is_file()
    assert (second.folder / second.hashed["css/site.css"]).read_text() == "body{color:#123}"


def test_a_build_holds_each_file_under_both_names_compressed(source, tmp_path):
    built = static_files.build(source, tmp_path / "builds")
    manifest = json.loads((built.folder.parent / "manifest.json").read_text())
    assert manifest == built.hashed
    visible = [p for p in source.rglob("*") if p.is_file() and not p.name.startswith(".")]
    assert sorted(manifest) == sorted(p.relative_to(source).as_posix() for p in visible)
    assert "js/.keep" not in manifest
    for name, hashed in manifest.items():
        data = static_files.minified(name, (source / name).read_bytes())
        for served in (name, hashed):
            assert (built.folder / served).read_bytes() == data
            assert brotli.decompress((built.folder / f"{served}.br").read_bytes()) == data
            assert gzip.decompress((built.folder / f"{served}.gz").read_bytes()) == data


def test_a_second_start_finds_the_build_and_compresses_nothing(source, tmp_path, monkeypatch):
    into = tmp_path / "builds"
    first = static_files.build(source, into)
    monkeypatch.setattr(static_files, "_make", lambda *_: pytest.fail("built again"))
    assert static_files.build(source, into) == first


def test_workers_starting_together_share_one_whole_build(source, tmp_path):
    into = tmp_path / "builds"
    with ThreadPoolExecutor(max_workers=6) as pool:
        builds = list(pool.map(lambda _: static_files.build(source, into), range(6)))
    assert all(b == builds[0] for b in builds)
    assert [p.name for p in into.iterdir()] == [builds[0].folder.parent.name]  # no leftovers


def test_the_apps_build_lives_in_the_static_dir(app, static_dir):
    built = app.extensions["lms_static"]
    assert built.folder.parent.parent == Path(static_dir)
    assert Path(static_dir) != Path(app.config["LMS_DATA_DIR"])


def test_by_default_the_build_lives_hidden_in_the_data_dir(tmp_path):
    app = create_app({"LMS_DATA_DIR": str(tmp_path)}, {"TESTING": True})
    built = app.extensions["lms_static"]
    # Hidden: a backup leaves it out (it is made again at the next start), as the sweep does.
    assert built.folder.parent.parent == tmp_path / ".static"
    database(app).engine.dispose()


# --- The budgets of issue 15, on a real bundled lesson -----------------------------


def test_a_bundled_lesson_fits_its_byte_budget(app, auth, wellness, db, make_user):
    """Each lesson of the wellness module ≤ 10 KB compressed; each CSS and JS file ≤ 5 KB
    compressed, with brotli and with gzip alone (a browser on plain http has no brotli)."""
    learner = make_user()
    make_enrollment(db, learner, wellness)
    auth.login(learner.email)
    for lesson in wellness.lessons:
        url = f"/modules/{wellness.slug}/lessons/{lesson.slug}"
        for accept in (BROWSER, "gzip, deflate"):
            response = fetch(auth.client, url, accept)
            assert response.status_code == 200
            assert response.headers["Content-Encoding"] in accept
            assert len(response.get_data()) <= 10 * KB, (url, accept)
    hashed = app.extensions["lms_static"].hashed
    assert {"css/site.css", "css/learner.css", "js/autosave.js"} <= set(hashed)
    for name in hashed.values():
        for accept in (BROWSER, "gzip, deflate"):
            response = fetch(auth.client, f"/static/{name}", accept)
            assert response.status_code == 200
            assert len(response.get_data()) <= 5 * KB, (name, accept)
