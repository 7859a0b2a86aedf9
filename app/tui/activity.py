"""A trip's activity feed as the TUI holds it, without widgets: the changes loaded so far (newest
first), paging further back, taking in what the live feed brings, and undoing a change (a revert
checked against the trip's revision, once more on a stale one). The activity screen shows it;
the trip screen's `u` uses `undo_my_last`."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.client import StaleRevisionError, TripClient
from app.domain.activity import Activity, RevertResult
from app.tui.clock import Clock

PAGE = 50
"""Changes fetched per request: a few screenfuls of the feed."""
UNDO_LOOKS_BACK = 200
"""How far back `u` looks for a change of yours that is not undone yet."""


@dataclass
class ActivityFeed:
    client: TripClient | None
    """None for fixed data (screenshots, snapshots): nothing is fetched or written."""
    trip_id: str
    items: list[Activity] = field(default_factory=list)
    next_cursor: str | None = None

    async def load(self) -> None:
        assert self.client is not None
        page = await self.client.list_operations(self.trip_id, limit=PAGE)
        self.items, self.next_cursor = list(page.items), page.next_cursor

    async def load_more(self) -> int:
        """One more page further back; returns how many changes it added."""
        if self.client is None or self.next_cursor is None:
            return 0
        page = await self.client.list_operations(self.trip_id, limit=PAGE, cursor=self.next_cursor)
        known = {item.op_id for item in self.items}
        added = [item for item in page.items if item.op_id not in known]
        self.items += added
        self.next_cursor = page.next_cursor
        return len(added)

    async def refresh(self) -> None:
        """The newest page again: new changes go on top, the ones shown get their new state
        (a change reverted meanwhile is marked so); older pages stay as loaded."""
        assert self.client is not None
        page = await self.client.list_operations(self.trip_id, limit=PAGE)
        fresh = {item.op_id: item for item in page.items}
        kept = [fresh.pop(item.op_id, item) for item in self.items]
        newest = [item for item in page.items if item.op_id in fresh]
        if not self.items:
            self.next_cursor = page.next_cursor
        self.items = newest + kept

    async def revert(self, op_id: str) -> RevertResult:
        """Undo one change at the trip's current revision (read just before; a change by someone
        else in between makes it read again, once). Raises `RevertConflictError` when a later
        change touched the same fields."""
        assert self.client is not None
        for attempt in (1, 2):
            revision = (await self.client.get_trip(self.trip_id)).revision
            try:
                return await self.client.revert_operation(self.trip_id, op_id, base_revision=revision)
            except StaleRevisionError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def my_last_change(self, user_id: str) -> Activity | None:
        """Your newest change that is not undone yet and is not itself an undo."""
        assert self.client is not None
        looked = 0
        async for item in self.client.iterate_operations(self.trip_id, page_size=PAGE):
            looked += 1
            if item.actor.user_id == user_id and item.reverted_by is None and item.reverts is None:
                return item
            if looked >= UNDO_LOOKS_BACK:
                return None
        return None


async def undo_my_last(client: TripClient, trip_id: str, user_id: str) -> str:
    """`u` on the trip screen: undo your newest change; returns the notice that says what was
    undone and how to redo it (or why nothing was)."""
    feed = ActivityFeed(client, trip_id)
    change = await feed.my_last_change(user_id)
    if change is None:
        return "Nothing of yours to undo."
    await feed.revert(change.op_id)
    return f"Undone: {without_actor(change)}. To redo it, open the activity (a) and revert the undo (r)."


def without_actor(item: Activity) -> str:
    """The sentence without its leading name: “moved “Flamenco class” from 15:30 to 17:30”."""
    name = item.actor.name
    if name and item.summary.startswith(name + " "):
        return item.summary[len(name) + 1 :]
    return item.summary


def when(item: Activity, clock: Clock) -> str:
    """`14:05` today, `Jul 14 14:05` on another day (in the viewer's zone)."""
    at = clock.from_ms(item.created_at)
    if at.date() == clock.today():
        return at.strftime("%H:%M")
    return f"{at:%b} {at.day} {at:%H:%M}"


def shown_value(value: object) -> str:
    """A field's value in one line: text as it is, lists and objects as compact JSON-like text."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, dict)):
        import json

        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return str(value)
