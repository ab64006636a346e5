"""Absolute links for emails, built from the configured public origin, never from Host."""

from __future__ import annotations

from flask import current_app, url_for


def public_url(endpoint: str, **values: object) -> str:
    """The full URL of an endpoint on LMS_BASE_URL."""
    return current_app.config["LMS_BASE_URL"] + url_for(endpoint, **values)
