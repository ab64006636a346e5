"""The page of a list a request asks for (``?page=N``), for the views' paginate calls."""

from __future__ import annotations

from flask import request

from lms.pagination import page_number


def requested_page() -> int:
    """The page number in the query string; bad or missing values mean page 1."""
    return page_number(request.args.get("page"))
