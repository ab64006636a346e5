"""A module package whose every text is hostile, for the site the hostile tests fill."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from lms.html import inspect_lesson
from tests.hostile_payloads import Payload, joined

MODULE_SLUG = "hostile-text"


def _quoted(text: str) -> str:
    # JSON strings are YAML double-quoted strings (every payload is in the BMP).
    return json.dumps(text)


def _validator_accepts(payload: Payload) -> bool:
    scan = inspect_lesson(payload.text)
    return not any(f.error for f in scan.findings) and not scan.local_references


def write_package(
    folder: Path, groups: list[list[Payload]], prompts: list[str], bodies: str = "accepted"
) -> Path:
    """A module package whose every text is hostile.

    A lesson per group (title, body) and a module-wide attachment per group (title); the
    first lessons ask the ``prompts``. ``bodies="accepted"`` writes into lesson bodies only
    what the package validator lets through, so that the package imports; ``"all"`` writes
    every payload, and is refused.
    """
    (folder / "lessons").mkdir(parents=True)
    (folder / "attachments").mkdir()
    everything = [p for group in groups for p in group]
    sheets = []
    for n, group in enumerate(groups, start=1):
        (folder / "attachments" / f"sheet-{n:02d}.txt").write_text(f"Sheet {n}\n")
        sheets.append(f"{{path: attachments/sheet-{n:02d}.txt, title: {_quoted(joined(group))}}}")
    (folder / "module.yaml").write_text(
        "format: 1\n"
        f"slug: {MODULE_SLUG}\n"
        f"title: {_quoted(joined(groups[0]))}\n"
        'version: "1.0.0"\n'
        f"summary: {_quoted(joined(everything))}\n"
        "language: en\n"
        "license: CC-BY-4.0\n"
        f"authors: [{', '.join(_quoted(p.text) for p in everything[:3])}]\n"
        "estimated_minutes: 30\n"
        "sequence: open\n"
        f"attachments: [{', '.join(sheets)}]\n",
        encoding="utf-8",
    )
    for n, group in enumerate(groups, start=1):
        body = joined([p for p in group if bodies == "all" or _validator_accepts(p)])
        prompt = (
            f"prompts: [{{id: q{n}, text: {_quoted(prompts[n - 1])}, accepts_files: true}}]\n"
            if n <= len(prompts)
            else ""
        )
        (folder / "lessons" / f"{n:02d}-lesson.md").write_text(
            "---\n"
            f"slug: lesson-{n:02d}\n"
            f"title: {_quoted(joined(group))}\n"
            f"minutes: 5\n{prompt}"
            f"---\n\nLesson {n}.\n\n{body}\n",
            encoding="utf-8",
        )
    return folder


def zipped(folder: Path, out: Path) -> bytes:
    """The package folder as the bytes of a zip (stored, its files at the root)."""
    with zipfile.ZipFile(out, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return out.read_bytes()
