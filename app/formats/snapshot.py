"""The JSON file `trip import` reads, and how it goes to the sync endpoint: in chunks of at most
500 items per category (the endpoint's limit) and well under its 1 MiB body limit, with each
item's result mapped back to its place in the file.

The file is `{"legs": [...], "actionItems": [...], "mapPins": [...]}` (each key optional), the
sync endpoint's own body. A `trip export --format json` file works too: its stored-only fields
(`_id`, `_creationTime`, `tripId`) are dropped from each item, and the parts sync does not take
(trip, commitments, members) are reported as skipped.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.domain import SyncResult
from app.domain.bulk import SYNC_MAX

# Wire name of each category, and the name SyncResult gives it.
CATEGORIES = {"legs": "legs", "actionItems": "action_items", "mapPins": "map_pins"}
EXPORT_ONLY = ("trip", "commitments", "members")
STORED_ONLY = ("_id", "_creationTime", "tripId")
BODY_BUDGET = 900_000  # bytes per request: the service refuses bodies over 1 MiB


class SnapshotError(ValueError):
    """The file is not a snapshot this command can import; the message says why."""


@dataclass
class Snapshot:
    items: dict[str, list[Any]]  # wire category name -> items, in file order
    skipped: list[str] = field(default_factory=list)  # top-level parts sync does not take

    @property
    def total(self) -> int:
        return sum(len(items) for items in self.items.values())


def parse_snapshot(data: Any) -> Snapshot:
    if not isinstance(data, dict):
        raise SnapshotError("the file must hold a JSON object with legs, actionItems and/or mapPins")
    unknown = sorted(set(data) - set(CATEGORIES) - set(EXPORT_ONLY))
    if unknown:
        raise SnapshotError(
            f"unknown top-level keys: {', '.join(map(repr, unknown))} (expected {', '.join(CATEGORIES)})"
        )
    items: dict[str, list[Any]] = {}
    for name in CATEGORIES:
        if name not in data or data[name] is None:
            continue
        if not isinstance(data[name], list):
            raise SnapshotError(f"{name} must be a list")
        for index, item in enumerate(data[name]):
            if not isinstance(item, dict):
                raise SnapshotError(f"{name}[{index}] must be a JSON object, not {_json_type(item)}")
        items[name] = [_without_stored_fields(item) for item in data[name]]
    skipped = [name for name in EXPORT_ONLY if data.get(name)]
    if not items:
        raise SnapshotError("nothing to import: the file has no legs, actionItems or mapPins")
    return Snapshot(items, skipped)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list"}.get(
        type(value), type(value).__name__
    )


def _without_stored_fields(item: Any) -> Any:
    if isinstance(item, dict):
        return {key: value for key, value in item.items() if key not in STORED_ONLY}
    return item


@dataclass
class Chunk:
    """One sync request: for each category, the items and where they start in the file."""

    items: dict[str, list[Any]]
    offsets: dict[str, int]

    @property
    def size(self) -> int:
        return sum(len(items) for items in self.items.values())


def plan_chunks(
    snapshot: Snapshot, *, max_items: int = SYNC_MAX, max_bytes: int = BODY_BUDGET
) -> list[Chunk]:
    """Chunks in file order, each with at most `max_items` per category and about `max_bytes`
    of JSON (an item bigger than that goes alone, for the service to judge)."""
    chunks: list[Chunk] = []
    current = Chunk({}, {})
    size = 2
    for name, items in snapshot.items.items():
        for index, item in enumerate(items):
            item_bytes = len(json.dumps(item, ensure_ascii=False).encode()) + 1
            opening = 0 if name in current.items else len(name) + 5
            full = len(current.items.get(name, ())) >= max_items or size + opening + item_bytes > max_bytes
            if current.size and full:
                chunks.append(current)
                current, size, opening = Chunk({}, {}), 2, len(name) + 5
            if name not in current.items:
                current.items[name] = []
                current.offsets[name] = index
            current.items[name].append(item)
            size += opening + item_bytes
    if current.size:
        chunks.append(current)
    return chunks


@dataclass
class ItemOutcome:
    category: str  # wire name
    index: int  # position in the file's list
    status: str  # created | updated | error
    id: str | None
    client_ref: str | None
    error: dict[str, Any] | None


@dataclass
class Outcome:
    """The results of every chunk, as if the file had gone in one request."""

    dry_run: bool
    items: list[ItemOutcome] = field(default_factory=list)

    def count(self, category: str, status: str) -> int:
        return sum(1 for item in self.items if item.category == category and item.status == status)

    @property
    def errors(self) -> list[ItemOutcome]:
        return [item for item in self.items if item.status == "error"]

    @property
    def changes(self) -> int:
        return sum(1 for item in self.items if item.status in ("created", "updated"))

    def add(self, chunk: Chunk, result: SyncResult) -> None:
        for name, attribute in CATEGORIES.items():
            for item in getattr(result, attribute).items:
                error = (
                    item.error.model_dump(mode="json", by_alias=True, exclude_none=True)
                    if item.error
                    else None
                )
                self.items.append(
                    ItemOutcome(
                        category=name,
                        index=chunk.offsets.get(name, 0) + item.index,
                        status=item.status,
                        id=item.id,
                        client_ref=item.client_ref,
                        error=error,
                    )
                )


Send = Callable[[Mapping[str, list[Any]], bool], Awaitable[SyncResult]]


async def sync_in_chunks(
    send: Send, chunks: list[Chunk], *, dry_run: bool, progress: Callable[[int], None] | None = None
) -> Outcome:
    """Send the chunks in order with `send(items_by_category, dry_run)` (the SDK's sync call);
    `progress(n)` after each chunk with the number of items it carried."""
    outcome = Outcome(dry_run=dry_run)
    for chunk in chunks:
        outcome.add(chunk, await send(chunk.items, dry_run))
        if progress is not None:
            progress(chunk.size)
    return outcome


def repeated_client_refs(snapshot: Snapshot) -> dict[str, list[str]]:
    """clientRefs that appear more than once in one category. Across chunks, a dry run counts
    each as created while the real run updates the second time: worth a warning."""
    repeated: dict[str, list[str]] = {}
    for name, items in snapshot.items.items():
        seen: set[str] = set()
        twice = []
        for item in items:
            ref = item.get("clientRef") if isinstance(item, dict) else None
            if isinstance(ref, str):
                if ref in seen and ref not in twice:
                    twice.append(ref)
                seen.add(ref)
        if twice:
            repeated[name] = twice
    return repeated
