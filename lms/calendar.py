"""Time zones for people and live sessions, and iCalendar (RFC 5545) files of live sessions.

The iCalendar text is written by hand: a VEVENT with UTC times needs a dozen lines,
escaping and folding, which is less to trust than a dependency.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from lms.models import LiveSession

PRODID = "-//Learning cohorts//LMS//EN"
FOLD_AT = 75  # octets per line, CRLF excluded (RFC 5545 section 3.1)


@cache
def zone_names() -> frozenset[str]:
    """Every IANA time zone name this system knows."""
    return frozenset(available_timezones())


def zone(name: str | None) -> ZoneInfo:
    """The time zone of that name; UTC when the name is missing or unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


class NonexistentTimeError(ValueError):
    """The wall-clock time falls in a gap when clocks move forward."""


def to_utc(day: date, clock: time, zone_name: str) -> datetime:
    """A wall-clock date and time in the named zone, as an aware UTC datetime."""
    local = datetime.combine(day, clock, tzinfo=zone(zone_name))
    utc = local.astimezone(UTC)
    if utc.astimezone(local.tzinfo).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise NonexistentTimeError(local.isoformat())
    return utc


def escape_text(value: str) -> str:
    """A TEXT value escaped: backslash, semicolon, comma and newlines (section 3.3.11)."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """One content line folded into CRLF-ended pieces of at most 75 octets.

    Never cuts inside a UTF-8 character: continuation lines start with one space.
    """
    pieces: list[str] = []
    current, size, limit = [], 0, FOLD_AT
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            pieces.append("".join(current))
            current, size, limit = [" "], 1, FOLD_AT
        current.append(char)
        size += width
    pieces.append("".join(current))
    return "\r\n".join(pieces) + "\r\n"


def _utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _event(live_session: LiveSession, host: str, stamp: datetime) -> list[str]:
    ends_at = live_session.starts_at + timedelta(minutes=live_session.duration_minutes)
    lines = [
        "BEGIN:VEVENT",
        f"UID:{live_session.uid}@{host}",
        f"DTSTAMP:{_utc_stamp(stamp)}",
        f"DTSTART:{_utc_stamp(live_session.starts_at)}",
        f"DTEND:{_utc_stamp(ends_at)}",
        f"SUMMARY:{escape_text(live_session.title)}",
    ]
    description = "\n\n".join(part for part in (live_session.notes, live_session.join_url) if part)
    if description:
        lines.append(f"DESCRIPTION:{escape_text(description)}")
    if live_session.join_url:
        lines.append(f"URL:{live_session.join_url}")
        lines.append(f"LOCATION:{escape_text(live_session.join_url)}")
    lines.append("END:VEVENT")
    return lines


def ics(
    sessions: Iterable[LiveSession], *, host: str, name: str | None = None, stamp: datetime
) -> bytes:
    """An iCalendar file of the live sessions, in UTC, CRLF-ended and folded."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN"]
    if name:
        lines.append(f"X-WR-CALNAME:{escape_text(name)}")
    for live_session in sessions:
        lines.extend(_event(live_session, host, stamp))
    lines.append("END:VCALENDAR")
    return "".join(fold(line) for line in lines).encode("utf-8")
