"""PostgreSQL LISTEN/NOTIFY waker for the live changes feed, across server processes.

Every write transaction that touches trips runs `pg_notify(channel, '<origin>:<tripId>,...')`
(`Database.enable_notify`); PostgreSQL delivers it when, and only if, the transaction commits.
Each process holds one extra connection that LISTENs on the channel and wakes the hub's waiters
of those trips, typically within a millisecond or two of the commit. A process ignores its own
notifications: its commit hook has woken its waiters already.

If the listening connection is lost, the waker reconnects with backoff and then wakes every
waiter once (they re-read the database), so nothing that committed meanwhile is missed. A
notification that arrives for a trip nobody here waits on costs nothing.

The same connection LISTENs on `tripdeck_keys`, where triggers on api_keys, trip_members,
users, groups and group_members announce a key, a membership or a user's groups changed
(payload: the schema; migrations 0002, 0006 and 0007), and tells the key, member and `GET /me`
caches (`keys`) to forget what they hold. The caches trust themselves only while the LISTEN is
in place: they are told when the connection is lost and when it is back.

The hub is anything with `notify(trip_ids, state=None)` and `watched()` (see `live.ChangeHub`);
the waker has the `start(hub)` / `async close()` shape the hub expects.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from app.server.live import KeyListener, stop_task
from app.server.storage.database import Database

log = logging.getLogger(__name__)

PING_EVERY = 30.0
"""Seconds between liveness checks of an idle listening connection."""
KEYS_CHANNEL = "tripdeck_keys"
"""Where the triggers on api_keys, trip_members, users, groups and group_members NOTIFY (one
channel for every schema; the payload names it)."""


class Hub(Protocol):
    def notify(self, trip_ids, state=None) -> None: ...

    def watched(self) -> list[str]: ...


class PgNotifyWaker:
    def __init__(self, db: Database, keys: KeyListener | None = None) -> None:
        if db.is_sqlite:
            raise ValueError("PgNotifyWaker needs PostgreSQL")
        self.db = db
        self.keys = keys
        self._schema: str | None = None
        """The schema of our tables, as the listening connection resolves it."""
        self.channel = db.notify_channel or db.enable_notify()
        self.listening = asyncio.Event()
        """Set while the LISTEN is in place (tests and benchmarks wait on it)."""
        self.received = 0
        """Notifications from other processes handled so far."""
        self._task: asyncio.Task | None = None
        self._hub: Hub | None = None

    def start(self, hub: Hub) -> None:
        if self._task is not None:
            return
        self._hub = hub
        self._task = asyncio.get_running_loop().create_task(self._run(), name="pg-notify-waker")

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        origin, _, ids = payload.partition(":")
        if origin == self.db.notify_origin or not ids or self._hub is None:
            return
        self.received += 1
        self._hub.notify(ids.split(","))

    def _on_key_change(self, _conn: Any, _pid: int, _channel: str, schema: str) -> None:
        if self.keys is not None and schema == self._schema:
            self.keys.forget()

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            conn = None
            try:
                conn = await self.db.connect_raw()
                lost = asyncio.get_running_loop().create_future()
                conn.add_termination_listener(lambda _c, lost=lost: lost.done() or lost.set_result(None))
                await conn.add_listener(self.channel, self._on_notify)
                if self.keys is not None:
                    self._schema = await conn.fetchval("SELECT current_schema()")
                    await conn.add_listener(KEYS_CHANNEL, self._on_key_change)
                    # From here on a key change is heard; one made before is in the database.
                    self.keys.listening(True)
                self.listening.set()
                backoff = 0.1
                # Whatever committed before the LISTEN took hold was not heard: every waiter
                # reads once more.
                if self._hub is not None and (watched := self._hub.watched()):
                    self._hub.notify(watched)
                while True:
                    try:
                        await asyncio.wait_for(asyncio.shield(lost), timeout=PING_EVERY)
                        break  # the connection closed
                    except TimeoutError:
                        await conn.fetchval("SELECT 1", timeout=10)
                log.warning("the LISTEN connection for live changes closed; reconnecting")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database may be restarting: keep trying
                log.warning("LISTEN for live changes failed (%s: %s); retrying", exc.__class__.__name__, exc)
            finally:
                self.listening.clear()
                if self.keys is not None:
                    self.keys.listening(False)
                if conn is not None and not conn.is_closed():
                    try:
                        await asyncio.wait_for(conn.close(), timeout=2)
                    except BaseException:
                        conn.terminate()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def close(self) -> None:
        await stop_task(self._task)
        self._task = None
