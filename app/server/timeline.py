"""The itinerary read side as pure functions of stored rows: the ordered event list, the net
per-event diff of an operation log, scheduling conflicts and the compact summary."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter
from functools import lru_cache
from typing import Any, Iterable, Mapping

from app.server import events

Row = Mapping[str, Any]


def itinerary_events(legs: Iterable[Row], commitments: Iterable[Row]) -> list[dict[str, Any]]:
    """Every event of the trip, ordered by date, then time (untimed first), then id.

    Each event depends on its own row only (a commitment's `timezone` is its own), so the
    operation log's per-row event changes describe every change of this list exactly.
    """
    found: list[dict[str, Any]] = []
    for leg in legs:
        found.extend(events.leg_events(leg))
    found.extend(events.commitment_event(c) for c in commitments)
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
            (self.start.replace(tzinfo=tz).astimezone(dt.timezone.utc), self.end.replace(tzinfo=tz).astimezone(dt.timezone.utc))
            if tz
            else None
        )

    def overlaps(self, other: "_Slot") -> bool:
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


def _overlapping_commitments(commitments: list[Row], legs_by_id: Mapping[str, Row]) -> list[dict[str, Any]]:
    slots = []
    for row in commitments:
        if row["is_all_day"] or not row["start_time"]:
            continue  # all-day and untimed commitments never conflict
        zone = row["timezone"]
        if zone is None and row["leg_id"] in legs_by_id:
            zone = legs_by_id[row["leg_id"]]["timezone"]
        slots.append(_Slot(row, zone))
    slots.sort(key=lambda s: (s.start, s.id))
    conflicts = []
    # Zones are at most 26 hours apart, so only commitments within two local days can overlap.
    window = dt.timedelta(days=2)
    for i, a in enumerate(slots):
        for b in slots[i + 1:]:
            if b.start - a.start > window:
                break
            if a.overlaps(b):
                conflicts.append(
                    {
                        "type": "overlapping_commitments",
                        "event_ids": [a.id, b.id],
                        "message": f"{a.label()} overlaps {b.label()}",
                    }
                )
    return conflicts


def _overlapping_legs(legs: list[Row]) -> list[dict[str, Any]]:
    """Legs overlap when they share more than one boundary day: the day one leg ends and the
    next begins is a handover, not a conflict."""
    ordered = sorted(legs, key=lambda leg: (leg["start_date"], leg["end_date"], leg["id"]))
    conflicts = []
    for i, a in enumerate(ordered):
        for b in ordered[i + 1:]:
            if b["start_date"] >= a["end_date"]:
                break  # sorted by start: no later leg can overlap `a` either
            if a["start_date"] < b["end_date"]:
                conflicts.append(
                    {
                        "type": "overlapping_legs",
                        "event_ids": [a["id"], b["id"]],
                        "message": (
                            f"Leg “{a['title']}” ({a['start_date']} to {a['end_date']}) overlaps leg "
                            f"“{b['title']}” ({b['start_date']} to {b['end_date']})"
                        ),
                    }
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
            why = f"ends on {last}, after the trip ends ({end})" if last != event["date"] else (
                f"is on {last}, after the trip ends ({end})"
            )
        else:
            continue
        conflicts.append(
            {"type": "outside_trip", "event_ids": [event["id"]], "message": f"{event['type']} “{event['title']}” {why}"}
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


def find_conflicts(trip: Row, legs: list[Row], commitments: list[Row], itinerary: list[dict[str, Any]]) -> list[dict[str, Any]]:
    legs_by_id = {leg["id"]: leg for leg in legs}
    return (
        _overlapping_commitments(commitments, legs_by_id)
        + _overlapping_legs(legs)
        + _outside_trip(trip, itinerary)
        + _outside_leg(commitments, legs_by_id)
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
    itinerary = itinerary_events(legs, commitments)
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
