"""Dates, times and zones as the panes print them ("Wed 15 Jul", "Today", "UTC+1")."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def parse_date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def short_date(day: dt.date) -> str:
    """'15 Jul'"""
    return f"{day.day} {day:%b}"


def long_date(day: dt.date) -> str:
    """'Wed 15 Jul 2026'"""
    return f"{day:%a} {day.day} {day:%b %Y}"


def day_label(day: dt.date, today: dt.date) -> str:
    """'Today', 'Tomorrow', 'Yesterday', else 'Wed 15 Jul 2026'."""
    delta = (day - today).days
    if delta == 0:
        return f"Today · {day:%a} {day.day} {day:%b}"
    if delta == 1:
        return f"Tomorrow · {day:%a} {day.day} {day:%b}"
    if delta == -1:
        return f"Yesterday · {day:%a} {day.day} {day:%b}"
    return long_date(day)


def date_range(start: dt.date | None, end: dt.date | None) -> str:
    if start is None or end is None:
        return "dates unknown"
    if start.year == end.year:
        return f"{short_date(start)} – {short_date(end)} {end.year}"
    return f"{short_date(start)} {start.year} – {short_date(end)} {end.year}"


def nights(start: dt.date | None, end: dt.date | None) -> int:
    if start is None or end is None:
        return 0
    return max((end - start).days, 0)


def zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def utc_offset(name: str | None, on: dt.date | None) -> str:
    """'UTC+1', 'UTC-4', 'UTC+5:30' for zone `name` at noon on `on`."""
    tz = zone(name)
    if tz is None:
        return ""
    moment = dt.datetime.combine(on or dt.date(2026, 1, 1), dt.time(12), tz)
    offset = moment.utcoffset() or dt.timedelta()
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def parse_time(value: str | None) -> dt.time | None:
    try:
        return dt.time.fromisoformat(value) if value else None
    except ValueError:
        return None


def in_zone(day: dt.date, time: dt.time, source: str | None, target: ZoneInfo) -> dt.datetime | None:
    """`day time` in zone `source`, seen from `target`; None when `source` is not a zone."""
    tz = zone(source)
    if tz is None:
        return None
    return dt.datetime.combine(day, time, tz).astimezone(target)


def local_stamp(value: str | None) -> str:
    """'2026-07-15T14:05' -> '15 Jul 14:05'."""
    try:
        moment = dt.datetime.fromisoformat(value) if value else None
    except ValueError:
        return value or ""
    if moment is None:
        return ""
    return f"{moment.day} {moment:%b %H:%M}"
