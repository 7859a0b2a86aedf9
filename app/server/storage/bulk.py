"""Many clientRef upserts of one kind in one transaction: the engine of the batch and sync endpoints.

Validate-then-write: every item is parsed, merged and checked in memory against the trip as it
stands plus the items before it (so a clientRef repeated within one request merges into the row
the earlier item made), and only then are the surviving rows written, with one query to find the
existing clientRefs and executemany inserts and updates. An invalid item therefore fails alone,
and a dry run (the same computation without the writes) predicts the real run exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain import events
from app.domain import models as m
from app.server.clock import new_id, now_ms
from app.server.errors import ApiError, validation_error
from app.server.storage import content
from app.server.storage import tables as t
from app.server.storage.revisions import note_row

Row = dict[str, Any]
IN_CHUNK = 500  # clientRefs per IN (...) lookup: well under every driver's parameter limit


@dataclass
class ItemResult:
    index: int
    status: str  # created | updated | error
    id: str | None = None
    client_ref: str | None = None
    error: dict[str, Any] | None = None

    def wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "status": self.status}
        if self.id is not None:
            out["_id"] = self.id
        if self.client_ref is not None:
            out["clientRef"] = self.client_ref
        if self.error is not None:
            out["error"] = self.error
        return out


@dataclass
class BulkOutcome:
    results: list[ItemResult]
    changes: list[tuple[str, str]] = field(default_factory=list)
    written: int = 0

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)


def item_error(error: ApiError) -> dict[str, Any]:
    return {"code": error.code, "message": error.message, "details": error.details or []}


DETAILS_PER_CALL = 200
"""Failing fields that one batch, or one category of a sync, names in `details` in all: 500
items with 50 bad fields each made a 3.5 MB answer (kept a day for Idempotency-Key replays)."""


def cap_details(results: list[ItemResult]) -> None:
    """Keep the first DETAILS_PER_CALL details of the call; later failing items keep their code
    and a short message saying their fields were left out (send the item alone to see them)."""
    left = DETAILS_PER_CALL
    for result in results:
        error = result.error
        if not error or not error["details"]:
            continue
        if len(error["details"]) > left:
            message = error["message"] if left else "Invalid"
            result.error = {
                **error,
                "details": error["details"][:left],
                "message": f"{message} (fields left out: an answer names {DETAILS_PER_CALL} at most)",
            }
        left = max(0, left - len(error["details"]))


def _raw_client_ref(raw: Any) -> str | None:
    ref = raw.get("clientRef") if isinstance(raw, dict) else None
    return ref if isinstance(ref, str) else None


async def lock_trip(conn: AsyncConnection, trip_id: str) -> Row | None:
    """Re-read the trip row, locked on PostgreSQL so concurrent bulk writers of one trip queue
    instead of racing on clientRefs (SQLite's write transactions are serialised already)."""
    query = select(t.trips).where(t.trips.c.id == trip_id)
    if conn.dialect.name == "postgresql":
        # The same lock as revisions.lock_trip (which then skips its own statement per item).
        query = query.with_for_update(key_share=True)
    row = (await conn.execute(query)).mappings().first()
    if row and conn.dialect.name == "postgresql":
        conn.info.setdefault("locked_trips", set()).add(trip_id)
    return dict(row) if row else None


async def member_ids(conn: AsyncConnection, trip_id: str) -> set[str]:
    query = select(t.trip_members.c.user_id).where(t.trip_members.c.trip_id == trip_id)
    return set((await conn.execute(query)).scalars().all())


async def _existing(
    conn: AsyncConnection, kind: content.Kind, trip_id: str, refs: list[str]
) -> dict[str, Row]:
    found: dict[str, Row] = {}
    table = kind.table
    for start in range(0, len(refs), IN_CHUNK):
        chunk = refs[start : start + IN_CHUNK]
        rows = await conn.execute(
            select(table).where(table.c.trip_id == trip_id, table.c.client_ref.in_(chunk))
        )
        for row in rows.mappings():
            found[row["client_ref"]] = dict(row)
    return found


BulkItem = m.LegCreate | m.ActionItemCreate | m.MapPinCreate
"""What a batch or sync item is parsed into (the kinds that have a clientRef)."""


async def upsert_many(
    conn: AsyncConnection,
    kind: content.Kind,
    trip: dict[str, Any],
    items: list[Any],
    *,
    dry_run: bool,
    members: set[str],
) -> BulkOutcome:
    """Create or diff-merge (by clientRef) every item that is valid; report each item alone."""
    results: list[ItemResult | None] = [None] * len(items)
    parsed: list[tuple[int, BulkItem]] = []
    for index, raw in enumerate(items):
        try:
            parsed.append((index, cast(BulkItem, content.parse(kind, raw))))
        except ApiError as error:
            results[index] = ItemResult(
                index, "error", client_ref=_raw_client_ref(raw), error=item_error(error)
            )

    refs = sorted({data.client_ref for _, data in parsed if data.client_ref})
    stored = await _existing(conn, kind, trip["id"], refs) if refs else {}
    current: dict[str, Row] = dict(stored)  # clientRef -> the row as the items so far left it
    before: dict[str, Row | None] = {}  # row id -> the row as stored before this call (None: new)
    after: dict[str, Row] = {}  # row id -> the row as this call leaves it
    defaults = content.DEFAULTS[kind.name]
    now = now_ms()

    for index, data in parsed:
        ref = data.client_ref
        base = current.get(ref) if ref else None
        try:
            if base is None:
                changes, details = content.merge(kind, defaults, data)
                row = {**defaults, **changes, "id": new_id(), "trip_id": trip["id"], "created_at": now}
            else:
                changes, details = content.merge(kind, base, data)
                row = {**base, **changes}
            await content.check_row(
                conn, kind, trip, row, details, member_ids=members, stay_path=content.stay_path(data)
            )
            if (
                kind is content.LEG
                and base is not None
                and base["timezone"] != row["timezone"]
                and not details
            ):
                await content.check_linked_times(conn, trip["id"], row["id"], row["timezone"])
            if details:
                raise validation_error(details)
        except ApiError as error:
            results[index] = ItemResult(index, "error", client_ref=ref, error=item_error(error))
            continue
        if base is None:
            before[row["id"]] = None
        else:
            before.setdefault(row["id"], stored.get(ref) if ref else None)  # a base has a ref
        after[row["id"]] = row
        if ref:
            current[ref] = row
        status = "created" if base is None else "updated"
        shown_id = None if dry_run and before[row["id"]] is None else row["id"]
        results[index] = ItemResult(index, status, id=shown_id, client_ref=ref)

    outcome = BulkOutcome([r for r in results if r is not None])
    cap_details(outcome.results)
    inserts: list[Row] = []
    updates: dict[tuple[str, ...], list[Row]] = {}
    for row_id, row in after.items():
        old = before[row_id]
        if old is None:
            inserts.append(row)
        else:
            changed = {k: v for k, v in row.items() if old.get(k) != v}
            if not changed:
                continue
            updates.setdefault(tuple(sorted(changed)), []).append(
                {"row_id": row_id, **{f"new_{k}": v for k, v in changed.items()}}
            )
        outcome.changes += events.event_changes(content.row_events(kind, old), content.row_events(kind, row))
        if kind is content.LEG and old is not None and old["timezone"] != row["timezone"]:
            outcome.changes += await content.zone_changes_of_linked(
                conn, trip["id"], row_id, old["timezone"], row["timezone"]
            )
    outcome.written = len(inserts) + sum(len(rows) for rows in updates.values())
    if dry_run:
        return outcome
    for row_id, row in after.items():
        note_row(conn, kind.name, before[row_id], row)
    table = kind.table
    if inserts:
        await conn.execute(insert(table), inserts)
    for columns, rows in updates.items():
        statement = (
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values({column: bindparam(f"new_{column}") for column in columns})
        )
        await conn.execute(statement, rows)
    return outcome
