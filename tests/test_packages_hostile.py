"""Hostile packages are refused with a clear message, and leave no trace behind."""

from __future__ import annotations

import os
import stat
import warnings
import zipfile
from pathlib import Path

import pytest

from lms.packages import InvalidPackageError, Limits, validate_path
from tests.fixtures.packages.kit import (
    copy_package,
    package_entries,
    snapshot,
    zip_folder,
)


def zip_with(tmp_path: Path, extra: dict[str, bytes | str], base: bool = True) -> Path:
    """The minimal package as a zip, plus (or instead of) hand-made entries."""
    entries: dict[str, bytes | str] = {**(package_entries() if base else {}), **extra}
    out = tmp_path / "hostile.zip"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out


def symlink_zip(tmp_path: Path) -> Path:
    out = zip_with(tmp_path, {})
    with zipfile.ZipFile(out, "a") as archive:
        link = zipfile.ZipInfo("attachments/passwd.txt")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    return out


def patch_header(out: Path, name: str, central_offset: int, local_offset: int, value: int):
    """Change a two-byte field of one entry in both its central and its local header."""
    data = bytearray(out.read_bytes())
    position = data.find(b"PK\x01\x02")
    while position != -1:
        length = int.from_bytes(data[position + 28 : position + 30], "little")
        if data[position + 46 : position + 46 + length] == name.encode():
            local = int.from_bytes(data[position + 42 : position + 46], "little")
            field = value.to_bytes(2, "little")
            data[position + central_offset : position + central_offset + 2] = field
            data[local + local_offset : local + local_offset + 2] = field
            break
        position = data.find(b"PK\x01\x02", position + 4)
    out.write_bytes(bytes(data))
    return out


def encrypted_zip(tmp_path: Path) -> Path:
    out = zip_with(tmp_path, {"attachments/secret.txt": b"\x00" * 24})
    # The "encrypted" flag, bit 0 of the general purpose flags (zipfile cannot write it).
    return patch_header(out, "attachments/secret.txt", 8, 6, 0x1)


def duplicate_zip(tmp_path: Path) -> Path:
    out = zip_with(tmp_path, {})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns, and writes it anyway
        with zipfile.ZipFile(out, "a") as archive:
            archive.writestr("module.yaml", "format: 1\n")
    return out


def deflate64_zip(tmp_path: Path) -> Path:
    out = zip_with(tmp_path, {})
    # Say "deflate64" (method 9), which zipfile cannot read, for one entry.
    return patch_header(out, "attachments/circle-guide.txt", 10, 8, 9)


def bomb_zip(tmp_path: Path) -> Path:
    # 8 MB of zeros deflate to about 8 KB: a ratio no real file has.
    return zip_with(tmp_path, {"attachments/bomb.txt": b"\x00" * (8 * 1024 * 1024)})


def not_a_zip(tmp_path: Path) -> Path:
    path = tmp_path / "package.zip"
    path.write_bytes(b"MZ\x90\x00 not a zip at all")
    return path


def folder_with_symlink(tmp_path: Path) -> Path:
    package = copy_package(tmp_path)
    os.symlink("/etc/passwd", package / "attachments" / "passwd.txt")
    return package


def folder_with_linked_lessons(tmp_path: Path) -> Path:
    package = copy_package(tmp_path)
    outside = tmp_path / "outside"
    (package / "lessons").rename(outside)
    os.symlink(outside, package / "lessons")
    return package


def disguised_executable(tmp_path: Path) -> Path:
    package = copy_package(tmp_path)
    (package / "attachments" / "listening-worksheet.pdf").write_bytes(
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200
    )
    return zip_folder(package, tmp_path / "hostile.zip")


def lesson_zip(tmp_path: Path, body: str) -> Path:
    package = copy_package(tmp_path)
    with open(package / "lessons" / "02-holding-a-circle.md", "a") as handle:
        handle.write("\n" + body + "\n")
    return zip_folder(package, tmp_path / "hostile.zip")


def yaml_bomb(tmp_path: Path) -> Path:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(ord("b"), ord("j")):
        prev = chr(i - 1)
        lines.append(f"{chr(i)}: &{chr(i)} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]")
    manifest = package_entries()["module.yaml"].decode() + "\n".join(lines) + "\n"
    return zip_with(tmp_path, {"module.yaml": manifest})


HOSTILE = [
    ("traversal", lambda t: zip_with(t, {"../evil.txt": "x"}), "../evil.txt",
     'this path leads outside the package (".."); it is not allowed.'),
    ("deep-traversal", lambda t: zip_with(t, {"lessons/../../evil.md": "x"}),
     "lessons/../../evil.md", "leads outside the package"),
    ("absolute", lambda t: zip_with(t, {"/etc/cron.d/evil": "x"}), "/etc/cron.d/evil",
     "this path is absolute; paths in a package are relative to its top folder."),
    ("drive-letter", lambda t: zip_with(t, {"C:/Windows/evil.txt": "x"}), "C:/Windows/evil.txt",
     "this path starts with a drive letter"),
    ("backslashes", lambda t: zip_with(t, {"..\\..\\evil.txt": "x"}), "..\\..\\evil.txt",
     "this path uses backslashes (\\)"),
    ("control-characters", lambda t: zip_with(t, {"media/a\x1b[2Jb.png": "x"}), "media/a?[2Jb.png",
     "this name contains control characters"),
    ("symlink-in-zip", symlink_zip, "attachments/passwd.txt",
     "this is a symbolic link; put the file itself in the package."),
    ("symlink-in-folder", folder_with_symlink, "attachments/passwd.txt",
     "this is a symbolic link"),
    ("linked-folder", folder_with_linked_lessons, "lessons", "this is a symbolic link"),
    ("encrypted", encrypted_zip, "attachments/secret.txt",
     "this file is encrypted (password-protected)"),
    ("duplicate-entry", duplicate_zip, "module.yaml", "this file is in the zip twice."),
    ("unreadable-compression", deflate64_zip, "attachments/circle-guide.txt",
     "compressed with a method this site cannot read"),
    ("zip-bomb", bomb_zip, "attachments/bomb.txt",
     "this file would unpack to 8.0 MB from 8 KB, far more than real files compress (a zip "
     "bomb?); it was not unpacked."),
    ("not-a-zip", lambda t: not_a_zip(t), "",
     "this file is not a zip archive"),
    ("disguised-executable", disguised_executable, "attachments/listening-worksheet.pdf",
     "is a Windows program, not a PDF document: programs are never accepted."),
    ("script-in-markdown", lambda t: lesson_zip(t, "<script>fetch('/admin')</script>"),
     "lessons/02-holding-a-circle.md:18", "<script> is not allowed in a lesson"),
    ("javascript-link", lambda t: lesson_zip(t, "[Prize](javascript:alert(1))"),
     "lessons/02-holding-a-circle.md:18", 'the address "javascript:alert(1)" is not allowed'),
    ("event-handler", lambda t: lesson_zip(t, "<img src=../media/circle.png onerror=alert(1)>"),
     "lessons/02-holding-a-circle.md:18", 'the "onerror" attribute on <img> would run a script'),
    ("yaml-bomb", yaml_bomb, "module.yaml:17", "YAML anchors and aliases (& and *) are not"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("build", "location", "message"),
    [pytest.param(b, loc, msg, id=name) for name, b, loc, msg in HOSTILE],
)
def test_hostile_packages_are_refused_and_leave_no_trace(
    app, runner, db, tmp_path, build, location, message
):
    data_dir = Path(app.config["LMS_DATA_DIR"])
    hostile = build(tmp_path)
    before = snapshot(db, data_dir)

    result = runner.invoke(args=["modules", "import", str(hostile)])

    assert result.exit_code == 1
    lines = result.output.splitlines()
    prefix = f"{location}: " if location else ""
    assert any(line.startswith(prefix) and message in line for line in lines), result.output
    assert "nothing was imported" in result.output
    assert "Traceback" not in result.output
    assert snapshot(db, data_dir) == before
    assert not (data_dir / "blobs").exists()


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        (Limits(max_package_bytes=500), "the package is 2 KB; the largest package this site "
         "accepts is 1 KB."),
        (Limits(max_files=5), "the package holds more than 5 files"),
        (Limits(max_total_bytes=1000), "the files of the package add up to 2 KB unpacked; the "
         "limit is 1 KB."),
        (Limits(max_file_bytes=200), "attachments/listening-worksheet.pdf: this file is 1 KB; "
         "the largest file a package may hold is 1 KB."),
    ],
)  # fmt: skip
def test_size_and_count_limits_are_checked_before_anything_is_unpacked(tmp_path, limits, message):
    zipped = zip_with(tmp_path, {})
    with pytest.raises(InvalidPackageError) as caught:
        validate_path(zipped, limits)
    assert message in str(caught.value)


def test_an_oversized_file_is_refused_through_the_command(app, runner, db, tmp_path):
    app.config["LMS_MAX_PACKAGE_BYTES"] = 1000
    package = copy_package(tmp_path)
    (package / "media" / "circle.png").write_bytes(
        (package / "media" / "circle.png").read_bytes() + b"\x00" * 2000
    )
    before = snapshot(db, Path(app.config["LMS_DATA_DIR"]))
    result = runner.invoke(args=["modules", "import", str(package)])
    assert result.exit_code == 1
    assert "media/circle.png: this file is 2 KB; the largest file a package may hold is 1 KB." in (
        result.output
    )
    assert snapshot(db, Path(app.config["LMS_DATA_DIR"])) == before


def test_hidden_files_and_macos_folders_are_skipped_unread(tmp_path):
    zipped = zip_with(
        tmp_path,
        {"__MACOSX/._module.yaml": b"MZ", ".DS_Store": b"\x00\x01", "media/.hidden.exe": b"MZ"},
    )
    package = validate_path(zipped)
    assert package.warnings == ()
