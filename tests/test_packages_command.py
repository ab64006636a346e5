"""The modules command and setup: validate, list, and the bundled modules imported once."""

from __future__ import annotations

from sqlalchemy import select

from lms.models import ModuleVersion
from tests.fixtures.packages.edits import L1
from tests.fixtures.packages.kit import MINIMAL, copy_package, replace


def test_validate_and_list_commands(runner, tmp_path):
    valid = runner.invoke(args=["modules", "validate", str(MINIMAL)])
    assert valid.exit_code == 0
    assert valid.output == (
        "listening-circles 1.0.0 is valid: 2 lessons, 3 prompts, 2 attachments, 1 media files.\n"
    )
    assert runner.invoke(args=["modules", "list"]).output.startswith("No modules yet.")
    runner.invoke(args=["modules", "import", str(MINIMAL)])
    assert runner.invoke(args=["modules", "list"]).output == (
        "listening-circles  1.0.0  2 lessons  Listening circles\n"
    )


def test_validate_command_lists_every_problem_and_fails(runner, tmp_path):
    package = copy_package(tmp_path)
    replace(package / "module.yaml", "sequence: linear", "sequence: sideways")
    replace(package / L1, "id: hard-to-hear", "id: last-time-heard")
    result = runner.invoke(args=["modules", "validate", str(package)])
    assert result.exit_code == 1
    assert 'module.yaml:13: "sequence" is "linear"' in result.output
    assert f'{L1}:11: prompt id "last-time-heard" is used twice in this lesson' in result.output
    assert "2 problems to fix; nothing was imported." in result.output


def test_setup_imports_bundled_modules_once_then_upgrades(app, runner, db, tmp_path):
    bundled = tmp_path / "bundled"
    bundled.mkdir()
    copy_package(bundled, name="listening-circles")
    app.config["LMS_BUNDLED_MODULES_DIR"] = str(bundled)

    first = runner.invoke(args=["setup"])
    assert first.exit_code == 0, first.output
    assert "Imported the bundled module listening-circles 1.0.0 (2 lessons)." in first.output

    second = runner.invoke(args=["setup"])
    assert second.exit_code == 0
    assert "Imported" not in second.output
    assert len(db.scalars(select(ModuleVersion)).all()) == 1
    db.rollback()

    replace(bundled / "listening-circles" / "module.yaml", '"1.0.0"', '"1.0.1"')
    third = runner.invoke(args=["setup"])
    assert "Imported the bundled module listening-circles 1.0.1 (2 lessons)." in third.output


def test_setup_reports_a_broken_bundled_module_and_goes_on(app, runner, tmp_path):
    bundled = tmp_path / "bundled"
    bundled.mkdir()
    broken = copy_package(bundled, name="broken")
    replace(broken / "module.yaml", "format: 1", "format: 9")
    app.config["LMS_BUNDLED_MODULES_DIR"] = str(bundled)
    result = runner.invoke(args=["setup"])
    assert result.exit_code == 0
    assert "The bundled module in modules/broken was not imported:" in result.output
    assert 'module.yaml:2: this package says "format: 9"' in result.output
    assert "Ready." in result.output
