"""Live updates from a service without the changes feed (the seed's API alone): poll its plain
endpoints inside its rate limit, and say how fresh the view is.

One request per tick, in turns: the open channel's newest messages every other tick, and in the
ticks between, the trip (whose revision says whether any list changed) and the other channels'
newest message (for their unread counts). At the default 15 requests a minute, a quarter of the
seed's 60, the open channel is read every 8 s and the trip every 16 s; the rest of the limit is
left for the user's own writes and the reloads a change causes. The `X-RateLimit-*` headers slow
it down further when the key's budget runs low (another client with the same key, a burst of
writes), and a 429 waits as long as `Retry-After` says.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from app.client import RateLimitStatus, TripClient, TripError
from app.domain.itinerary import Changes, Operation
from app.domain.models import Message
from app.tui.live import Backoff, _call

PER_MINUTE = 15
"""Requests a minute of an idle view, when the service allows 60 or more."""
SHARE_OF_LIMIT = 0.25
"""Of a smaller limit, the share polling may use."""
OPEN_CHANNEL_PAGE = 20
OTHER_CHANNEL_PAGE = 5
MORE_PAGES = 4
"""Pages read further back when every message of a page is new (a busy channel between polls)."""

REVISION_MOVED = "revision_moved"
"""The operation type of a change seen by polling: which rows changed is unknown, so every list
is stale (`app.tui.live.kinds_changed` reads an unknown type that way)."""


def tick_seconds(rate: RateLimitStatus | None, per_minute: float = PER_MINUTE) -> float:
    """Seconds between two polls: `per_minute` requests a minute, fewer on a smaller limit, and
    slower still while the key has used up more than half (then three quarters) of its window."""
    budget = per_minute
    if rate is not None and rate.limit:
        budget = min(budget, max(rate.limit * SHARE_OF_LIMIT, 1.0))
    tick = 60.0 / budget
    if rate is not None and rate.limit and rate.remaining is not None:
        left = rate.remaining / rate.limit
        if left < 0.25:
            tick *= 4
        elif left < 0.5:
            tick *= 2
    return tick


def freshness(seconds: float | None) -> str:
    """'updated just now', 'updated 10 s ago', 'updated 3 min ago' (in steps of 5 s, so the header
    changes at most every 5 s)."""
    if seconds is None:
        return "not updated yet"
    if seconds < 5:
        return "updated just now"
    if seconds < 60:
        return f"updated {int(seconds // 5 * 5)} s ago"
    return f"updated {int(seconds // 60)} min ago"


@dataclass
class Poller:
    """Polls one trip until cancelled; reports like `app.tui.live.Follower`: `on_changes` with a
    `Changes` (new messages, oldest first, and, when the trip's revision moved, one operation of
    type REVISION_MOVED)."""

    client: TripClient
    trip_id: str
    revision: int
    channels: Callable[[], list[str]]
    """The ids of the trip's channels, as the chat knows them."""
    open_channel: Callable[[], str | None]
    on_changes: Callable[[Changes], Awaitable[None] | None]
    on_offline: Callable[[int, float, TripError], Awaitable[None] | None]
    on_online: Callable[[], Awaitable[None] | None]
    per_minute: float = PER_MINUTE
    backoff: Backoff = field(default_factory=Backoff)
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    clock: Callable[[], float] = time.monotonic
    seen: dict[str, set[str]] = field(default_factory=dict)
    """Per channel, the ids of the messages already seen (a channel not here yet: its first
    poll only sets what counts as seen)."""
    requests: int = 0
    checked: dict[str, float] = field(default_factory=dict)
    """When each part of the view was last read: "chat" (the open channel), "trip"."""
    _turn: int = 0
    _other: int = 0

    def know(self, channel_id: str, messages: list[Message]) -> None:
        """Messages the view already has (a loaded history): not news."""
        self.seen.setdefault(channel_id, set()).update(message.id for message in messages)

    @property
    def updated_at(self) -> float | None:
        """The clock time of the least recently read part of the view (None: not all read yet)."""
        if "chat" not in self.checked and self.open_channel() is not None:
            return None
        return min(self.checked.values()) if self.checked else None

    def next_request(self) -> tuple[str, str | None]:
        """("chat", channel) or ("trip", None) or ("head", channel): what this tick reads."""
        self._turn += 1
        channel = self.open_channel()
        if self._turn % 2 == 1 and channel is not None:
            return "chat", channel
        others = [c for c in self.channels() if c != channel]
        # Between the open channel's turns: the trip and the other channels take turns.
        if not others or (self._turn // 2) % 2 == 1:
            return "trip", None
        self._other = (self._other + 1) % len(others)
        return "head", others[self._other]

    async def run(self) -> None:
        delay = 0.0
        while True:
            await self.sleep(delay)
            delay = tick_seconds(self.client.rate_limit, self.per_minute)
            what, channel = self.next_request()
            try:
                self.requests += 1
                changes = await (
                    self._poll_trip() if what == "trip" else self._poll_channel(channel, what == "chat")
                )
            except TripError as error:
                delay = max(self.backoff.next_delay(), float(getattr(error, "retry_after", None) or 0), delay)
                if getattr(error, "status", None) != 429:
                    await _call(self.on_offline, self.backoff.failures, delay, error)
                continue
            if self.backoff.failures:
                self.backoff.reset()
                await _call(self.on_online)  # which reloads everything
            if what != "head":  # the other channels only count unread messages
                self.checked[what] = self.clock()
            if changes is not None and (changes.messages or changes.operations):
                await _call(self.on_changes, changes)

    async def _poll_trip(self) -> Changes | None:
        trip = await self.client.get_trip(self.trip_id)
        if trip.revision == self.revision:
            return None
        self.revision = trip.revision
        moved = Operation(
            op_id="", operation_type=REVISION_MOVED, result_revision=trip.revision, affected_event_ids=[]
        )
        return Changes(cursor="", revision=trip.revision, operations=[moved])

    async def _poll_channel(self, channel_id: str | None, open_channel: bool) -> Changes | None:
        assert channel_id is not None
        limit = OPEN_CHANNEL_PAGE if open_channel else OTHER_CHANNEL_PAGE
        page = await self.client.list_messages(self.trip_id, channel_id, limit=limit)
        seen = self.seen.get(channel_id)
        if seen is None:
            self.seen[channel_id] = {message.id for message in page.items}
            return None
        new = [message for message in page.items if message.id not in seen]
        cursor = page.next_cursor if page.items and len(new) == len(page.items) else None
        pages = 0
        while cursor and pages < MORE_PAGES:
            pages += 1
            page = await self.client.list_messages(self.trip_id, channel_id, limit=limit, cursor=cursor)
            more = [message for message in page.items if message.id not in seen]
            new += more
            cursor = page.next_cursor if len(more) == len(page.items) else None
        if not new:
            return None
        seen.update(message.id for message in new)
        return Changes(cursor="", revision=self.revision, messages=list(reversed(new)))
