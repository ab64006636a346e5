"""Static promises about the code itself: security rules on, every exception explained."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOQA = re.compile(r"#\s*noqa:\s*(?P<codes>[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*)(?P<rest>.*)$")


def _ruff_settings() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]


def test_ruffs_security_rules_are_on():
    assert "S" in _ruff_settings()["select"]


def test_every_ignored_security_rule_in_the_settings_says_why():
    lines = (ROOT / "pyproject.toml").read_text().splitlines()
    ignored = [line for line in lines if re.match(r'\s*"S\d+",', line)]
    assert ignored, "the settings ignore no security rule: update this test"
    for line in ignored:
        assert re.search(r"#\s*\S+", line), f"unexplained ignore in pyproject.toml: {line.strip()}"


def test_every_noqa_in_the_code_says_why():
    unexplained = []
    for path in sorted([*ROOT.glob("lms/**/*.py"), *ROOT.glob("bench/**/*.py")]):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            found = NOQA.search(line)
            if found and not re.search(r"\(\s*\S.*\)", found["rest"]):
                unexplained.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert unexplained == []
