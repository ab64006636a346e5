"""The module-package format: open, validate, import and export packages (no Flask here).

    with open_package(path, limits) as source:
        package = read_package(source, limits)        # or InvalidPackageError(problems)
        plan = plan_import(session, package)          # what would change
        import_package(session, storage, source, package, actor=admin)
    session.commit()                                  # the files move in with the commit

See docs/module-packages.md for the format.
"""

from lms.packages.exporter import UnknownModuleError, export_module
from lms.packages.importer import (
    ImportResult,
    Plan,
    VersionRefusedError,
    bundled_packages,
    import_package,
    import_path,
    plan_import,
    recover_abandoned_imports,
    validate_path,
)
from lms.packages.loader import read_package
from lms.packages.problems import InvalidPackageError, Problem
from lms.packages.source import Limits, open_package
from lms.packages.spec import Package

__all__ = [
    "ImportResult",
    "InvalidPackageError",
    "Limits",
    "Package",
    "Plan",
    "Problem",
    "UnknownModuleError",
    "VersionRefusedError",
    "bundled_packages",
    "export_module",
    "import_package",
    "import_path",
    "open_package",
    "plan_import",
    "read_package",
    "recover_abandoned_imports",
    "validate_path",
]
