"""Peak memory while importing a large module package (200 lessons, 100 MB of attachments).

    .venv/bin/python bench/import_memory.py [--lessons 200] [--attachments-mb 100] [--zip]

Builds the package in a temporary folder (files written in chunks), then imports it
in a fresh process on a fresh SQLite data dir, and prints the process's resident
memory before the import (the app migrated and idle), its peak during the import,
and the growth. The import streams every file (copied and hashed in 1 MB chunks,
never read whole), so the growth must stay under 64 MB whatever the attachments'
size: the script exits with status 1 when it does not.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from pathlib import Path

MIB = 1024 * 1024
BUDGET_MB = 64
CHUNK = MIB
SAFE_BYTES = bytes.maketrans(b"/<", b"_(")


def _png(seed: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    pixels = zlib.compress(bytes([0, seed % 256, 80, 120] * 2) * 2)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _write_random(path: Path, size: int) -> None:
    """A PDF-looking file of random bytes, written a chunk at a time."""
    with open(path, "wb") as handle:
        handle.write(b"%PDF-1.4\n")
        left = size - 9
        while left > 0:
            step = min(CHUNK, left)
            # No "/" or "<": random bytes would otherwise spell PDF actions (/JS) or markup,
            # which the importer rightly refuses.
            handle.write(os.urandom(step).translate(SAFE_BYTES))
            left -= step


def build_package(root: Path, lessons: int, attachments_mb: int) -> Path:
    """A valid package: lessons with prompts and an image, attachments adding up to the size."""
    (root / "lessons").mkdir(parents=True)
    (root / "attachments").mkdir()
    (root / "media").mkdir()
    images = 20
    for n in range(images):
        (root / "media" / f"figure-{n:02d}.png").write_bytes(_png(n))
    total = attachments_mb * MIB
    # One large file (a quarter of the total) and the rest shared out between lessons.
    sizes = [total // 4] + [(total - total // 4) // (lessons - 1)] * (lessons - 1)
    width = len(str(lessons))
    for n in range(1, lessons + 1):
        name = f"handout-{n:0{width}d}.pdf"
        _write_random(root / "attachments" / name, sizes[n - 1])
        paragraph = (
            "Listening comes before answering. In this lesson we practise noticing what "
            "people say, what they leave out, and what they need from us. " * 4
        )
        body = "\n\n".join(
            [
                f"## Part {n}",
                paragraph,
                f"![Figure {n}](../media/figure-{n % images:02d}.png)",
                "- Notice\n- Ask\n- Reflect back",
                paragraph,
            ]
        )
        (root / "lessons" / f"{n:0{width}d}-lesson-{n}.md").write_text(
            "---\n"
            f"slug: lesson-{n}\n"
            f"title: Lesson {n}\n"
            "minutes: 15\n"
            "attachments:\n"
            f"  - path: attachments/{name}\n"
            f"    title: Handout {n}\n"
            "prompts:\n"
            "  - id: noticed\n"
            "    text: What did you notice?\n"
            "  - id: next-step\n"
            "    text: What will you try next?\n"
            "    required: false\n"
            "---\n\n" + body + "\n",
            encoding="utf-8",
        )
    (root / "module.yaml").write_text(
        "format: 1\n"
        "slug: benchmark-module\n"
        "title: A large benchmark module\n"
        'version: "1.0.0"\n'
        "summary: Generated to measure the importer's memory.\n"
        "language: en\n"
        "license: CC-BY-4.0\n"
        "authors: [Benchmark]\n"
        f"estimated_minutes: {15 * lessons}\n"
        "sequence: linear\n",
        encoding="utf-8",
    )
    return root


def zip_package(folder: Path, out: Path) -> Path:
    """Zip a package folder, file by file (zipfile copies each in chunks)."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return out


def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def child(package: Path, data_dir: Path) -> None:
    """Import the package in this fresh process and print what memory it took, as JSON."""
    from lms import create_app, packages
    from lms.ops import migrate
    from lms.storage import Storage
    from lms.web.database import database

    app = create_app(
        {
            "LMS_DATA_DIR": str(data_dir),
            "LMS_SECRET_KEY": "benchmark",
            "LMS_MAX_PACKAGE_MB": "2000",
        }
    )
    migrate.upgrade(database(app).engine)
    with app.app_context():
        session = database(app).new_session(write=True)
        session.execute(packages.importer.select(1))
        session.rollback()
        baseline = _status_kb("VmRSS") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        # Forget the peak so far (Linux): the peak read afterwards is the import's own.
        try:
            Path("/proc/self/clear_refs").write_text("5")
            peak_is_reset = True
        except OSError:
            peak_is_reset = False
        started = time.perf_counter()
        result = packages.import_path(
            session, Storage(data_dir), package, packages.Limits.from_config(app.config)
        )
        session.commit()
        seconds = time.perf_counter() - started
        peak = _status_kb("VmHWM") if peak_is_reset else None
        peak = peak or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(
            json.dumps(
                {
                    "lessons": result.module.lesson_count,
                    "baseline_kb": baseline,
                    "peak_kb": peak,
                    "seconds": seconds,
                }
            )
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lessons", type=int, default=200)
    parser.add_argument("--attachments-mb", type=int, default=100)
    parser.add_argument("--zip", action="store_true", help="import a .zip of the package")
    parser.add_argument("--child", nargs=2, metavar=("PACKAGE", "DATA_DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), Path(args.child[1]))
        return 0

    with tempfile.TemporaryDirectory(prefix="lms-bench-") as temporary:
        root = Path(temporary)
        print(f"Building {args.lessons} lessons and {args.attachments_mb} MB of attachments...")
        package = build_package(root / "package", args.lessons, args.attachments_mb)
        if args.zip:
            package = zip_package(package, root / "package.zip")
        (root / "data").mkdir()
        here = Path(__file__).resolve().parent.parent
        run = subprocess.run(  # noqa: S603  (this interpreter and this script)
            [sys.executable, __file__, "--child", str(package), str(root / "data")],
            capture_output=True,
            text=True,
            cwd=here,
            env={**os.environ, "PYTHONPATH": str(here)},
            check=False,
        )
        if run.returncode != 0:
            print(run.stdout, run.stderr, sep="\n", file=sys.stderr)
            return 2
        figures = json.loads(run.stdout.strip().splitlines()[-1])

    growth_mb = (figures["peak_kb"] - figures["baseline_kb"]) / 1024
    verdict = "PASS" if growth_mb < BUDGET_MB else "FAIL"
    print(
        f"package:          {'zip' if args.zip else 'folder'}, {figures['lessons']} lessons, "
        f"{args.attachments_mb} MB of attachments"
    )
    print(f"import time:      {figures['seconds']:.1f} s")
    print(f"idle app RSS:     {figures['baseline_kb'] / 1024:.1f} MB")
    print(f"peak RSS:         {figures['peak_kb'] / 1024:.1f} MB")
    print(f"peak RSS growth:  {growth_mb:.1f} MB (budget < {BUDGET_MB} MB)  {verdict}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
