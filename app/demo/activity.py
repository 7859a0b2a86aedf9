"""The demo trip's recent activity as fixed `Activity` items (ids, times and names fixed), for
the activity screen's snapshots and screenshots: the feed as the service would write it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from app.demo import frozen
from app.demo.story import COMPANIONS, TITLE, YOU
from app.domain.activity import Activity

MINUTE = 60_000


def _at(local: str) -> int:
    """Milliseconds of a London wall-clock time (the frozen clock's zone)."""
    return int(dt.datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(frozen.ZONE)).timestamp() * 1000)


def activity() -> list[Activity]:
    maya, jonas, priya = COMPANIONS
    people = {p.ref: (f"user-{p.ref}", p.name) for p in (YOU, maya, jonas, priya)}
    revision = 58
    rows: list[tuple] = [
        # who, when, type, sentence after the name, changes, reverted_by, reverts
        (
            "maya",
            "2026-07-16T10:12",
            "move_event",
            "moved “Real Alcázar tour” from 09:30 to 10:30",
            [
                (
                    "commitment-3",
                    "commitment",
                    "updated",
                    "Real Alcázar tour",
                    {"startTime": ("09:30", "10:30"), "endTime": ("12:00", "13:00")},
                )
            ],
            None,
            None,
        ),
        (
            "jonas",
            "2026-07-16T09:48",
            "update_action_item",
            "ticked off “International driving permit for the rental car”",
            [
                (
                    "item-permit",
                    "action_item",
                    "updated",
                    "International driving permit for the rental car",
                    {"done": (False, True)},
                )
            ],
            None,
            None,
        ),
        (
            "you",
            "2026-07-16T09:30",
            "revert",
            "undid their own change: removed the map pin “Hammam de la Rose”",
            [
                (
                    "pin-hammam",
                    "map_pin",
                    "deleted",
                    "Hammam de la Rose",
                    {"name": ("Hammam de la Rose", None), "lat": (31.633, None), "lng": (-7.99, None)},
                )
            ],
            None,
            "op-demo-4",
        ),
        (
            "you",
            "2026-07-16T09:29",
            "create_map_pin",
            "added the map pin “Hammam de la Rose”",
            [
                (
                    "pin-hammam",
                    "map_pin",
                    "created",
                    "Hammam de la Rose",
                    {"name": (None, "Hammam de la Rose"), "lat": (None, 31.633), "lng": (None, -7.99)},
                )
            ],
            "op-demo-3",
            None,
        ),
        (
            "priya",
            "2026-07-15T22:05",
            "update_leg",
            "changed the stays of “Granada”",
            [
                (
                    "leg-granada",
                    "leg",
                    "updated",
                    "Granada",
                    {
                        "stays": (
                            [{"name": "Carmen de la Alcazaba"}],
                            [{"name": "Carmen de la Alcazaba", "checkIn": "2026-07-18T16:00"}],
                        )
                    },
                )
            ],
            None,
            None,
        ),
        (
            "maya",
            "2026-07-15T18:40",
            "reorder",
            "reordered the legs",
            [
                ("leg-seville", "leg", "updated", "Seville", {"order": (2, 1)}),
                ("leg-lisbon", "leg", "updated", "Lisbon", {"order": (1, 2)}),
            ],
            "op-demo-7",
            None,
        ),
        (
            "maya",
            "2026-07-15T18:42",
            "revert",
            "undid their own change: reordered the legs",
            [
                ("leg-lisbon", "leg", "updated", "Lisbon", {"order": (2, 1)}),
                ("leg-seville", "leg", "updated", "Seville", {"order": (1, 2)}),
            ],
            None,
            "op-demo-6",
        ),
        (
            "jonas",
            "2026-07-15T17:03",
            "create_commitment",
            "added the commitment “Flamenco at Casa de la Memoria”",
            [
                (
                    "commitment-9",
                    "commitment",
                    "created",
                    "Flamenco at Casa de la Memoria",
                    {
                        "title": (None, "Flamenco at Casa de la Memoria"),
                        "startDate": (None, "2026-07-15"),
                        "startTime": (None, "19:30"),
                        "category": (None, "activity"),
                    },
                )
            ],
            None,
            None,
        ),
        (
            "you",
            "2026-07-15T12:30",
            "update_trip",
            "changed the trip's dates",
            [("trip-demo", "trip", "updated", TITLE, {"endDate": ("2026-07-23", "2026-07-24")})],
            None,
            None,
        ),
        ("priya", "2026-07-14T20:15", "sync", "added 3 map pins; changed 1 map pin", [], None, None),
    ]
    rows.sort(key=lambda row: row[1], reverse=True)
    items = []
    for index, (who, local, kind, sentence, changes, reverted_by, reverts) in enumerate(rows):
        user_id, name = people[who]
        items.append(
            Activity.model_validate(
                {
                    "op_id": f"op-demo-{index + 1}",
                    "operation_type": kind,
                    "result_revision": revision - index,
                    "created_at": _at(local),
                    "actor": {"userId": user_id, "name": name, "keyName": "laptop"},
                    "summary": f"{name} {sentence}",
                    "reverted_by": reverted_by,
                    "reverts": reverts,
                    "changes": [
                        {
                            "id": row_id,
                            "kind": row_kind,
                            "change": change,
                            "label": label,
                            "fields": {
                                field: {"before": before, "after": after}
                                for field, (before, after) in fields.items()
                            },
                        }
                        for row_id, row_kind, change, label, fields in changes
                    ],
                }
            )
        )
    return items
