"""The filters every audience's templates share: times, sizes, languages, light Markdown.

Times are stored in UTC and shown only through ``local_time``, in the viewer's time
zone and language, on the learner's pages and the staff's alike.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from flask import Flask
from flask_babel import (
    format_date,
    format_datetime,
    format_decimal,
    format_time,
    get_locale,
    gettext,
    ngettext,
)
from flask_login import current_user
from markupsafe import Markup

from lms.calendar import zone
from lms.html import render_markdown


def local_time(value: datetime | None, style: str = "datetime", in_zone: str | None = None) -> str:
    """A UTC timestamp in the viewer's time zone: "datetime", "date" or "time".

    ``in_zone`` names another zone, for a column whose heading says it (the audit
    log's, which its filters' UTC days must match).
    """
    if value is None:
        return ""
    local = value.astimezone(zone(in_zone) if in_zone else viewer_zone())
    # The wall-clock time, without its zone: aware datetimes are equal (and share a
    # cached text) whenever they are the same instant, whatever their zones. None of
    # these styles shows a zone.
    wall = local.date() if style == "date" else local.replace(tzinfo=None)
    return _formatted(wall, style, str(get_locale()))


# Pages list dozens of times (a grid or inbox page, 50 rows), many of them on the same
# days: formatting one costs about 13 µs, finding it again well under one.
@lru_cache(maxsize=4096)
def _formatted(local: datetime | date, style: str, _locale: str) -> str:
    if style == "date":
        return format_date(local, "long", rebase=False)
    if style == "time":
        return format_time(local, "short", rebase=False)
    return format_datetime(local, "medium", rebase=False)


def markdown(text: str | None) -> Markup:
    """A learner's or facilitator's light Markdown (a reflection, a live session's notes) as
    sanitised HTML: lms.html is the only source of markup."""
    return Markup(render_markdown(text or ""))  # noqa: S704  (sanitised by lms.html)


def viewer_zone() -> ZoneInfo:
    """The viewer's time zone, in which every time is shown; UTC when none or unknown."""
    return zone(getattr(current_user, "time_zone", None))


def file_size(size: int) -> str:
    """A size in bytes as people read it."""
    if size < 1024:
        return ngettext("%(num)d byte", "%(num)d bytes", size)
    if size < 1024**2:
        return gettext("%(n)s KB", n=format_decimal(round(size / 1024)))
    if size < 1024**3:
        return gettext("%(n)s MB", n=format_decimal(round(size / 1024**2, 1)))
    return gettext("%(n)s GB", n=format_decimal(round(size / 1024**3, 1)))


def language_name(code: str) -> str:
    """A language's name in the viewer's language ("English" for "en"), or the code."""
    try:
        return Locale.parse(code, sep="-").get_display_name(get_locale()) or code
    except (ValueError, TypeError, UnknownLocaleError):
        return code


def init_app(app: Flask) -> None:
    """Install the filters in the app's templates."""
    app.add_template_filter(local_time)
    app.add_template_filter(markdown)
    app.add_template_global(viewer_zone)
    app.add_template_filter(file_size)
    app.add_template_filter(language_name)
