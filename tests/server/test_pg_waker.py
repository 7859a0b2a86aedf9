"""The PostgreSQL LISTEN/NOTIFY waker: a commit on one Database (another process, as far as
PostgreSQL can tell) wakes the hub of another within milliseconds; nothing is heard for a
rolled-back write or for one's own writes; a lost listening connection comes back."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import bindparam, text, update

from app.server.pg_waker import PgNotifyWaker
from app.server.storage import tables as t
from app.server.storage.accounts import ensure_user
from app.server.storage.database import Database
from app.server.storage.revisions import mark_touched
from tests.conftest import database_url

pytestmark = pytest.mark.postgres


class RecordingHub:
    def __init__(self, watched: list[str]) -> None:
        self._watched = watched
        self.calls: list[tuple[float, list[str]]] = []
        self.event = asyncio.Event()

    def watched(self) -> list[str]:
        return list(self._watched)

    def notify(self, trip_ids, state=None) -> None:
        self.calls.append((time.perf_counter(), list(trip_ids)))
        self.event.set()

    async def next_call(self, timeout: float = 5.0) -> list[str]:
        await asyncio.wait_for(self.event.wait(), timeout)
        self.event.clear()
        return self.calls[-1][1]


@pytest.fixture
async def two_databases(tmp_path, drop_schemas):
    url = database_url(tmp_path)
    drop_schemas.append(url)
    a, b = Database(url), Database(url)
    await a.migrate()
    a.enable_notify()
    b.enable_notify()
    yield a, b
    await a.dispose()
    await b.dispose()


async def touch(db: Database, *trip_ids: str, fail: bool = False) -> None:
    async with db.write() as conn:
        for trip_id in trip_ids:
            mark_touched(conn, trip_id)
        if fail:
            raise RuntimeError("roll back")


async def test_a_commit_elsewhere_wakes_within_milliseconds(two_databases):
    a, b = two_databases
    hub = RecordingHub(["trip-1"])
    waker = PgNotifyWaker(b)
    waker.start(hub)
    try:
        await asyncio.wait_for(waker.listening.wait(), 5)
        assert await hub.next_call() == ["trip-1"]  # the catch-up wake after LISTEN
        latencies = []
        for _ in range(20):
            started = time.perf_counter()
            await touch(a, "trip-1", "trip-2")
            assert sorted(await hub.next_call()) == ["trip-1", "trip-2"]
            latencies.append(hub.calls[-1][0] - started)
        latencies.sort()
        print(
            f"\ncommit -> wake on another connection: p50 {latencies[10] * 1000:.2f} ms, max {latencies[-1] * 1000:.2f} ms"
        )
        assert latencies[10] < 0.2

        # A rolled-back write says nothing; a write of the waker's own database is ignored
        # (its commit hook wakes local waiters).
        with pytest.raises(RuntimeError):
            await touch(a, "trip-1", fail=True)
        await touch(b, "trip-1")
        await touch(a, "trip-3")
        assert await hub.next_call() == ["trip-3"]
        assert waker.received == 21
    finally:
        await waker.close()


async def test_the_listener_comes_back_after_its_connection_is_killed(two_databases):
    a, b = two_databases
    hub = RecordingHub(["trip-1"])
    waker = PgNotifyWaker(b)
    waker.start(hub)
    try:
        await asyncio.wait_for(waker.listening.wait(), 5)
        await hub.next_call()
        async with a.write() as conn:
            killed = (
                (
                    await conn.execute(
                        text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND application_name = '' AND datname = current_database() AND query LIKE :q"
                        ),
                        {"q": f"%{waker.channel}%"},
                    )
                )
                .scalars()
                .all()
            )
        assert killed == [True]
        # It reconnects, then wakes every waiter once to make up for what it may have missed.
        assert await hub.next_call() == ["trip-1"]
        assert waker.listening.is_set()
        await touch(a, "trip-9")
        assert await hub.next_call() == ["trip-9"]
    finally:
        await waker.close()


async def test_a_driver_transaction_wakes_whether_its_write_matched_rows_or_not(two_databases):
    """`Database.transact` sends its NOTIFY with its first write (`RETURNING pg_notify(...)`),
    which runs once per row written: a write that matched none still notifies on its own."""
    a, b = two_databases
    hub = RecordingHub(["trip-1"])
    waker = PgNotifyWaker(b)
    waker.start(hub)
    _rename = update(t.users).where(t.users.c.id == bindparam("user_id")).values(name=bindparam("name"))
    async with a.write() as conn:
        user_id = await ensure_user(conn, "ann@example.com", "Ann")

    def renames(who: str, *, fail: bool = False):
        def body():
            yield _rename, {"user_id": who, "name": "Bea"}
            if fail:
                raise RuntimeError("roll back")

        return body

    try:
        await asyncio.wait_for(waker.listening.wait(), 5)
        assert await hub.next_call() == ["trip-1"]  # the catch-up wake after LISTEN
        await a.transact(renames(user_id), touches=("trip-1",))
        assert await hub.next_call() == ["trip-1"]
        await a.transact(renames("nobody"), touches=("trip-2",))
        assert await hub.next_call() == ["trip-2"]
        with pytest.raises(RuntimeError):
            await a.transact(renames(user_id, fail=True), touches=("trip-3",))
        await a.transact(renames(user_id), touches=("trip-4",))
        assert await hub.next_call() == ["trip-4"]
        assert waker.received == 3
    finally:
        await waker.close()


async def test_a_driver_transaction_of_more_than_a_payload_of_trips_still_wakes(two_databases):
    """A NOTIFY too long for one payload (over 100 trips) cannot ride on a write: it goes on its
    own, in as many payloads as it needs."""
    a, b = two_databases
    trips = [f"trip-{n:03}" for n in range(150)]
    hub = RecordingHub(trips)
    waker = PgNotifyWaker(b)
    waker.start(hub)
    _rename = update(t.users).where(t.users.c.id == bindparam("user_id")).values(name=bindparam("name"))
    async with a.write() as conn:
        user_id = await ensure_user(conn, "ann@example.com", "Ann")

    def body():
        yield _rename, {"user_id": user_id, "name": "Bea"}

    try:
        await asyncio.wait_for(waker.listening.wait(), 5)
        await hub.next_call()  # the catch-up wake after LISTEN
        hub.calls.clear()
        await a.transact(body, touches=trips)
        await hub.next_call()
        async with asyncio.timeout(5):
            while sorted(i for _, ids in hub.calls for i in ids) != trips:
                hub.event.clear()
                await hub.next_call()
    finally:
        await waker.close()
