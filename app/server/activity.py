"""The activity feed and revert (API-CONTRACT section 13).

Every operation keeps who made it and the rows it changed (`revisions.note_row`): whole rows for
creates and deletes, the changed columns' before and after for updates. From that the feed says
in one sentence what happened, and a revert writes the inverse as a new operation: a create is
deleted, a delete re-created with its id, an update set back. A revert is refused (409
REVERT_CONFLICT, nothing written) when a row no longer holds what the operation left in it: a
later operation changed the same fields, and the answer names it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain import events
from app.server.auth import TripAccess, ensure_role
from app.server.clock import new_id
from app.server.errors import ApiError, not_found
from app.server.storage import activity as store
from app.server.storage import content
from app.server.storage import tables as t
from app.server.storage.converters import whole
from app.server.storage.revisions import lock_at_revision, note_row, record_change

Row = dict[str, Any]

TABLES = {"trip": t.trips, **{name: kind.table for name, kind in content.KINDS.items()}}
NOUNS = {
    "trip": "trip",
    "leg": "leg",
    "commitment": "commitment",
    "map_pin": "map pin",
    "action_item": "checklist item",
}
NOT_SHOWN = {"id", "created_at"}
"""Columns a created or deleted row keeps (a revert re-creates it exactly) but the feed leaves out."""
WORDS = {
    "start_date": "date",
    "end_date": "end date",
    "start_time": "start time",
    "end_time": "end time",
    "is_all_day": "all-day flag",
    "leg_id": "leg",
    "map_pin_id": "map pin",
    "rental_car": "rental car",
    "client_ref": "clientRef",
    "min_connection_minutes": "minimum connection",
    "lat": "position",
    "lng": "position",
}
VERBS = {"created": "added", "updated": "changed", "deleted": "removed"}
CHANGES_SHOWN = 50
"""Rows an item of the feed lists (`changes_total` counts them all): a sync of 500 legs is one
operation, and its whole rows made one item of 300 KB."""
WHEN_COLUMNS = {"start_date", "start_time", "end_time", "is_all_day"}


# --- the feed -----------------------------------------------------------------------------


def _wire_value(column: str, value: Any) -> Any:
    return whole(value) if column == "order" and isinstance(value, float) else value


def row_change_wire(change: Mapping[str, Any]) -> dict[str, Any]:
    before, after = change.get("before") or {}, change.get("after") or {}
    columns = [c for c in (after if change["change"] != "deleted" else before) if c not in NOT_SHOWN]
    if change["change"] != "updated":
        columns = [c for c in columns if (before or after).get(c) not in (None, [], {})]
    fields = {
        content.camel(c): {"before": _wire_value(c, before.get(c)), "after": _wire_value(c, after.get(c))}
        for c in columns
    }
    return {
        "id": change["id"],
        "kind": change["kind"],
        "change": change["change"],
        "label": change.get("label"),
        "fields": fields,
    }


def item(op: Mapping[str, Any], reverted: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """One operation as the feed shows it; `reverted` holds the operations the page's reverts
    undid (see `store.reverted_ones`), for their sentences."""
    rows = op["row_changes"]
    return {
        "op_id": op["op_id"],
        "operation_type": op["operation_type"],
        "result_revision": op["result_revision"],
        "created_at": op["created_at"],
        "actor": {"userId": op["actor_id"], "name": op["actor_name"], "keyName": op["actor_key_name"]},
        "summary": summary(op, (reverted or {}).get(op["reverts"] or "")),
        "changes": [row_change_wire(change) for change in (rows or [])[:CHANGES_SHOWN]],
        "changes_total": len(rows or []),
        "reverted_by": op["reverted_by"],
        "reverts": op["reverts"],
    }


async def page(
    conn: AsyncConnection, trip_id: str, *, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    rows, next_cursor = await store.page(conn, trip_id, limit=limit, cursor=cursor)
    reverted = await store.reverted_ones(conn, trip_id, [row["reverts"] for row in rows if row["reverts"]])
    return [item(row, reverted) for row in rows], next_cursor


# --- sentences ----------------------------------------------------------------------------


def summary(op: Mapping[str, Any], reverted: Mapping[str, Any] | None = None) -> str:
    """One sentence for people: “Maya moved “Flamenco class” from 15:30 to 17:30”."""
    who = op["actor_name"] or "Someone"
    rows = op["row_changes"]
    if rows is None:  # logged before operations kept their rows
        return f"{who} made a change ({op['operation_type'].replace('_', ' ')})"
    what = describe(op["operation_type"], rows)
    if op["reverts"]:
        if reverted is None:
            whose = "a"
        elif reverted["actor_id"] == op["actor_id"]:
            whose = "their own"
        else:
            whose = f"{reverted['actor_name'] or 'someone'}'s"
        # After the colon, what the undone operation had done ("undid their own change: removed the
        # leg" reads as the removal undone; the revert's own effect there read backwards). Undoing
        # an undo is a redo, and undoing that an undo again: each says what it undid.
        noun = "undo" if reverted is not None and reverted["reverts"] else "change"
        if reverted is None or reverted.get("row_changes") is None:
            return f"{who} undid {whose} {noun}, which left this: {what}"
        return f"{who} undid {whose} {noun}: {describe(reverted['operation_type'], reverted['row_changes'])}"
    return f"{who} {what}"


def _words(columns: list[str]) -> str:
    return _and(list(dict.fromkeys(WORDS.get(c, c.replace("_", " ")) for c in columns)))


def _quoted(change: Mapping[str, Any]) -> str:
    label = change.get("label")
    if not label:
        return f"a {NOUNS[change['kind']]}"
    label = " ".join(str(label).split())
    return f"“{label[:60]}…”" if len(label) > 60 else f"“{label}”"


def _date(value: str | None) -> str:
    try:
        day = dt.date.fromisoformat(value or "")
    except ValueError:
        return value or "no date"
    return f"{day:%b} {day.day}"


def _when(part: Mapping[str, Any], columns: set[str]) -> str:
    shown = []
    if "start_date" in columns:
        shown.append(_date(part.get("start_date")))
    if columns & {"start_time", "is_all_day"}:
        shown.append(part.get("start_time") or ("all day" if part.get("is_all_day") else "no time"))
    return " ".join(shown)


def _trip_change(before: Mapping[str, Any], after: Mapping[str, Any]) -> str:
    columns = list(after)
    if columns == ["status"]:
        return (
            "archived the trip"
            if after["status"] == "completed"
            else f"set the trip's status to {after['status']}"
        )
    if columns == ["title"]:
        return f"renamed the trip “{before['title']}” to “{after['title']}”"
    if set(columns) <= {"start_date", "end_date"}:
        return "changed the trip's dates"
    return f"changed the trip's {_words(columns)}"


def _one(change: Mapping[str, Any]) -> str:
    kind, noun, name = change["kind"], NOUNS[change["kind"]], _quoted(change)
    if change["change"] == "created":
        return f"added the {noun} {name}"
    if change["change"] == "deleted":
        return f"removed the {noun} {name}"
    before, after = change["before"], change["after"]
    columns = set(after)
    if kind == "trip":
        return _trip_change(before, after)
    if (
        kind == "commitment"
        and columns <= WHEN_COLUMNS
        and columns & {"start_date", "start_time", "is_all_day"}
    ):
        return f"moved {name} from {_when(before, columns)} to {_when(after, columns)}"
    if columns in ({"title"}, {"name"}, {"text"}):
        (column,) = columns
        return f"renamed the {noun} “{before[column]}” to “{after[column]}”"
    if kind == "action_item" and columns == {"done"}:
        return f"ticked off {name}" if after["done"] else f"unticked {name}"
    return f"changed the {_words(sorted(columns, key=list(after).index))} of {name}"


def _unlinks_only(change: Mapping[str, Any]) -> bool:
    """A commitment unlinked because its leg or pin was deleted (a side effect of that delete)."""
    return (
        change["kind"] == "commitment"
        and change["change"] == "updated"
        and set(change["after"]) <= {"leg_id", "map_pin_id"}
        and not any(change["after"].values())
    )


def describe(operation_type: str, rows: list[Mapping[str, Any]]) -> str:
    """What the operation did, as a verb phrase (the actor is put before it)."""
    if operation_type == "reorder" or (
        rows
        and all(
            r["kind"] == "leg" and r["change"] == "updated" and set(r["after"]) == {"order"} for r in rows
        )
    ):
        return "reordered the legs"
    if not rows:
        return "changed nothing"
    main = [r for r in rows if not _unlinks_only(r)] or rows
    if len(main) == 1:
        text = _one(main[0])
        unlinked = len(rows) - 1
        if unlinked:
            text += f" (and unlinked {unlinked} commitment{'s' if unlinked > 1 else ''})"
        return text
    counts = Counter((r["change"], r["kind"]) for r in main)
    parts = []
    for change in VERBS:  # "added 2 legs and 1 map pin; changed 1 map pin"
        counted = [
            f"{count} {NOUNS[kind]}{'s' if count > 1 else ''}"
            for (verb, kind), count in counts.items()
            if verb == change
        ]
        if counted:
            parts.append(f"{VERBS[change]} {_and(counted)}")
    return "; ".join(parts)


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


# --- revert -------------------------------------------------------------------------------


def rejected(message: str) -> ApiError:
    return ApiError(409, "OPERATION_REJECTED", message)


async def revert(conn: AsyncConnection, access: TripAccess, op_id: str, base_revision: int) -> dict[str, Any]:
    """Undo operation `op_id` as a new operation, if the trip is still at `base_revision` and no
    later operation changed what it changed. Returns `{"operation": <feed item>, "revision"}`."""
    trip_id = access.trip_id
    trip = await lock_at_revision(conn, trip_id, base_revision)
    target = await store.by_id(conn, trip_id, op_id)
    if target is None:
        raise not_found("Operation")
    if target["row_changes"] is None:
        raise rejected(
            "This change was logged before Tripdeck kept what each change did, so it cannot be reverted"
        )
    rows: list[Row] = target["row_changes"]
    if any(_archives_or_unarchives(change) for change in rows):
        ensure_role(
            access, access.role.may_manage_members, "Only an owner or planner may archive or unarchive a trip"
        )
    await _refuse_conflicts(conn, trip_id, target, rows)
    changes: list[tuple[str, str]] = []
    for change in reversed(rows):
        changes += await _invert(conn, trip, change)
    revert_id = new_id()
    revision = await record_change(
        conn,
        trip_id,
        "revert",
        changes,
        base_revision=base_revision,
        actor=access.key,
        op_id=revert_id,
        reverts=op_id,
    )
    await store.mark_reverted(conn, trip_id, op_id, revert_id)
    written = await store.by_id(conn, trip_id, revert_id)
    assert written is not None
    return {"operation": item(written, {op_id: target}), "revision": revision}


async def _unowned_if_gone(
    conn: AsyncConnection, trip_id: str, kind: content.Kind, row: dict[str, Any]
) -> None:
    """A checklist item put back with an owner who has left the trip meanwhile gets no owner: an
    owner is always a member (as a create or edit checks)."""
    if kind is not content.ACTION_ITEM or not row.get("owner"):
        return
    member = await conn.execute(
        select(t.trip_members.c.user_id).where(
            t.trip_members.c.trip_id == trip_id, t.trip_members.c.user_id == row["owner"]
        )
    )
    if member.first() is None:
        row["owner"] = None


def _archives_or_unarchives(change: Row) -> bool:
    """Does undoing `change` move the trip into or out of `completed`? (Whatever operation made
    it: an archive, a PATCH of the status, a revert of either.)"""
    if change["kind"] != "trip" or "status" not in (change.get("before") or {}):
        return False
    return (change["before"]["status"] == "completed") != (
        (change.get("after") or {}).get("status") == "completed"
    )


async def _refuse_conflicts(conn: AsyncConnection, trip_id: str, target: Row, rows: list[Row]) -> None:
    """409 REVERT_CONFLICT unless every row still holds what the operation left in it."""
    conflicts: list[tuple[str, str, set[str] | None]] = []  # kind, id, fields (None: the whole row)
    for change in rows:
        now = await store.current_row(conn, TABLES[change["kind"]], trip_id, change["id"])
        if change["change"] == "deleted":
            if now is not None:
                conflicts.append((change["kind"], change["id"], None))
        elif now is None:
            conflicts.append((change["kind"], change["id"], None))
        else:
            differ = {c for c, value in change["after"].items() if c in now and now[c] != value}
            if differ:
                conflicts.append((change["kind"], change["id"], differ))
    if not conflicts:
        return
    later = await store.after(conn, trip_id, target["result_revision"])

    def touches(op: Row) -> bool:
        for change in op["row_changes"] or []:
            for kind, row_id, fields in conflicts:
                if change["kind"] != kind or change["id"] != row_id:
                    continue
                if fields is None or change["change"] != "updated" or fields & set(change["after"]):
                    return True
        return False

    touching = [op for op in later if touches(op)]
    named = [op for op in touching if not op["reverted_by"]] or touching
    reverted = await store.reverted_ones(conn, trip_id, [op["reverts"] for op in named if op["reverts"]])
    shown = [item(op, reverted) for op in named]
    message = (
        "Later changes touched the same fields; revert them first: "
        + "; ".join(op["summary"] for op in shown[:3])
        + (f"; and {len(shown) - 3} more" if len(shown) > 3 else "")
    )
    if not shown:
        message = "The rows this change touched have changed since"
    raise ApiError(
        409,
        "REVERT_CONFLICT",
        message,
        [{"path": op["op_id"], "reason": "changed_later"} for op in shown[:50]],
        extra={"conflicting_operations": shown[:50]},
    )


async def _invert(conn: AsyncConnection, trip: Row, change: Row) -> list[tuple[str, str]]:
    """Write the inverse of one row change; returns the itinerary events it changed."""
    trip_id, kind_name, row_id = trip["id"], change["kind"], change["id"]
    if kind_name == "trip":
        now = await store.current_row(conn, t.trips, trip_id, trip_id)
        assert now is not None
        await conn.execute(update(t.trips).where(t.trips.c.id == trip_id).values(**change["before"]))
        note_row(conn, "trip", now, {**now, **change["before"]})
        return []
    kind = content.KINDS[kind_name]
    if change["change"] == "created":
        return (await content.delete_row(conn, kind, trip, row_id)).changes
    if change["change"] == "deleted":
        row = {**change["before"], "trip_id": trip_id}
        if kind is content.COMMITMENT:  # its leg or pin may be gone meanwhile: no link to nothing
            for column, table in (("leg_id", t.legs), ("map_pin_id", t.map_pins)):
                if row.get(column) and await store.current_row(conn, table, trip_id, row[column]) is None:
                    row[column] = None
        await _unowned_if_gone(conn, trip_id, kind, row)
        try:
            async with conn.begin_nested():
                await conn.execute(insert(kind.table).values(**row))
        except IntegrityError:
            raise ApiError(
                409,
                "REVERT_CONFLICT",
                f"Another {kind.label.lower()} of this trip now has the "
                f"clientRef {row.get('client_ref')!r}: rename or remove it first",
            ) from None
        note_row(conn, kind_name, None, row)
        zones = await content.leg_timezones_of(conn, trip_id, row) if kind is content.COMMITMENT else None
        return events.event_changes([], content.row_events(kind, row, zones))
    now = await store.current_row(conn, kind.table, trip_id, row_id)
    assert now is not None  # checked by _refuse_conflicts
    before = dict(change["before"])
    await _unowned_if_gone(conn, trip_id, kind, before)
    restored = {**now, **before}
    await conn.execute(update(kind.table).where(kind.table.c.id == row_id).values(**before))
    note_row(conn, kind_name, now, restored)
    zones = (
        await content.leg_timezones_of(conn, trip_id, now, restored) if kind is content.COMMITMENT else None
    )
    found = events.event_changes(
        content.row_events(kind, now, zones), content.row_events(kind, restored, zones)
    )
    if kind is content.LEG and "timezone" in change["before"]:
        found += await content.zone_changes_of_linked(
            conn, trip_id, row_id, now["timezone"], restored["timezone"]
        )
    return found
