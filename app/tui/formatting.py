"""Dates, times and zones as the panes print them ("Wed 15 Jul", "Today", "UTC+1", and a flight
as "13:05 ZRH → 08:40⁺¹ NRT · 11h35"). No widgets here: the rules are unit-tested on their own."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.domain import localtime
from app.domain.models import Flight


def parse_date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def counted(number: int, noun: str, *, more: bool = False) -> str:
    """'1 leg', '3 legs'; '1+ legs' when more may follow (not all paged in yet)."""
    plural = noun if number == 1 and not more else noun + "s"
    return f"{number}{'+' if more else ''} {plural}"


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


# --- flights: local times at each end, the time in the air, the day offset ------------------------

_SUPERSCRIPT = str.maketrans("+-0123456789", "⁺⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def day_offset(day: dt.date, reference: dt.date) -> str:
    """'⁺¹' for the day after `reference`, '⁻¹' for the day before, '' for the same day."""
    days = (day - reference).days
    return f"{days:+d}".translate(_SUPERSCRIPT) if days else ""


def duration(delta: dt.timedelta) -> str:
    """'11h35', '0h45'; negative (a flight landing before it departs) as '−2h10'."""
    minutes = (
        int(delta.total_seconds() // 60) if delta >= dt.timedelta(0) else -int(-delta.total_seconds() // 60)
    )
    hours, rest = divmod(abs(minutes), 60)
    return f"{'−' if minutes < 0 else ''}{hours}h{rest:02d}"


@dataclass(frozen=True)
class FlightTimes:
    """A flight's ends as aware datetimes in their own zones (None when a time or zone is missing)."""

    origin: str
    destination: str
    departs: dt.datetime | None
    lands: dt.datetime | None

    @property
    def in_air(self) -> dt.timedelta | None:
        if self.departs is None or self.lands is None:
            return None
        return self.lands.astimezone(dt.UTC) - self.departs.astimezone(dt.UTC)


def flight_times(flight: Flight, leg_zone: str | None) -> FlightTimes:
    """Each end of `flight` on its own airport's clock (API-CONTRACT section 12): the zone the
    service answered, else the one its rules give (given, airport, the leg's)."""
    zones = localtime.flight_zones(
        {
            "departureTimezone": flight.departure_timezone,
            "arrivalTimezone": flight.arrival_timezone,
            "from": flight.from_,
            "to": flight.to,
        },
        leg_zone,
    )
    return FlightTimes(
        origin=(flight.from_ or "").strip(),
        destination=(flight.to or "").strip(),
        departs=localtime.aware(localtime.parse_local(flight.departure_time), zones.departure),
        lands=localtime.aware(localtime.parse_local(flight.arrival_time), zones.arrival),
    )


def _end(moment: dt.datetime | None, place: str, reference: dt.date | None) -> str:
    clock = f"{moment:%H:%M}" + (day_offset(moment.date(), reference) if reference else "") if moment else ""
    return " ".join(part for part in (clock, place) if part)


def flight_line(times: FlightTimes, *, departure_time: bool = True) -> str:
    """'13:05 ZRH → 08:40⁺¹ NRT · 11h35': local times, the arrival's day offset from the
    departure's date, and the time in the air across the zones. Without `departure_time`,
    'ZRH → 08:40⁺¹ NRT · 11h35', for a row whose time column says when it leaves."""
    reference = times.departs.date() if times.departs else None
    start = _end(times.departs if departure_time else None, times.origin, None)
    line = f"{start} → {_end(times.lands, times.destination, reference)}".strip()
    if times.in_air is not None:
        line += f" · {duration(times.in_air)}"
    return line


def viewer_flight_line(times: FlightTimes, viewer: ZoneInfo) -> str | None:
    """The same flight on the viewer's clock ('05:05 → 00:40⁺¹'; day offsets from the departure's
    own date, as on the flight line), or None when both ends read the same there."""
    ends = [moment for moment in (times.departs, times.lands) if moment is not None]
    if not ends or all(moment.utcoffset() == moment.astimezone(viewer).utcoffset() for moment in ends):
        return None
    reference = (times.departs or times.lands).date()  # type: ignore[union-attr]

    def mine(moment: dt.datetime | None) -> str:
        if moment is None:
            return "?"
        there = moment.astimezone(viewer)
        return f"{there:%H:%M}{day_offset(there.date(), reference)}"

    return f"{mine(times.departs)} → {mine(times.lands)}"
