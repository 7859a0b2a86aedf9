"""Which rows each conflict concerns, so that every pane draws the conflicts of its own rows: the
itinerary summary's (API-CONTRACT section 12) plus the one check the service does not make, a
leg's own flight, stay or car dated outside the leg (after its dates were edited, say).

Event ids name their row: a commitment's id, a leg's id, or `<leg id>.flight.<n>`,
`<leg id>.accommodation.<n>`, `<leg id>.rental_car` for what a leg holds."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from app.domain.itinerary import Conflict, ItinerarySummary
from app.domain.models import Leg
from app.tui.formatting import flight_times, parse_date, short_date

LEG_PARTS = (".flight.", ".accommodation.", ".rental_car")


def leg_of(event_id: str) -> str | None:
    """The leg an event of a leg belongs to ('leg-1.flight.0' -> 'leg-1'), None for other ids."""
    for part in LEG_PARTS:
        head, found, _ = event_id.partition(part)
        if found and head:
            return head
    return None


def flight_index(event_id: str) -> int | None:
    """0 for 'leg-1.flight.0'; None when the id is not a flight's."""
    _, found, tail = event_id.rpartition(".flight.")
    return int(tail) if found and tail.isdigit() else None


@dataclass
class LegConflicts:
    """The conflicts of the legs pane, each drawn where its rows are."""

    by_leg: dict[str, list[Conflict]] = field(default_factory=dict)
    """Per leg id: the conflicts that concern the leg or anything it holds (drawn under its row)."""
    flights: set[tuple[str, int]] = field(default_factory=set)
    """(leg id, flight index) of the flights some conflict concerns (their line is marked)."""
    nights: list[Conflict] = field(default_factory=list)
    """night_without_stay conflicts: drawn in the gap between the legs, not under one."""

    @property
    def count(self) -> int:
        unique = {id(conflict) for conflicts in self.by_leg.values() for conflict in conflicts}
        return len(unique) + len(self.nights)


def for_legs(conflicts: list[Conflict], leg_ids: set[str]) -> LegConflicts:
    placed = LegConflicts()
    for conflict in conflicts:
        if conflict.type == "night_without_stay":
            placed.nights.append(conflict)
            continue
        concerned: list[str] = []
        for event_id in conflict.event_ids:
            leg_id = event_id if event_id in leg_ids else leg_of(event_id)
            if leg_id is None or leg_id not in leg_ids:
                continue
            if leg_id not in concerned:
                concerned.append(leg_id)
            index = flight_index(event_id)
            if index is not None:
                placed.flights.add((leg_id, index))
        for leg_id in concerned:
            placed.by_leg.setdefault(leg_id, []).append(conflict)
    return placed


def _span(first: dt.date | None, last: dt.date | None) -> str:
    if first is None:
        return "undated"
    if last is None or last == first:
        return short_date(first)
    return f"{short_date(first)} – {short_date(last)}"


def outside_leg(leg: Leg) -> list[Conflict]:
    """The leg's flights, stays and car dated outside the leg's own dates, one conflict each (type
    `outside_leg`, as the service names a commitment outside its leg). A flight is within when it
    departs or lands (local dates) within the leg: an overnight flight in may depart the day
    before. A stay is within when it checks in and out within it. A car counts by its pickup: it
    may be dropped off on a later leg."""
    start, end = parse_date(leg.start_date), parse_date(leg.end_date)
    if start is None or end is None:
        return []
    found = []

    def inside(day: dt.date | None) -> bool:
        return day is None or start <= day <= end

    def report(event_id: str, what: str, first: dt.date | None, last: dt.date | None) -> None:
        found.append(
            Conflict(
                type="outside_leg",
                event_ids=[event_id],
                message=(f"{what} ({_span(first, last)}) is outside leg “{leg.title}” ({_span(start, end)})"),
            )
        )

    for index, flight in enumerate(leg.flights):
        times = flight_times(flight, leg.timezone)
        departs = times.departs.date() if times.departs else None
        lands = times.lands.date() if times.lands else None
        known = [day for day in (departs, lands) if day is not None]
        if known and not any(inside(day) for day in known):
            name = " ".join(
                p for p in (flight.flight_number or flight.airline, _route(flight.from_, flight.to)) if p
            )
            report(f"{leg.id}.flight.{index}", f"Flight {name}".strip(), departs or lands, lands)
    stays = leg.stays or ([leg.accommodation] if leg.accommodation else [])
    for index, stay in enumerate(stays):
        first, last = parse_date((stay.check_in or "")[:10]), parse_date((stay.check_out or "")[:10])
        if not (inside(first) and inside(last)):
            report(f"{leg.id}.accommodation.{index}", f"Stay “{stay.name or 'stay'}”", first, last)
    car = leg.rental_car
    if car is not None:
        pickup = parse_date((car.pickup_time or "")[:10])
        if not inside(pickup):
            report(
                f"{leg.id}.rental_car", f"Rental car {car.company or ''}".strip() + " pickup", pickup, None
            )
    return found


def _route(origin: str | None, destination: str | None) -> str:
    if origin and destination:
        return f"{origin}→{destination}"
    return str(origin or destination or "")


def every_conflict(summary: ItinerarySummary | None, legs: list[Leg]) -> list[Conflict]:
    """What the trip screen marks and counts: the summary's conflicts and the legs' own checks."""
    found = list(summary.conflicts) if summary is not None else []
    for leg in legs:
        found += outside_leg(leg)
    return found
