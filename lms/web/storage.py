"""The app's one Storage, built from LMS_DATA_DIR when the app is made.

Views and commands reach the data dir only through ``storage()``, so its location is
read from the config in one place and every path under it is built by ``lms.storage``.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app

from lms.storage import Storage


def init_app(app: Flask) -> None:
    """Attach the data dir's Storage to the app."""
    app.extensions["lms.storage"] = Storage(Path(app.config["LMS_DATA_DIR"]))


def storage(app: Flask | None = None) -> Storage:
    """The Storage of the given or current app."""
    return (app or current_app).extensions["lms.storage"]
