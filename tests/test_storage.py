"""Files on disk: streamed, atomic, named by hash, and an import's files undone cleanly."""

from __future__ import annotations

import hashlib
import io
import os

import pytest

from lms.storage import Storage, TooLargeError, is_token, write_atomic


def listing(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_write_atomic_streams_hashes_and_replaces(tmp_path):
    target = tmp_path / "deep" / "file.bin"
    data = os.urandom(3 * 1024 * 1024 + 7)
    sha256, size = write_atomic(target, io.BytesIO(data))
    assert (sha256, size) == (hashlib.sha256(data).hexdigest(), len(data))
    assert target.read_bytes() == data
    write_atomic(target, io.BytesIO(b"new"))
    assert target.read_bytes() == b"new"
    assert listing(tmp_path) == ["deep/file.bin"]


def test_write_atomic_over_the_limit_leaves_nothing(tmp_path):
    target = tmp_path / "file.bin"
    target.write_bytes(b"old")
    with pytest.raises(TooLargeError):
        write_atomic(target, io.BytesIO(b"x" * 100), max_bytes=10)
    assert target.read_bytes() == b"old"
    assert listing(tmp_path) == ["file.bin"]


@pytest.mark.parametrize("bad", ["../../etc/passwd", "AB" * 32, "a" * 63, "", "g" * 64])
def test_blob_paths_are_built_from_hashes_only(tmp_path, bad):
    with pytest.raises(ValueError, match="SHA-256"):
        Storage(tmp_path).blob_path(bad)


def test_blob_layout_and_streaming_open(tmp_path):
    storage = Storage(tmp_path)
    staging = storage.new_staging()
    sha256, size = staging.add(io.BytesIO(b"hello"))
    staging.publish()
    staging.close()
    assert storage.blob_path(sha256) == tmp_path / "blobs" / sha256[:2] / sha256[2:]
    with storage.open_blob(sha256) as blob:
        assert blob.read() == b"hello"
    assert size == 5


def test_unpublish_takes_back_only_what_this_area_placed(tmp_path):
    storage = Storage(tmp_path)
    first = storage.new_staging()
    kept, _ = first.add(io.BytesIO(b"already there"))
    first.publish()
    first.close()

    second = storage.new_staging()
    second.add(io.BytesIO(b"already there"))
    new, _ = second.add(io.BytesIO(b"brand new"))
    second.publish()
    assert storage.has_blob(new)
    second.unpublish()
    second.close()
    assert storage.has_blob(kept)
    assert not storage.has_blob(new)
    assert [p for p in storage.staging_dir.iterdir() if p.is_dir()] == []


def test_publish_fails_when_a_blob_it_counted_on_is_gone(tmp_path):
    storage = Storage(tmp_path)
    staging = storage.new_staging()
    staging.required = {"ab" * 32}
    with pytest.raises(FileNotFoundError, match="import the package again"):
        staging.publish()
    staging.close()


def test_recovery_undoes_a_dead_imports_unreferenced_blobs(tmp_path):
    storage = Storage(tmp_path)
    before = storage.new_staging()
    old, _ = before.add(io.BytesIO(b"from an earlier import"))
    before.publish()
    before.close()
    snapshot = listing(tmp_path / "blobs")

    # An import placed its blobs and its process died before the commit: the area stays,
    # its lock is released with the process.
    dead = storage.new_staging()
    orphan, _ = dead.add(io.BytesIO(b"never committed"))
    committed, _ = dead.add(io.BytesIO(b"committed after all"))
    dead.add(io.BytesIO(b"from an earlier import"))
    dead.publish()
    os.close(dead._lock)
    dead._lock = None

    live = storage.new_staging()  # another import, still running: left alone
    live.add(io.BytesIO(b"in progress"))

    undone = storage.recover_abandoned(lambda shas: {committed} & set(shas))
    assert undone == 1
    assert not storage.has_blob(orphan)
    assert storage.has_blob(committed)
    assert storage.has_blob(old)
    assert listing(tmp_path / "blobs") == sorted([*snapshot, f"{committed[:2]}/{committed[2:]}"])
    assert live.path.is_dir()
    assert not dead.path.exists()
    live.close()


def test_recovery_keeps_blobs_the_running_import_needs(tmp_path):
    storage = Storage(tmp_path)
    dead = storage.new_staging()
    needed, _ = dead.add(io.BytesIO(b"needed again"))
    dead.publish()
    os.close(dead._lock)
    dead._lock = None
    storage.recover_abandoned(lambda shas: set(), keep={needed})
    assert storage.has_blob(needed)


def test_uploads_wait_under_a_random_token(tmp_path):
    storage = Storage(tmp_path)
    token = storage.save_upload(io.BytesIO(b"PK zip bytes"), max_bytes=100)
    assert is_token(token)
    assert storage.upload_path(token).read_bytes() == b"PK zip bytes"
    storage.remove_upload(token)
    assert not storage.upload_path(token).exists()
    with pytest.raises(TooLargeError):
        storage.save_upload(io.BytesIO(b"x" * 101), max_bytes=100)
    assert listing(storage.uploads_dir) == []
    with pytest.raises(ValueError, match="token"):
        storage.upload_path("../../secret_key")


def test_stale_uploads_are_removed(tmp_path):
    storage = Storage(tmp_path)
    token = storage.save_upload(io.BytesIO(b"old"), max_bytes=100)
    old = storage.upload_path(token)
    os.utime(old, (1, 1))
    fresh = storage.save_upload(io.BytesIO(b"new"), max_bytes=100)
    storage.remove_stale_uploads(max_age_seconds=3600)
    assert not old.exists()
    assert storage.upload_path(fresh).exists()
