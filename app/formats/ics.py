"""A trip as an iCalendar file (RFC 5545), written with the `icalendar` library: legs, their
flights, stays and rental cars, and the commitments, with one VTIMEZONE for every zone in use.

Local times stay local: an event at 19:30 in Asia/Tokyo is `DTSTART;TZID=Asia/Tokyo:...T193000`
with that zone's rules alongside, so calendars show it right wherever the reader is. A flight
starts in its departure zone and ends in its arrival zone (API-CONTRACT section 12); a stay is a
check-in and a check-out event; all-day commitments and untimed stays are dates. A commitment
with no zone of its own takes its leg's; with neither it is left floating.

All text is user text: the library escapes and folds it, and control characters are stripped
first, so no value can start a property or a component of its own. Secrets a calendar has no
business carrying (door codes, wifi passwords, host phones, confirmation numbers, check-in
instructions) are left out: calendar files get shared and synced.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass, field
from typing import Any, overload

import icalendar
from pydantic import BaseModel

from app.domain import Commitment, Leg, MapPin, TripExport
from app.domain.localtime import flight_zones, parse_local, utc, zone

PRODUCT_ID = "-//Tripdeck//Tripdeck trip export//EN"
UID_DOMAIN = "tripdeck"
# Control characters other than tab and newline are not allowed in TEXT values (RFC 5545 3.3.11).
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean(value: str) -> str:
    return CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


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


@overload
def _at(local: dt.datetime, zone_name: str | None) -> dt.datetime: ...
@overload
def _at(local: dt.datetime | None, zone_name: str | None) -> dt.datetime | None: ...
def _at(local: dt.datetime | None, zone_name: str | None) -> dt.datetime | None:
    """A local time in its zone (aware; fold 0, the first of an ambiguous hour), or floating."""
    if local is None:
        return None
    tz = zone(zone_name)
    return local.replace(tzinfo=tz) if tz is not None else local


# --- events ----------------------------------------------------------------------------------

When = dt.date | dt.datetime


@dataclass
class Event:
    uid: str
    summary: str
    start: When
    end: When | None = None
    location: str | None = None
    description: str | None = None
    categories: list[str] = field(default_factory=list)
    geo: tuple[float, float] | None = None

    def component(self, stamp: dt.datetime) -> icalendar.Event:
        event = icalendar.Event()
        event.add("uid", f"{clean(self.uid)}@{UID_DOMAIN}")
        event.add("dtstamp", stamp)
        event.add("dtstart", self.start)
        if self.end is not None:
            event.add("dtend", self.end)
        event.add("summary", clean(self.summary))
        if self.location:
            event.add("location", clean(self.location))
        if self.geo is not None:
            event.add("geo", self.geo)
        if self.description:
            event.add("description", clean(self.description))
        if self.categories:
            event.add("categories", [clean(c) for c in self.categories])
        return event

    def zones(self) -> list[tuple[str, dt.date]]:
        """(zone, day) of each end given in a zone: the zones this event needs a VTIMEZONE for."""
        return [
            (moment.tzinfo.key, moment.date())
            for moment in (self.start, self.end)
            if isinstance(moment, dt.datetime) and isinstance(moment.tzinfo, zoneinfo.ZoneInfo)
        ]


def _ends_after(start: When, end: When | None) -> When | None:
    """`end` when it is after `start` (instants for zoned times), else None: DTEND must follow DTSTART."""
    if end is None or isinstance(start, dt.datetime) != isinstance(end, dt.datetime):
        return None
    if isinstance(start, dt.datetime) and isinstance(end, dt.datetime):
        if start.tzinfo is not None and end.tzinfo is not None:
            first, last = utc(start), utc(end)
            return end if first is not None and last is not None and last > first else None
        if (start.tzinfo is None) != (end.tzinfo is None):
            return None
    return end if end > start else None


def _wire(part: Any) -> dict[str, Any]:
    """A leg's stay, flight or rental car as its camelCase wire dict (typed models or plain dicts)."""
    if isinstance(part, BaseModel):
        return part.model_dump(by_alias=True, exclude_none=True)
    return dict(part)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def leg_events(leg: Leg) -> list[Event]:
    first, last = parse_date(leg.start_date), parse_date(leg.end_date)
    events: list[Event] = []
    if first is not None:
        summary = leg.title if leg.destination in (leg.title, "") else f"{leg.title} ({leg.destination})"
        day_after = (last if last is not None and last >= first else first) + dt.timedelta(days=1)
        events.append(
            Event(
                uid=leg.id,
                summary=summary,
                start=first,
                end=day_after,
                location=leg.destination,
                categories=["LEG"],
            )
        )

    for index, flight in enumerate(map(_wire, leg.flights)):
        zones = flight_zones(flight, leg.timezone)
        departs = _at(parse_local(flight.get("departureTime")), zones.departure)
        lands = _at(parse_local(flight.get("arrivalTime")), zones.arrival)
        start: When | None = departs or first
        if start is None:
            continue
        number = " ".join(str(p) for p in (flight.get("airline"), flight.get("flightNumber")) if p)
        route = " → ".join(str(p) for p in (flight.get("from"), flight.get("to")) if p)
        seat = flight.get("seat")
        events.append(
            Event(
                uid=f"{leg.id}.flight.{index}",
                summary="Flight" + (f" {number}" if number else "") + (f": {route}" if route else ""),
                start=start,
                end=_ends_after(start, lands) if departs else start + dt.timedelta(days=1),
                location=str(flight["from"]) if flight.get("from") else None,
                description=f"Seat {seat}" if seat else None,
                categories=["FLIGHT"],
            )
        )

    stays = leg.stays or ([leg.accommodation] if leg.accommodation else [])
    for index, stay in enumerate(map(_wire, stays)):
        name = stay.get("name") or leg.destination
        lat: Any = stay.get("lat")  # JSON: checked by _is_number below
        lng: Any = stay.get("lng")
        location = stay.get("address") or stay.get("name")
        geo = (lat, lng) if _is_number(lat) and _is_number(lng) else None
        for key, default_day, label, suffix in (
            ("checkIn", first, "Check-in", ""),
            ("checkOut", last, "Check-out", ".check-out"),
        ):
            moment: When | None = _at(parse_local(stay.get(key)), leg.timezone)
            if moment is None:  # no time: the day, as a date (the leg's first or last day)
                moment = parse_date((stay.get(key) or "")[:10]) or default_day
            if moment is None:
                continue
            events.append(
                Event(
                    uid=f"{leg.id}.accommodation.{index}{suffix}",
                    summary=f"{label}: {name}",
                    start=moment,
                    end=None if isinstance(moment, dt.datetime) else moment + dt.timedelta(days=1),
                    description=stay.get("notes") if key == "checkIn" else None,
                    categories=["ACCOMMODATION"],
                    location=location,
                    geo=geo,
                )
            )

    car = _wire(leg.rental_car) if leg.rental_car else None
    if car:
        pickup = _at(parse_local(car.get("pickupTime")), leg.timezone)
        start = pickup or first
        if start is not None:
            dropoff = car.get("dropoffLocation")
            end = (
                _ends_after(start, _at(parse_local(car.get("dropoffTime")), leg.timezone))
                if pickup
                else start + dt.timedelta(days=1)
            )
            events.append(
                Event(
                    uid=f"{leg.id}.rental_car",
                    summary="Rental car" + (f": {car['company']}" if car.get("company") else ""),
                    start=start,
                    end=end,
                    location=car.get("pickupLocation"),
                    description=f"Drop-off: {dropoff}" if dropoff else None,
                    categories=["RENTAL CAR"],
                )
            )
    return events


def commitment_event(commitment: Commitment, legs: dict[str, Leg], pins: dict[str, MapPin]) -> Event | None:
    day = parse_date(commitment.start_date)
    if day is None:
        return None
    leg = legs.get(commitment.leg_id or "")
    timezone = commitment.timezone if zone(commitment.timezone) else (leg.timezone if leg else None)
    pin = pins.get(commitment.map_pin_id or "")
    start_time = None if commitment.is_all_day else parse_time(commitment.start_time)
    start: When
    end: When | None
    if start_time is None:
        start, end = day, day + dt.timedelta(days=1)
    else:
        local = dt.datetime.combine(day, start_time)
        start = _at(local, timezone)
        end_time = parse_time(commitment.end_time)
        end = None
        if end_time is not None:
            local_end = dt.datetime.combine(day, end_time)
            if local_end < local:  # 22:00-01:00 ends the next morning
                local_end += dt.timedelta(days=1)
            end = _at(local_end, timezone)
    return Event(
        uid=commitment.id,
        summary=commitment.title,
        start=start,
        end=end,
        location=pin.name if pin else (leg.destination if leg else None),
        geo=(pin.lat, pin.lng) if pin else None,
        description=commitment.notes,
        categories=[str(commitment.category).upper()],
    )


# --- the calendar ----------------------------------------------------------------------------


def _day(value: When) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def trip_events(export: TripExport) -> list[Event]:
    legs = {leg.id: leg for leg in export.legs}
    pins = {pin.id: pin for pin in export.map_pins}
    events = [event for leg in export.legs for event in leg_events(leg)]
    events += [e for c in export.commitments if (e := commitment_event(c, legs, pins)) is not None]
    events.sort(
        key=lambda e: (
            _day(e.start),
            e.start.replace(tzinfo=None).isoformat() if isinstance(e.start, dt.datetime) else "",
            e.uid,
        )
    )
    return events


def to_ics(export: TripExport, *, now: dt.datetime | None = None) -> str:
    """The trip's calendar as iCalendar text (CRLF line ends, as RFC 5545 wants)."""
    stamp = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    events = trip_events(export)
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add(
        "x-wr-calname", icalendar.vText(clean(export.trip.title))
    )  # X- properties are not typed: say TEXT
    spans: dict[str, tuple[dt.date, dt.date]] = {}
    for event in events:
        for name, day in event.zones():
            low, high = spans.get(name, (day, day))
            spans[name] = (min(low, day), max(high, day))
    # The zone's real transitions from a year before its first event to a year after its last.
    for name, (first, last) in sorted(spans.items()):
        calendar.add_component(
            icalendar.Timezone.from_tzinfo(
                zoneinfo.ZoneInfo(name),  # a name read from a ZoneInfo, so it resolves
                name,
                first_date=dt.date(max(first.year - 1, 1), 1, 1),
                last_date=dt.date(min(last.year + 2, 9999), 1, 1),
            )
        )
    for event in events:
        calendar.add_component(event.component(stamp))
    return calendar.to_ical().decode()
