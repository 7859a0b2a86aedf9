"""Wakeups for the live changes feed: long polls wait on a per-trip signal instead of the database.

- In the same process, `Database.commit_hooks` call `ChangeHub.notify` right after a write
  commits, so a waiting request wakes within milliseconds.
- Across processes that share the database, a waker tells the hub. The default `PollingWaker`
  runs one cheap query every half second for all trips that have waiters (their revision and
  newest message), however many clients wait. Another waker (PostgreSQL LISTEN/NOTIFY, say) can
  replace it: anything with `start(hub)` and `async close()`.
- The same waker tells the server's key, member and `GET /me` caches (`auth.KeyCache`,
  `auth.MemberCache`, `auth.MeCache`) when a key, a trip membership or a user's groups were
  changed in any process, so a revoked key or a removed member stops working everywhere within
  its delay; it is started with the app for that, not at the first long poll.

A signal is a future shared by every waiter of the trip; `notify` resolves it (with the trip's
new `(revision, message seq)` when known) and the next waiter gets a fresh one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from app.server.storage import itinerary as store
from app.server.storage.accounts import key_changes
from app.server.storage.database import Database

log = logging.getLogger(__name__)

State = tuple[int, int]  # (revision, newest message seq)


class Waker(Protocol):
    def start(self, hub: ChangeHub) -> None: ...

    async def close(self) -> None: ...


class KeyListener(Protocol):
    """What a waker tells about keys (`auth.KeyCache`): whether changed keys are heard right now,
    and that one was deleted or changed."""

    def listening(self, heard: bool) -> None: ...

    def forget(self) -> None: ...


class Watch:
    """One waiting request's view of its trip's signal."""

    def __init__(self, hub: ChangeHub, trip_id: str) -> None:
        self.hub = hub
        self.trip_id = trip_id

    def signal(self) -> asyncio.Future:
        """Take this before reading the database: a change that commits after the read resolves it."""
        return self.hub._signal(self.trip_id)

    async def read_once(self, key: Hashable, read: Callable[[], Awaitable[Any]]) -> Any:
        """Run `read()`, or join an identical read of another waiter of this trip that started
        after the last notify of any trip (so it cannot miss what this waiter was woken for)."""
        hub = self.hub
        full_key = (self.trip_id, hub._epoch, key)
        shared = hub._reads.get(full_key)
        if shared is None:
            shared = asyncio.ensure_future(read())
            hub._reads[full_key] = shared
            shared.add_done_callback(lambda _: hub._reads.pop(full_key, None))
        return await asyncio.shield(shared)


class ChangeHub:
    def __init__(self, waker: Waker | None = None) -> None:
        self.waker = waker
        self._signals: dict[str, asyncio.Future] = {}
        self._epoch = 0
        """Counts notifications, so a read is shared only by waiters that no notify separates."""
        self._reads: dict[tuple, asyncio.Future] = {}
        self._watchers: dict[str, int] = {}
        self.seen: dict[str, State] = {}
        """The last state a waker reported for each watched trip (the waker's own bookkeeping)."""
        self._started = False

    # --- waiting --------------------------------------------------------------------------

    @contextmanager
    def watch(self, trip_id: str) -> Iterator[Watch]:
        """Count a waiting request for `trip_id` for as long as the block runs (a request that is
        cancelled or whose client went away leaves through `finally`, so nothing leaks)."""
        self.start()
        self._watchers[trip_id] = self._watchers.get(trip_id, 0) + 1
        try:
            yield Watch(self, trip_id)
        finally:
            left = self._watchers[trip_id] - 1
            if left:
                self._watchers[trip_id] = left
            else:
                del self._watchers[trip_id]
                self._signals.pop(trip_id, None)
                self.seen.pop(trip_id, None)

    def start(self) -> None:
        """Start the waker (once; the first waiting request does it if the app did not)."""
        if not self._started and self.waker is not None:
            self._started = True
            self.waker.start(self)

    def watched(self) -> list[str]:
        return list(self._watchers)

    @property
    def waiting(self) -> int:
        return sum(self._watchers.values())

    def _signal(self, trip_id: str) -> asyncio.Future:
        signal = self._signals.get(trip_id)
        if signal is None or signal.done():
            signal = asyncio.get_running_loop().create_future()
            self._signals[trip_id] = signal
        return signal

    # --- waking ---------------------------------------------------------------------------

    def notify(self, trip_ids: Iterable[str], state: State | None = None) -> None:
        """Wake every waiter of these trips. `state` (revision, message seq) lets a waiter that
        has already seen it go back to sleep without a query."""
        self._epoch += 1
        for trip_id in trip_ids:
            signal = self._signals.pop(trip_id, None)
            if signal is not None and not signal.done():
                signal.set_result(state)

    def on_commit(self, trip_ids: set[str]) -> None:
        """The `Database.commit_hooks` callback."""
        if trip_ids:
            self.notify(trip_ids)

    async def close(self) -> None:
        if self.waker is not None:
            await self.waker.close()


class PollingWaker:
    """Notices writes of other processes: every `interval` seconds, one query for the state of
    all watched trips; a trip whose state differs from the last poll is notified. With `keys`,
    the same read also takes the count of key changes (`api_key_changes`, kept by triggers) and
    tells `keys` when it moved."""

    def __init__(self, db: Database, interval: float = 0.5, keys: KeyListener | None = None) -> None:
        self.db = db
        self.interval = interval
        self.keys = keys
        self._key_changes: int | None = None
        """The count of key changes at the last poll (None: not known, keys are not heard)."""
        self._task: asyncio.Task | None = None

    def start(self, hub: ChangeHub) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(hub), name="changes-poller")

    async def _run(self, hub: ChangeHub) -> None:
        while True:
            await asyncio.sleep(self.interval)
            trip_ids = hub.watched()
            if not trip_ids and self.keys is None:
                continue
            try:
                async with self.db.read() as conn:
                    changed_keys = await key_changes(conn) if self.keys is not None else None
                    states = await store.latest(conn, trip_ids) if trip_ids else {}
            except Exception:  # a failed poll must not end the feed; the next one retries
                log.exception("polling for trip changes failed")
                self._hear_keys(None)
                continue
            self._hear_keys(changed_keys)
            for trip_id, state in states.items():
                if trip_id in hub._watchers and hub.seen.get(trip_id) != state:
                    # A trip seen for the first time is notified too: a waiter that read the
                    # database before this poll may have missed a write of another process.
                    hub.seen[trip_id] = state
                    hub.notify([trip_id], state)

    def _hear_keys(self, count: int | None) -> None:
        keys, before = self.keys, self._key_changes
        if keys is None or count == before:
            return
        self._key_changes = count
        if count is None:
            keys.listening(False)  # cannot tell any more: the cache stops trusting itself
        elif before is None:
            keys.listening(True)
        else:
            keys.forget()

    async def close(self) -> None:
        await stop_task(self._task)
        self._task = None
        self._hear_keys(None)


async def stop_task(task: asyncio.Task | None) -> None:
    """Cancel a waker's background task and wait for it; whatever it raised on the way out is
    of no interest any more."""
    if task is None:
        return
    task.cancel()
    try:
        await task
    except (asyncio.CancelledError, Exception):
        pass
