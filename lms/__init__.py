"""The application factory: it wires the pieces together and does nothing else."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from lms import config


def create_app(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Flask:
    """Build the app from LMS_* variables (os.environ by default), then apply overrides."""
    # The web wing is imported here, not at the top (as flaskr does): importing a domain
    # module, as the worker, the CLI and the tests do, does not load every blueprint.
    from lms import cli
    from lms.web import (
        accounts,
        admin,
        compression,
        database,
        errors,
        extensions,
        facilitator,
        fragments,
        ids,
        learner,
        media,
        request_limits,
        security,
        static_files,
        storage,
    )

    app = Flask(__name__)
    app.config.update(config.from_environment(environ))
    app.config.update(overrides or {})
    app.url_map.converters["int"] = ids.IdConverter  # before any route is added
    compression.init_app(app)  # first: its hook runs last, on the finished response
    database.init_app(app)
    storage.init_app(app)
    extensions.init_app(app)
    fragments.init_app(app)
    security.init_app(app)
    request_limits.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    static_files.init_app(app)  # WhiteNoise, outermost: static files never reach Flask
    app.register_blueprint(accounts.bp)
    app.register_blueprint(media.bp)  # first: /media/ is served by lms/web/media.py
    app.register_blueprint(learner.bp)
    app.register_blueprint(facilitator.bp)
    app.register_blueprint(admin.bp)
    return app
