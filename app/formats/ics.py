"""A trip as an iCalendar file (RFC 5545): legs, their flights, stays and rental cars, and the
commitments, with a VTIMEZONE for every zone the events use.

Local times stay local: an event at 19:30 in Asia/Tokyo is written `DTSTART;TZID=Asia/Tokyo:
...T193000` with that zone's rules alongside, so calendars show it right wherever the reader is.
A commitment with no zone of its own takes its leg's; with neither it is left floating.

All text is user text: it is escaped (`\\`, `;`, `,`, newlines), stripped of control characters
and folded at 75 octets, so no value can start a property or a component of its own. Secrets a
calendar has no business carrying (door codes, wifi passwords, host phones, confirmation numbers,
check-in instructions) are left out: calendar files get shared and synced.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass, field
from typing import Any, Iterable

from pydantic import BaseModel

from app.domain import Commitment, Leg, MapPin, TripExport

PRODUCT_ID = "-//Tripdeck//Tripdeck trip export//EN"
UID_DOMAIN = "tripdeck"
# Control characters other than tab and newline are not allowed in TEXT values (RFC 5545 3.3.11).
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
FOLD_OCTETS = 75


# --- values ----------------------------------------------------------------------------------


def escape_text(value: str) -> str:
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = CONTROL.sub("", value)
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """Split a content line into lines of at most 75 octets (continuations start with a space),
    never inside a UTF-8 character."""
    if len(line.encode()) <= FOLD_OCTETS:
        return line
    lines: list[str] = []
    current, size = "", 0
    for char in line:
        octets = len(char.encode())
        if size + octets > FOLD_OCTETS:
            lines.append(current)
            current, size = " ", 1
        current += char
        size += octets
    lines.append(current)
    return "\r\n".join(lines)


def format_date(day: dt.date) -> str:
    return day.strftime("%Y%m%d")


def format_local(moment: dt.datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%S")


def format_offset(offset: dt.timedelta) -> str:
    seconds = int(offset.total_seconds())
    sign = "+" if seconds >= 0 else "-"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours:02d}{minutes:02d}" + (f"{seconds:02d}" if seconds else "")


def parse_local(value: Any) -> dt.datetime | None:
    """`YYYY-MM-DDTHH:mm` as the API writes local times; anything else is None."""
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M")
    except ValueError:
        return None


def parse_date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def parse_time(value: Any) -> dt.time | None:
    try:
        return dt.datetime.strptime(value, "%H:%M").time() if isinstance(value, str) else None
    except ValueError:
        return None


def real_zone(name: str | None) -> str | None:
    if not name:
        return None
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None
    return name


# --- events ----------------------------------------------------------------------------------


@dataclass
class Event:
    uid: str
    summary: str
    start: dt.date | dt.datetime
    end: dt.date | dt.datetime | None = None
    timezone: str | None = None  # for date-times; None: floating local time
    location: str | None = None
    description: str | None = None
    categories: list[str] = field(default_factory=list)
    geo: tuple[float, float] | None = None

    def lines(self, stamp: str) -> list[str]:
        lines = ["BEGIN:VEVENT", f"UID:{escape_text(self.uid)}@{UID_DOMAIN}", f"DTSTAMP:{stamp}"]
        lines.append(self._when("DTSTART", self.start))
        if self.end is not None:
            lines.append(self._when("DTEND", self.end))
        lines.append(f"SUMMARY:{escape_text(self.summary)}")
        if self.location:
            lines.append(f"LOCATION:{escape_text(self.location)}")
        if self.geo is not None:
            lines.append(f"GEO:{self.geo[0]:.6f};{self.geo[1]:.6f}")
        if self.description:
            lines.append(f"DESCRIPTION:{escape_text(self.description)}")
        if self.categories:
            lines.append("CATEGORIES:" + ",".join(escape_text(c) for c in self.categories))
        lines.append("END:VEVENT")
        return lines

    def _when(self, name: str, value: dt.date | dt.datetime) -> str:
        if not isinstance(value, dt.datetime):
            return f"{name};VALUE=DATE:{format_date(value)}"
        if self.timezone:
            return f"{name};TZID={self.timezone}:{format_local(value)}"
        return f"{name}:{format_local(value)}"


def _timed_span(
    start: dt.datetime | None, end: dt.datetime | None, fallback_start: dt.date | None, fallback_end: dt.date | None
) -> tuple[dt.date | dt.datetime, dt.date | dt.datetime | None] | None:
    """Start and end of an event from local date-times, or whole days when the time is unknown."""
    if start is not None:
        return start, end if end is not None and end >= start else None
    if fallback_start is None:
        return None
    last = fallback_end if fallback_end is not None and fallback_end >= fallback_start else fallback_start
    return fallback_start, last + dt.timedelta(days=1)


def _wire(part: Any) -> dict[str, Any]:
    """A leg's stay, flight or rental car as its camelCase wire dict (typed models or plain dicts)."""
    if isinstance(part, BaseModel):
        return part.model_dump(by_alias=True, exclude_none=True)
    return dict(part)


def leg_events(leg: Leg) -> list[Event]:
    timezone = real_zone(leg.timezone)
    first, last = parse_date(leg.start_date), parse_date(leg.end_date)
    events: list[Event] = []
    if first is not None:
        summary = leg.title if leg.destination in (leg.title, "") else f"{leg.title} ({leg.destination})"
        end = (last if last is not None and last >= first else first) + dt.timedelta(days=1)
        events.append(Event(uid=leg.id, summary=summary, start=first, end=end, location=leg.destination,
                            categories=["LEG"]))

    for index, flight in enumerate(map(_wire, leg.flights)):
        span = _timed_span(parse_local(flight.get("departureTime")), parse_local(flight.get("arrivalTime")), first, None)
        if span is None:
            continue
        number = " ".join(str(p) for p in (flight.get("airline"), flight.get("flightNumber")) if p)
        route = " → ".join(str(p) for p in (flight.get("from"), flight.get("to")) if p)
        summary = "Flight" + (f" {number}" if number else "") + (f": {route}" if route else "")
        seat = flight.get("seat")
        events.append(Event(
            uid=f"{leg.id}.flight.{index}", summary=summary, start=span[0], end=span[1], timezone=timezone,
            location=str(flight["from"]) if flight.get("from") else None,
            description=f"Seat {seat}" if seat else None, categories=["FLIGHT"],
        ))

    stays = leg.stays or ([leg.accommodation] if leg.accommodation else [])
    for index, stay in enumerate(map(_wire, stays)):
        span = _timed_span(parse_local(stay.get("checkIn")), parse_local(stay.get("checkOut")), first, last)
        if span is None:
            continue
        lat, lng = stay.get("lat"), stay.get("lng")
        events.append(Event(
            uid=f"{leg.id}.accommodation.{index}", summary=f"Stay: {stay.get('name') or leg.destination}",
            start=span[0], end=span[1], timezone=timezone, location=stay.get("address") or stay.get("name"),
            geo=(lat, lng) if _is_number(lat) and _is_number(lng) else None,
            description=stay.get("notes"), categories=["ACCOMMODATION"],
        ))

    car = _wire(leg.rental_car) if leg.rental_car else None
    if car:
        span = _timed_span(parse_local(car.get("pickupTime")), parse_local(car.get("dropoffTime")), first, None)
        if span is not None:
            dropoff = car.get("dropoffLocation")
            events.append(Event(
                uid=f"{leg.id}.rental_car", summary="Rental car" + (f": {car['company']}" if car.get("company") else ""),
                start=span[0], end=span[1], timezone=timezone, location=car.get("pickupLocation"),
                description=f"Drop-off: {dropoff}" if dropoff else None, categories=["RENTAL CAR"],
            ))
    return events


def commitment_event(commitment: Commitment, legs: dict[str, Leg], pins: dict[str, MapPin]) -> Event | None:
    day = parse_date(commitment.start_date)
    if day is None:
        return None
    leg = legs.get(commitment.leg_id or "")
    timezone = real_zone(commitment.timezone) or (real_zone(leg.timezone) if leg else None)
    pin = pins.get(commitment.map_pin_id or "")
    start_time = None if commitment.is_all_day else parse_time(commitment.start_time)
    start: dt.date | dt.datetime
    end: dt.date | dt.datetime | None
    if start_time is None:
        start, end = day, day + dt.timedelta(days=1)
    else:
        start = dt.datetime.combine(day, start_time)
        end_time = parse_time(commitment.end_time)
        end = None
        if end_time is not None:
            end = dt.datetime.combine(day, end_time)
            if end < start:  # 22:00-01:00 ends the next morning
                end += dt.timedelta(days=1)
    return Event(
        uid=commitment.id, summary=commitment.title, start=start, end=end,
        timezone=timezone if start_time is not None else None,
        location=pin.name if pin else (leg.destination if leg else None),
        geo=(pin.lat, pin.lng) if pin else None, description=commitment.notes,
        categories=[str(commitment.category).upper()],
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# --- time zones ------------------------------------------------------------------------------


def vtimezone(name: str, first: dt.date, last: dt.date) -> list[str]:
    """The zone's observances from a year before `first` to a year after `last`: one
    STANDARD/DAYLIGHT block per real transition (no RRULEs to get wrong), plus the one in force
    at the start. A zone without transitions gets a single block."""
    zone = zoneinfo.ZoneInfo(name)
    begin = dt.datetime(first.year - 1, 1, 1, tzinfo=dt.timezone.utc)
    finish = dt.datetime(last.year + 2, 1, 1, tzinfo=dt.timezone.utc)

    def state(moment: dt.datetime) -> tuple[dt.timedelta, bool, str]:
        local = moment.astimezone(zone)
        return local.utcoffset() or dt.timedelta(0), bool(local.dst()), local.tzname() or name

    observances: list[tuple[dt.datetime, dt.timedelta, tuple[dt.timedelta, bool, str]]] = []
    current = state(begin)
    observances.append((begin, current[0], current))
    step = dt.timedelta(hours=6)
    moment = begin
    while moment < finish:
        following = state(moment + step)
        if following != current:
            low, high = moment, moment + step  # the change happens in (low, high]
            while high - low > dt.timedelta(minutes=1):
                middle = low + (high - low) / 2
                if state(middle) == current:
                    low = middle
                else:
                    high = middle
            high = high.replace(second=0, microsecond=0)
            observances.append((high, current[0], following))
            current = following
        moment += step

    lines = ["BEGIN:VTIMEZONE", f"TZID:{name}"]
    for onset, offset_from, (offset_to, is_dst, abbreviation) in observances:
        kind = "DAYLIGHT" if is_dst else "STANDARD"
        local_onset = (onset + offset_from).replace(tzinfo=None)
        lines += [
            f"BEGIN:{kind}",
            f"DTSTART:{format_local(local_onset)}",
            f"TZOFFSETFROM:{format_offset(offset_from)}",
            f"TZOFFSETTO:{format_offset(offset_to)}",
            f"TZNAME:{escape_text(abbreviation)}",
            f"END:{kind}",
        ]
    lines.append("END:VTIMEZONE")
    return lines


# --- the calendar ----------------------------------------------------------------------------


def trip_events(export: TripExport) -> list[Event]:
    legs = {leg.id: leg for leg in export.legs}
    pins = {pin.id: pin for pin in export.map_pins}
    events = [event for leg in export.legs for event in leg_events(leg)]
    events += [e for c in export.commitments if (e := commitment_event(c, legs, pins)) is not None]
    events.sort(key=lambda e: (_day(e.start), e.start.isoformat() if isinstance(e.start, dt.datetime) else "", e.uid))
    return events


def _day(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def to_ics(export: TripExport, *, now: dt.datetime | None = None) -> str:
    """The trip's calendar as iCalendar text (CRLF line ends, as RFC 5545 wants)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    stamp = now.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    events = trip_events(export)

    spans: dict[str, tuple[dt.date, dt.date]] = {}
    for event in events:
        if event.timezone and isinstance(event.start, dt.datetime):
            days = [_day(event.start)] + ([_day(event.end)] if event.end is not None else [])
            low, high = spans.get(event.timezone, (min(days), max(days)))
            spans[event.timezone] = (min(low, *days), max(high, *days))

    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODUCT_ID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(export.trip.title)}",
    ]
    for name in sorted(spans):
        lines += vtimezone(name, *spans[name])
    for event in events:
        lines += event.lines(stamp)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def unfold(text: str) -> Iterable[str]:
    """The content lines of iCalendar text, continuation lines joined back."""
    current = ""
    for raw in text.split("\r\n"):
        if raw.startswith(" "):
            current += raw[1:]
            continue
        if current:
            yield current
        current = raw
    if current:
        yield current
