"""Static files under content-hashed names, compressed once, served by WhiteNoise before Flask.

A page names ``css/site.3f2a1b9c04d5.css``, never ``css/site.css``: a name that changes
whenever the file does can be cached by browsers for a year without asking again, so a
learner reopening a lesson downloads the page alone. The unhashed names keep working,
for pages rendered before a release, with ``no-cache`` (asked again every time).

At app creation ``build`` copies every file of ``lms/static`` under both names (scripts
and stylesheets minified: comments and spaces out, nothing renamed) into a
folder of ``LMS_STATIC_DIR`` named after the digest of all of them, beside a ``.br`` and
a ``.gz`` made once by WhiteNoise's compressor at their highest levels, and a manifest
(logical name → hashed name). It is made once per version of the files, whoever starts
first: in a temporary folder renamed into place when complete, so workers starting
together, or tests in parallel, see the whole build or none, and any later start only
reads the files to find their digest. WhiteNoise then serves the folder as WSGI
middleware, in front of the app: no session, no database, no hook; the compressed
copy the client accepts, ``Vary``, conditional and range requests, and the headers set
here (the cache's, ``nosniff``, an ETag of the content).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from wsgiref.headers import Headers

import rcssmin
import rjsmin
from flask import Flask, url_for
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

# Changed when the build makes something different of the same files (its folder changes).
BUILD_FORMAT = "lms-static-2"
HASH_DIGITS = 12  # of the file's SHA-256 in its name, as Django's hashed names have
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class StaticBuild:
    """A built folder of static files: where they are, and each one's hashed name."""

    folder: Path
    prefix: str
    hashed: dict[str, str]
    _headers: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for name, hashed in self.hashed.items():
            etag = f'W/"{_digest_in(name, hashed)}"'  # weak: the same for each encoding
            self._headers[self.prefix + name] = {"Cache-Control": REVALIDATE, "ETag": etag}
            self._headers[self.prefix + hashed] = {"Cache-Control": IMMUTABLE, "ETag": etag}

    def add_headers(self, headers: Headers, _path: str, url: str) -> None:
        """WhiteNoise's hook: the cache's headers and ``nosniff`` for the file at ``url``."""
        for name, value in self._headers.get(url, {"Cache-Control": REVALIDATE}).items():
            headers[name] = value
        headers["X-Content-Type-Options"] = "nosniff"


def hashed_name(name: str, digest: str) -> str:
    """``css/site.css`` with the file's digest: ``css/site.3f2a1b9c04d5.css``."""
    path = PurePosixPath(name)
    return str(path.with_name(f"{path.stem}.{digest[:HASH_DIGITS]}{path.suffix}"))


def _digest_in(name: str, hashed: str) -> str:
    """The digest ``hashed_name`` put in the name."""
    after_stem = PurePosixPath(hashed).name[len(PurePosixPath(name).stem) + 1 :]
    return after_stem[:HASH_DIGITS]


def _sources(source: Path) -> dict[str, bytes]:
    """Every file under ``source`` by its path there, hidden ones (an editor's) left out."""
    files = {}
    for path in sorted(source.rglob("*")):
        name = path.relative_to(source).as_posix()
        if path.is_file() and not any(part.startswith(".") for part in name.split("/")):
            files[name] = path.read_bytes()
    return files


def build(source: Path, into: Path, prefix: str = "/static/") -> StaticBuild:
    """The build of ``source`` in ``into``: made now unless a process made it already."""
    files = _sources(source)
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    version = hashlib.sha256(
        "\0".join([BUILD_FORMAT, *(f"{n}\0{d}" for n, d in digests.items())]).encode()
    ).hexdigest()[:16]
    folder = into / version
    if not (folder / MANIFEST).is_file():
        _make(folder, files, digests)
    hashed = json.loads((folder / MANIFEST).read_text())
    return StaticBuild(folder / "files", prefix, hashed)


def _make(folder: Path, files: dict[str, bytes], digests: dict[str, str]) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=folder.parent))
    try:
        compressor = Compressor(quiet=True)
        manifest = {}
        for name, data in files.items():
            manifest[name] = hashed = hashed_name(name, digests[name])
            target = work / "files" / hashed
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(minified(name, data))
            made = [target]
            if compressor.should_compress(name):
                made += [Path(p) for p in compressor.compress(str(target))]
            for path in made:  # the unhashed name, with the same .br and .gz
                encoding = path.name.removeprefix(target.name)
                shutil.copyfile(path, work / "files" / (name + encoding))
        # Written last: a folder with its manifest is complete.
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        work.chmod(0o755)  # mkdtemp's folder is the owner's alone
        try:
            os.rename(work, folder)
        except OSError:
            if not (folder / MANIFEST).is_file():
                raise
            # Another process renamed its build of the same files first: it is this one.
    finally:
        shutil.rmtree(work, ignore_errors=True)


def minified(name: str, data: bytes) -> bytes:
    """A script or stylesheet without its comments and spaces; any other file as it is.

    What a phone downloads: autosave.js is 18.9 KB as written, 5.8 KB with gzip, and
    about 3.3 KB minified and gzipped. The files in lms/static stay as written.
    """
    minify = {".js": rjsmin.jsmin, ".css": rcssmin.cssmin}.get(PurePosixPath(name).suffix)
    return minify(data.decode()).encode() if minify else data


def init_app(app: Flask) -> None:
    """Build the static files, give templates ``static_url``, and serve them with WhiteNoise."""
    prefix = app.static_url_path.rstrip("/") + "/"
    built = build(Path(app.static_folder), Path(app.config["LMS_STATIC_DIR"]), prefix)
    app.extensions["lms_static"] = built

    @app.template_global()
    def static_url(name: str) -> str:
        """The address of a static file under its hashed name (a KeyError for a wrong name)."""
        return url_for("static", filename=built.hashed[name])

    # Outermost, so a static file's request never reaches Flask. Flask's own static route
    # stays for url_for and for a file added after the build (a developer's, until restart).
    app.wsgi_app = WhiteNoise(
        app.wsgi_app,
        root=built.folder,
        prefix=prefix,
        max_age=None,  # add_headers says, file by file
        allow_all_origins=False,  # no other site needs our files
        add_headers_function=built.add_headers,
    )
