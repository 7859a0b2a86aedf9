"""The live changes feed: a long poll on `changes(since=cursor, wait=25)`, which keeps an idle
TUI at about 2.4 requests a minute, and a backoff that retries a lost connection on its own."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from app.client import SharedTripClient, TripClient, TripError
from app.domain.itinerary import Changes
from app.tui.kinds import KINDS

WAIT = 25
"""Seconds the server may hold a poll open; the longer, the fewer requests an idle TUI makes."""
MIN_INTERVAL = 10.0
"""An empty answer that came back sooner than this waits out the rest: at most 6 polls a minute."""

KIND_OF_OPERATION: dict[str, set[str]] = {
    **{kind.server_name: {kind.name, *kind.also_stale} for kind in KINDS.values()},
    "event": {"commitments", "legs"},
    "reorder": {"legs"},
}
"""The lists an operation makes stale, by a part of its type (`create_map_pin` names `map_pin`)."""
EVERYTHING = set(KINDS)


def kinds_changed(operation_types: list[str]) -> set[str]:
    """Which lists an operation log entry makes stale; unknown operations make all of them stale.

    The trip itself and the itinerary summary are re-read for every operation."""
    kinds: set[str] = set()
    for operation in operation_types:
        matched = [kinds for name, kinds in KIND_OF_OPERATION.items() if name in operation]
        if operation.endswith("_trip"):
            continue
        if not matched:
            return set(EVERYTHING)
        for found in matched:
            kinds |= found
    return kinds


@dataclass
class Backoff:
    """Exponential backoff with full jitter: 1, 2, 4 ... 30 s, each a random part of that."""

    initial: float = 1.0
    maximum: float = 30.0
    failures: int = 0
    uniform: Callable[[float, float], float] = field(default=random.uniform)

    def next_delay(self) -> float:
        self.failures += 1
        ceiling = min(self.maximum, self.initial * 2 ** (self.failures - 1))
        return max(self.uniform(ceiling / 2, ceiling), 0.05)

    def reset(self) -> None:
        self.failures = 0


@dataclass
class Follower:
    """Follows one trip's changes until cancelled; reports through the three callbacks."""

    client: TripClient
    trip_id: str
    on_changes: Callable[[Changes], Awaitable[None] | None]
    on_offline: Callable[[int, float, TripError], Awaitable[None] | None]
    on_online: Callable[[], Awaitable[None] | None]
    wait: int = WAIT
    min_interval: float = MIN_INTERVAL
    backoff: Backoff = field(default_factory=Backoff)
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    cursor: str | None = None
    requests: int = 0

    async def run(self) -> None:
        while True:
            started = time.monotonic()
            try:
                self.requests += 1
                changes = await self.client.changes(
                    self.trip_id, since=self.cursor, wait=self.wait if self.cursor else 0
                )
            except TripError as error:
                delay = self.backoff.next_delay()
                retry_after = getattr(error, "retry_after", None)
                delay = max(delay, float(retry_after or 0))
                # A 429 is only "slow down"; anything else means the view is going stale.
                if getattr(error, "status", None) != 429:
                    await _call(self.on_offline, self.backoff.failures, delay, error)
                await self.sleep(delay)
                continue
            if self.backoff.failures:
                self.backoff.reset()
                await _call(self.on_online)
            first = self.cursor is None
            self.cursor = changes.cursor
            if first:
                continue
            if changes.operations or changes.messages:
                await _call(self.on_changes, changes)
            else:
                elapsed = time.monotonic() - started
                if elapsed < self.min_interval:
                    await self.sleep(self.min_interval - elapsed)


SHARED_INTERVAL = 20.0
"""Seconds between two looks at a shared trip: a share link has no changes feed, so a read-only
view asks for the trip (a small answer) three times a minute and reloads when its revision moved."""


@dataclass
class SharedWatcher:
    """Follows a trip seen through a share link until cancelled, with the same callbacks'
    meaning as `Follower`: `on_changed(revision)` when the trip's revision moved."""

    shared: SharedTripClient
    revision: int
    on_changed: Callable[[int], Awaitable[None] | None]
    on_offline: Callable[[int, float, TripError], Awaitable[None] | None]
    on_online: Callable[[], Awaitable[None] | None]
    interval: float = SHARED_INTERVAL
    backoff: Backoff = field(default_factory=Backoff)
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    requests: int = 0

    async def run(self) -> None:
        delay = self.interval
        while True:
            await self.sleep(delay)
            delay = self.interval
            try:
                self.requests += 1
                trip = await self.shared.get_trip()
            except TripError as error:
                delay = max(self.backoff.next_delay(), float(getattr(error, "retry_after", None) or 0))
                if getattr(error, "status", None) != 429:
                    await _call(self.on_offline, self.backoff.failures, delay, error)
                if getattr(error, "status", None) == 404:
                    # Revoked: asking again changes nothing, and the service counts each 404 as a
                    # failed attempt of this address (under trip ssh, every member's address).
                    return
                continue
            if self.backoff.failures:
                self.backoff.reset()
                self.revision = trip.revision
                await _call(self.on_online)  # which reloads everything
            elif trip.revision != self.revision:
                self.revision = trip.revision
                await _call(self.on_changed, trip.revision)


async def _call(callback: Callable, *args) -> None:
    result = callback(*args)
    if asyncio.iscoroutine(result):
        await result
