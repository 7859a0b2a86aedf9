"""The per-trip revision and operation log: every change of trip content goes through here,
inside the transaction that makes it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.server.clock import new_id, now_ms
from app.server.errors import ApiError
from app.server.storage import tables as t

if TYPE_CHECKING:
    from app.server.auth import ApiKey

LABEL_COLUMNS = ("title", "name", "text")
"""The column that names a row in a sentence: a leg's or commitment's title, a pin's name, an
action item's text (the trip's title for the trip)."""


def note_row(
    conn: AsyncConnection, kind: str, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> None:
    """Remember a row this transaction writes (None before: created; None after: deleted), for
    the operation that `record_change` logs next: enough to describe the change and to invert it.
    An update keeps only the columns that changed; a create or delete keeps the whole row."""
    entry: dict[str, Any]
    named: Mapping[str, Any]
    if before is not None and after is not None:
        changed = [c for c in after if c != "trip_id" and before.get(c) != after[c]]
        if not changed:
            return
        entry = {
            "change": "updated",
            "before": {c: before.get(c) for c in changed},
            "after": {c: after[c] for c in changed},
        }
        named = after
    elif after is not None:
        entry = {
            "change": "created",
            "before": None,
            "after": {c: v for c, v in after.items() if c != "trip_id"},
        }
        named = after
    elif before is not None:
        entry = {
            "change": "deleted",
            "before": {c: v for c, v in before.items() if c != "trip_id"},
            "after": None,
        }
        named = before
    else:
        return
    label = next((named[c] for c in LABEL_COLUMNS if named.get(c)), None)
    conn.info.setdefault("row_changes", []).append({"kind": kind, "id": named["id"], "label": label, **entry})


_lock_trip = select(t.trips.c.id).where(t.trips.c.id == bindparam("trip_id")).with_for_update(key_share=True)


async def lock_trip(conn: AsyncConnection, trip_id: str) -> None:
    """Serialise the writers of one trip until this transaction ends.

    SQLite runs one writer at a time already. PostgreSQL (READ COMMITTED) would let two
    transactions both find no row with a clientRef and both insert, or both see two owners and
    both demote one; and a message could take seq 10, commit after seq 11 and be skipped by a
    changes feed that has moved past 11. Taking the trip row lock first makes each trip's writes
    run in turn, in the order of their seq and revision numbers. Taken once per transaction.
    """
    if conn.dialect.name == "sqlite":
        return
    locked = conn.info.setdefault("locked_trips", set())
    if trip_id in locked:
        return
    await conn.execute(_lock_trip, {"trip_id": trip_id})
    locked.add(trip_id)


def mark_touched(conn: AsyncConnection, trip_id: str) -> None:
    """Remember that this transaction changed something a live client of the trip should see."""
    conn.info.setdefault("touched_trips", set()).add(trip_id)


def stale_revision(current: int | None, base_revision: int) -> ApiError:
    """409 STALE_REVISION in our envelope, plus the ops reference's top-level fields."""
    return ApiError(
        409,
        "STALE_REVISION",
        f"Revision conflict: the trip is at revision {current}, not {base_revision}",
        extra={"code": "STALE_REVISION", "current_revision": current, "base_revision": base_revision},
    )


async def lock_at_revision(conn: AsyncConnection, trip_id: str, base_revision: int) -> dict:
    """The first step of a compare-and-set write: lock the trip row (PostgreSQL; SQLite write
    transactions are exclusive already) and fail with STALE_REVISION before anything is written
    unless the trip is still at `base_revision`. Returns the trip row."""
    row = (
        (await conn.execute(select(t.trips).where(t.trips.c.id == trip_id).with_for_update()))
        .mappings()
        .first()
    )
    if row is None:
        raise ApiError(404, "NOT_FOUND", "Trip not found")
    if row["revision"] != base_revision:
        raise stale_revision(row["revision"], base_revision)
    return dict(row)


async def record_change(
    conn: AsyncConnection,
    trip_id: str,
    operation_type: str,
    changes: Iterable[tuple[str, str]] = (),
    *,
    base_revision: int | None = None,
    op_id: str | None = None,
    actor: ApiKey | None = None,
    reverts: str | None = None,
) -> int:
    """Bump the trip's revision and log the operation; returns the new revision.

    With `base_revision`, this is a compare-and-set: a trip no longer at that revision raises
    409 STALE_REVISION and nothing is written. The operation keeps who made it (`actor`) and the
    rows noted with `note_row` since the last operation of this transaction.
    """
    condition = [t.trips.c.id == trip_id]
    if base_revision is not None:
        condition.append(t.trips.c.revision == base_revision)
    result = await conn.execute(
        update(t.trips)
        .where(*condition)
        .values(revision=t.trips.c.revision + 1)
        .returning(t.trips.c.revision)
    )
    revision = result.scalar()
    if revision is None:
        if base_revision is None:
            raise ApiError(404, "NOT_FOUND", "Trip not found")
        current = (await conn.execute(select(t.trips.c.revision).where(t.trips.c.id == trip_id))).scalar()
        raise stale_revision(current, base_revision)
    changes = list(changes)
    await conn.execute(
        insert(t.operations).values(
            trip_id=trip_id,
            result_revision=revision,
            op_id=op_id or new_id(),
            operation_type=operation_type,
            affected_event_ids=[event_id for event_id, _ in changes],
            event_changes=[{"event_id": e, "change": c} for e, c in changes],
            created_at=now_ms(),
            actor_id=actor.user_id if actor else None,
            actor_key_name=actor.key_name if actor else None,
            row_changes=conn.info.pop("row_changes", None) or [],
            reverts=reverts,
        )
    )
    mark_touched(conn, trip_id)
    return revision
