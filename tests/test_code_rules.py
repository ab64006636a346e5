"""Static promises about the code itself: security rules on, every exception explained."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
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


# --- The wings: web → domain → models/db, never back --------------------------------

# (werkzeug.security, password hashing, is a library of its own the domain may use)
WEB_LIBRARIES = {"flask", "flask_login", "flask_wtf", "flask_babel", "wtforms"}
# The frame that wires Flask to everything else: the factory and the command line.
FRAME = {"lms/__init__.py", "lms/cli.py"}


def _imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _outside_the_web_wing() -> list[Path]:
    return [
        path
        for path in sorted(ROOT.glob("lms/**/*.py"))
        if not path.relative_to(ROOT).as_posix().startswith("lms/web/")
        and path.relative_to(ROOT).as_posix() not in FRAME
    ]


def test_only_the_web_wing_and_the_frame_import_flask_or_wtforms():
    assert len(_outside_the_web_wing()) > 30  # the domain, packages/, people/, ops/
    knowing_the_web = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in _outside_the_web_wing()
        for name in _imported_modules(path)
        if name.split(".")[0] in WEB_LIBRARIES
    }
    assert knowing_the_web == set()


def test_no_domain_module_imports_from_the_web_wing():
    reaching_back = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in _outside_the_web_wing()
        for name in _imported_modules(path)
        if name == "lms.web" or name.startswith("lms.web.")
    }
    assert reaching_back == set()


def test_importing_the_domain_loads_no_blueprint():
    """Blueprints are imported inside create_app: a worker or a script stays light."""
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, lms.reflections, lms.review, lms.packages, lms.ops.backup; "
            "print(' '.join(m for m in sys.modules if m.startswith('lms.')))",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout.split()
    assert "lms.reflections" in loaded
    assert [name for name in loaded if name.startswith("lms.web")] == []


def test_contributings_url_table_names_every_file_that_serves_a_url(app):
    """A newcomer finds the file for a URL in CONTRIBUTING.md: the table is the app's."""
    table = (ROOT / "CONTRIBUTING.md").read_text().split("Which file handles a URL")[1]
    listed = set(re.findall(r"\| `([\w/]+\.py)` \|", table))
    serving = {
        app.view_functions[rule.endpoint].__module__.removeprefix("lms.web.").replace(".", "/")
        + ".py"
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
    }
    assert listed == serving
