"""The itinerary read side as pure functions of stored rows: the ordered event list, the net
per-event diff of an operation log, scheduling conflicts and the compact summary."""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import zoneinfo
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

import app.domain.localtime as localtime
from app.domain import events
from app.domain.localtime import flight_zones

Row = Mapping[str, Any]


def itinerary_events(
    legs: Iterable[Row], commitments: Iterable[Row], *, instants: bool = True
) -> list[dict[str, Any]]:
    """Every event of the trip, ordered by date, then time (untimed first), then id.

    Each event depends on its own row only, except a commitment without a zone of its own, which
    takes its leg's: the writes that change a leg's zone (or delete the leg) log an event change
    for each such commitment too, so the operation log describes every change of this list.
    """
    found: list[dict[str, Any]] = []
    leg_timezones = {}
    for leg in legs:
        found.extend(events.leg_events(leg, instants=instants))
        leg_timezones[leg["id"]] = leg["timezone"]
    found.extend(events.commitment_event(c, leg_timezones, instants=instants) for c in commitments)
    found.sort(key=events.sort_key)
    return found


def net_event_diffs(operations: Iterable[Row]) -> list[dict[str, str]]:
    """Fold the event changes of consecutive operations into one change per event.

    Only the first and last change matter: an event that existed before the first change
    (first change is not `added`) and still exists after the last (last is not `removed`) was
    updated; added then removed is nothing at all.
    """
    first: dict[str, str] = {}
    last: dict[str, str] = {}
    for operation in operations:
        for change in operation["event_changes"] or []:
            first.setdefault(change["event_id"], change["change"])
            last[change["event_id"]] = change["change"]
    diffs = []
    for event_id, first_change in first.items():
        existed, exists = first_change != "added", last[event_id] != "removed"
        if existed and exists:
            diffs.append({"event_id": event_id, "change": "updated"})
        elif exists:
            diffs.append({"event_id": event_id, "change": "added"})
        elif existed:
            diffs.append({"event_id": event_id, "change": "removed"})
    return diffs


def operation_wire(row: Row) -> dict[str, Any]:
    return {
        "op_id": row["op_id"],
        "operation_type": row["operation_type"],
        "result_revision": row["result_revision"],
        "affected_event_ids": list(row["affected_event_ids"] or []),
    }


# --- conflicts ----------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


class _Slot:
    """A timed commitment as an interval of local wall-clock time, with its zone if known."""

    def __init__(self, row: Row, zone: str | None) -> None:
        self.id = row["id"]
        self.title = row["title"]
        self.date = row["start_date"]
        day = dt.date.fromisoformat(row["start_date"])
        self.start_text = row["start_time"]
        self.end_text = row["end_time"] if row["end_time"] and row["end_time"] > row["start_time"] else None
        self.start = dt.datetime.combine(day, dt.time.fromisoformat(row["start_time"]))
        # Without an end time a commitment occupies its start minute only.
        self.end = (
            dt.datetime.combine(day, dt.time.fromisoformat(self.end_text))
            if self.end_text
            else self.start + dt.timedelta(minutes=1)
        )
        self.zone = zone
        tz = _zone(zone) if zone else None
        self.utc = (
            (self.start.replace(tzinfo=tz).astimezone(dt.UTC), self.end.replace(tzinfo=tz).astimezone(dt.UTC))
            if tz
            else None
        )

    def overlaps(self, other: _Slot) -> bool:
        # Compare instants when both zones are known and differ; otherwise wall-clock times
        # (a commitment without a zone is taken to be in the other's zone).
        if self.utc and other.utc and self.zone != other.zone:
            (a0, a1), (b0, b1) = self.utc, other.utc
        else:
            a0, a1, b0, b1 = self.start, self.end, other.start, other.end
        return a0 < b1 and b0 < a1

    def label(self) -> str:
        span = f"{self.start_text}–{self.end_text}" if self.end_text else self.start_text
        zone = f" {self.zone}" if self.zone else ""
        return f"“{self.title}” ({self.date} {span}{zone})"


# A conflict names at most this many events in its message (its `event_ids` name them all).
MESSAGE_NAMES = 5


def _names(labels: list[str]) -> str:
    shown = ", ".join(labels[:MESSAGE_NAMES])
    more = len(labels) - MESSAGE_NAMES
    return f"{shown} and {more} more" if more > 0 else shown


def _overlapping_commitments(commitments: list[Row], legs_by_id: Mapping[str, Row]) -> list[dict[str, Any]]:
    """One conflict per group of overlapping timed commitments: a group is a maximal set linked
    by overlaps (A overlaps B, B overlaps C: one group even if A and C do not overlap), so N
    commitments that all overlap are one conflict, not N(N-1)/2, found without comparing pairs."""
    slots = []
    for row in commitments:
        if row["is_all_day"] or not row["start_time"]:
            continue  # all-day and untimed commitments never conflict
        zone = row["timezone"]
        if zone is None and row["leg_id"] in legs_by_id:
            zone = legs_by_id[row["leg_id"]]["timezone"]
        slots.append(_Slot(row, zone))
    slots.sort(key=lambda s: (s.start, s.id))
    parent = list(range(len(slots)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(i: int, j: int) -> None:
        parent[root(j)] = root(i)

    # Two sweeps, in time order, linear in the number of commitments times the number of zones.
    # A slot's class is its zone when it has a usable zone, else None. Wall-clock times compare
    # two slots of one class or any slot with a class-None one; instants compare slots of two
    # different zones. Earlier slots still running when a slot starts all contain that moment, so
    # those of one class overlap each other (they are already one group): joining the new slot to
    # the latest-ending running slot of each class it compares with joins it to all of them.
    def classes(slot: _Slot) -> str | None:
        return slot.zone if slot.utc else None

    latest: dict[str | None, int] = {}  # class -> index of the slot ending last (wall-clock) so far
    for j, b in enumerate(slots):
        mine = classes(b)
        for other, i in latest.items():
            if (mine is None or other is None or other == mine) and slots[i].end > b.start:
                join(i, j)
        last = latest.get(mine)
        if last is None or slots[last].end < b.end:
            latest[mine] = j
    spans = {j: slot.utc for j, slot in enumerate(slots) if slot.utc}  # index -> (start, end) in UTC
    latest_utc: dict[str | None, int] = {}  # zone -> index of the slot ending last (instant) so far
    for j in sorted(spans, key=lambda j: spans[j][0]):
        b = slots[j]
        for zone, i in latest_utc.items():
            if zone != b.zone and spans[i][1] > spans[j][0]:
                join(i, j)
        last = latest_utc.get(b.zone)
        if last is None or spans[last][1] < spans[j][1]:
            latest_utc[b.zone] = j
    groups: dict[int, list[_Slot]] = {}
    for i, slot in enumerate(slots):
        groups.setdefault(root(i), []).append(slot)
    conflicts = []
    for group in groups.values():
        if len(group) < 2:
            continue
        if len(group) == 2:
            message = f"{group[0].label()} overlaps {group[1].label()}"
        else:
            message = f"{len(group)} commitments overlap: {_names([s.label() for s in group])}"
        conflicts.append(
            {"type": "overlapping_commitments", "event_ids": [s.id for s in group], "message": message}
        )
    return conflicts


def _leg_label(leg: Row) -> str:
    return f"“{leg['title']}” ({leg['start_date']} to {leg['end_date']})"


def _overlapping_legs(legs: list[Row]) -> list[dict[str, Any]]:
    """Legs overlap when they share more than one boundary day: the day one leg ends and the
    next begins is a handover, not a conflict. One conflict per maximal run of overlapping legs
    (each leg of the run overlaps an earlier one), with all their ids: linear after the sort."""
    # By start, then end: a one-day leg [d, d] comes before the legs starting on d, which it
    # does not overlap, so a leg joins the run exactly when it starts before the run's latest end.
    ordered = sorted(legs, key=lambda leg: (leg["start_date"], leg["end_date"], leg["id"]))
    runs: list[list[Row]] = []
    latest_end = ""
    for leg in ordered:
        if runs and leg["start_date"] < latest_end:
            runs[-1].append(leg)
            latest_end = max(latest_end, leg["end_date"])
        else:
            runs.append([leg])
            latest_end = leg["end_date"]
    conflicts = []
    for run in runs:
        if len(run) < 2:
            continue
        if len(run) == 2:
            message = f"Leg {_leg_label(run[0])} overlaps leg {_leg_label(run[1])}"
        else:
            last = max(leg["end_date"] for leg in run)
            message = (
                f"{len(run)} legs overlap between {run[0]['start_date']} and {last}: "
                f"{_names([_leg_label(leg) for leg in run])}"
            )
        conflicts.append(
            {"type": "overlapping_legs", "event_ids": [leg["id"] for leg in run], "message": message}
        )
    return conflicts


def _outside_trip(trip: Row, itinerary: list[dict[str, Any]]) -> list[dict[str, Any]]:
    start, end = trip["start_date"], trip["end_date"]
    conflicts = []
    for event in itinerary:
        last = max(event["date"], event["end_date"] or event["date"])
        if event["date"] < start:
            why = f"starts on {event['date']}, before the trip starts ({start})"
        elif last > end:
            why = (
                f"ends on {last}, after the trip ends ({end})"
                if last != event["date"]
                else (f"is on {last}, after the trip ends ({end})")
            )
        else:
            continue
        conflicts.append(
            {
                "type": "outside_trip",
                "event_ids": [event["id"]],
                "message": f"{event['type']} “{event['title']}” {why}",
            }
        )
    return conflicts


def _outside_leg(commitments: list[Row], legs_by_id: Mapping[str, Row]) -> list[dict[str, Any]]:
    conflicts = []
    for row in commitments:
        leg = legs_by_id.get(row["leg_id"]) if row["leg_id"] else None
        if leg is None or leg["start_date"] <= row["start_date"] <= leg["end_date"]:
            continue
        conflicts.append(
            {
                "type": "outside_leg",
                "event_ids": [row["id"]],
                "message": (
                    f"“{row['title']}” on {row['start_date']} is linked to leg “{leg['title']}”, "
                    f"which runs {leg['start_date']} to {leg['end_date']}"
                ),
            }
        )
    return conflicts


# --- nights and transfers (API-CONTRACT section 12) ----------------------------------------

MIN_CONNECTION_MINUTES = 45
"""The minimum connection between two flights when the trip does not set its own."""
MAX_NEAR = 20
"""A night_without_stay conflict names at most this many legs around its run in `event_ids`, so
that mutually overlapping legs do not make the answer grow with legs x runs."""
MAX_DATES = 1000
"""A night_without_stay conflict lists at most this many evenings in `dates` (its message counts
them all): a trip of centuries without a bed would otherwise answer megabytes."""


def _day(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def _slept(legs: list[Row]) -> list[tuple[dt.date, dt.date]]:
    """[first evening, morning after the last) of every stay, and of every flight in the air
    overnight (departing on one local date, landing on a later one)."""
    spans = []
    for leg in legs:
        for stay in leg["stays"] or []:
            first = _day(stay.get("checkIn")) or _day(leg["start_date"])
            last = _day(stay.get("checkOut")) or _day(leg["end_date"])
            if first and last and last > first:
                spans.append((first, last))
        for flight in leg["flights"] or []:
            departs, lands = _day(flight.get("departureTime")), _day(flight.get("arrivalTime"))
            if departs and lands and lands > departs:
                spans.append((departs, lands))
    return spans


def _nights_without_stay(trip: Row, legs: list[Row]) -> list[dict[str, Any]]:
    """One conflict per run of consecutive nights of the trip (the night of D: D to D+1, for D
    from its first day to the day before its last) that no stay covers and no overnight flight
    spends in the air. Found by a sweep over the sorted stays: linear after the sort."""
    start, end = _day(trip["start_date"]), _day(trip["end_date"])
    if not start or not end or end <= start:
        return []
    runs: list[tuple[dt.date, dt.date]] = []  # [first evening, morning after)
    night = start
    for first, last in sorted(_slept(legs)):
        if first > night:
            runs.append((night, min(first, end)))
        night = max(night, last)
        if night >= end:
            break
    if night < end:
        runs.append((night, end))
    ordered = sorted(legs, key=lambda leg: (leg["start_date"], leg["end_date"], leg["id"]))
    starts = [leg["start_date"] for leg in ordered]
    latest_end: list[str] = []  # latest_end[i]: the latest end of ordered[0..i]
    for leg in ordered:
        latest_end.append(max(leg["end_date"], latest_end[-1]) if latest_end else leg["end_date"])
    conflicts = []
    for first, after in runs:
        if after <= first:
            continue
        last = after - dt.timedelta(days=1)
        # The legs around the run: those ending on its first evening or later and starting by the
        # morning after its last night; at most MAX_NEAR, the latest-starting. Walked back from
        # the last leg starting by then, until no earlier leg ends late enough.
        near: list[Row] = []
        first_text = first.isoformat()
        i = bisect.bisect_right(starts, after.isoformat()) - 1
        while i >= 0 and len(near) < MAX_NEAR and latest_end[i] >= first_text:
            if ordered[i]["end_date"] >= first_text:
                near.append(ordered[i])
            i -= 1
        near.reverse()
        count = (after - first).days
        dates = [(first + dt.timedelta(days=i)).isoformat() for i in range(min(count, MAX_DATES))]
        when = f"the night of {first}" if count == 1 else f"{count} nights, the evenings of {first} to {last}"
        around = f" (legs {_names(['“' + leg['title'] + '”' for leg in near])})" if near else ""
        conflicts.append(
            {
                "type": "night_without_stay",
                "event_ids": [leg["id"] for leg in near],
                "dates": dates,
                "message": f"No stay for {when}{around}",
            }
        )
    return conflicts


class _Flight:
    """A flight with both ends as instants, where known."""

    def __init__(self, leg: Row, index: int, flight: Mapping[str, Any]) -> None:
        self.id = f"{leg['id']}.flight.{index}"
        self.leg_id = leg["id"]
        zones = flight_zones(flight, leg["timezone"])
        departs_text, lands_text = flight.get("departureTime"), flight.get("arrivalTime")
        self.departure_zone, self.arrival_zone = zones.departure, zones.arrival
        self.departs = localtime.utc(localtime.aware(localtime.parse_local(departs_text), zones.departure))
        self.lands = localtime.utc(localtime.aware(localtime.parse_local(lands_text), zones.arrival))
        # The texts are read only where their instants are known, so they are strings there.
        self.departs_text: str = departs_text if isinstance(departs_text, str) else ""
        self.lands_text: str = lands_text if isinstance(lands_text, str) else ""
        route = " → ".join(p for p in (flight.get("from"), flight.get("to")) if p)
        number = " ".join(p for p in (flight.get("airline"), flight.get("flightNumber")) if p)
        self.title = route or number or "Flight"

    def label(self) -> str:
        return f"flight “{self.title}”"

    def sentence_label(self) -> str:
        """'Flight “ZRH → NRT”': to begin a sentence (str.capitalize would lower the codes)."""
        return f"Flight “{self.title}”"

    def departure(self) -> str:
        return f"{self.departs_text.replace('T', ' ')} {self.departure_zone}"

    def arrival(self) -> str:
        return f"{self.lands_text.replace('T', ' ')} {self.arrival_zone}"


def _minutes(delta: dt.timedelta) -> str:
    total = int(abs(delta.total_seconds()) // 60)
    hours, minutes = divmod(total, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def _impossible_transfers(trip: Row, legs: list[Row], commitments: list[Row]) -> list[dict[str, Any]]:
    """Flights that land before they depart (a wrong zone, usually), flights that leave before the
    previous flight has landed plus the trip's minimum connection, and timed commitments of a leg
    that start before the flight into that leg has landed. Instants throughout; linear after the
    sort of the flights by departure."""
    setting = trip.get("min_connection_minutes")
    minimum = dt.timedelta(minutes=MIN_CONNECTION_MINUTES if setting is None else setting)
    flights = [_Flight(leg, i, f) for leg in legs for i, f in enumerate(leg["flights"] or [])]
    conflicts = []
    for flight in flights:
        if flight.departs and flight.lands and flight.lands < flight.departs:
            conflicts.append(
                {
                    "type": "impossible_transfer",
                    "event_ids": [flight.id],
                    "message": (
                        f"{flight.sentence_label()} lands ({flight.arrival()}) {_minutes(flight.departs - flight.lands)} "
                        f"before it departs ({flight.departure()}): is a time or a zone wrong?"
                    ),
                }
            )
    timed = sorted(((f.departs, f) for f in flights if f.departs), key=lambda pair: (pair[0], pair[1].id))
    for (previous_departs, previous), (departs, following) in itertools.pairwise(timed):
        landed = previous.lands
        if landed is None or landed < previous_departs or departs >= landed + minimum:
            continue
        wait = departs - landed
        how = (
            f"{_minutes(wait)} before {previous.label()} lands"
            if wait < dt.timedelta(0)
            else f"{_minutes(wait)} after {previous.label()} lands"
        )
        conflicts.append(
            {
                "type": "impossible_transfer",
                "event_ids": [previous.id, following.id],
                "message": (
                    f"{following.sentence_label()} departs ({following.departure()}) {how} ({previous.arrival()}); "
                    f"the minimum connection is {_minutes(minimum)}"
                ),
            }
        )
    # The flight into a leg: of the leg's flights that land on or before its first day, the one
    # landing last (a leg's flight home on its last day is not the way in).
    into: dict[str, tuple[dt.datetime, _Flight]] = {}  # leg id -> (when it lands, the flight)
    legs_by_id = {leg["id"]: leg for leg in legs}
    for flight in flights:
        leg = legs_by_id[flight.leg_id]
        lands = flight.lands
        if lands and flight.lands_text[:10] <= leg["start_date"]:
            if flight.leg_id not in into or into[flight.leg_id][0] < lands:
                into[flight.leg_id] = (lands, flight)
    for row in commitments:
        found = into.get(row["leg_id"]) if row["leg_id"] else None
        if found is None or row["is_all_day"] or not row["start_time"]:
            continue
        lands, flight = found
        zone = events.commitment_zone(row, {row["leg_id"]: legs_by_id[row["leg_id"]]["timezone"]})
        starts = localtime.utc(localtime.aware(localtime.combine(row["start_date"], row["start_time"]), zone))
        if starts is None or starts >= lands:
            continue
        leg = legs_by_id[row["leg_id"]]
        conflicts.append(
            {
                "type": "impossible_transfer",
                "event_ids": [flight.id, row["id"]],
                "message": (
                    f"“{row['title']}” ({row['start_date']} {row['start_time']} {zone}) starts "
                    f"{_minutes(lands - starts)} before {flight.label()} into leg “{leg['title']}” lands "
                    f"({flight.arrival()})"
                ),
            }
        )
    return conflicts


def find_conflicts(
    trip: Row, legs: list[Row], commitments: list[Row], itinerary: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    legs_by_id = {leg["id"]: leg for leg in legs}
    return (
        _overlapping_commitments(commitments, legs_by_id)
        + _overlapping_legs(legs)
        + _outside_trip(trip, itinerary)
        + _outside_leg(commitments, legs_by_id)
        + _nights_without_stay(trip, legs)
        + _impossible_transfers(trip, legs, commitments)
    )


def trip_bounds(legs: Iterable[Row], map_pins: Iterable[Row]) -> dict[str, float] | None:
    points = [(pin["lat"], pin["lng"]) for pin in map_pins]
    for leg in legs:
        for stay in leg["stays"] or []:
            if stay.get("lat") is not None and stay.get("lng") is not None:
                points.append((stay["lat"], stay["lng"]))
    if not points:
        return None
    lats, lngs = [p[0] for p in points], [p[1] for p in points]
    return {"min_lat": min(lats), "max_lat": max(lats), "min_lng": min(lngs), "max_lng": max(lngs)}


def summary(trip: Row, legs: list[Row], commitments: list[Row], map_pins: list[Row]) -> dict[str, Any]:
    # Conflicts that need instants compute them from the rows: the events' own are not needed.
    itinerary = itinerary_events(legs, commitments, instants=False)
    conflicts = find_conflicts(trip, legs, commitments, itinerary)
    return {
        "trip_id": trip["id"],
        "revision": trip["revision"],
        "status": trip["status"],
        "event_count": len(itinerary),
        "events_by_type": dict(Counter(e["type"] for e in itinerary)),
        "trip_bounds": trip_bounds(legs, map_pins),
        "conflicts": conflicts,
        "conflict_count": len(conflicts),
        "compact_events": [
            {"id": e["id"], "type": e["type"], "date": e["date"], "time": e["time"], "title": e["title"]}
            for e in itinerary
        ],
    }
