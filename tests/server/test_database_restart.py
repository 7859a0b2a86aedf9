"""PostgreSQL closes every pooled connection of a server (a restart, a failover, an operator's
`pg_terminate_backend`) while they sit idle: no request may fail for it."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url

from app.server.storage.database import split_schema
from tests.conftest import new_trip

pytestmark = pytest.mark.postgres


def watch_checkins(db) -> set[int]:
    """The server pids of the connections handed back to the pool from now on."""
    pids: set[int] = set()
    event.listen(
        db.write_engine.sync_engine,
        "checkin",
        lambda dbapi, _record: dbapi is not None and pids.add(dbapi.driver_connection.get_server_pid()),
    )
    return pids


async def terminate(db, pids: list[int]) -> None:
    url, _ = split_schema(db.url)
    url = make_url(url)
    admin = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, database=url.database
    )
    try:
        await admin.execute("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", pids)
        for _ in range(100):  # until they are gone, as after a restart
            if not await admin.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1::int[])", pids
            ):
                # A backend leaves pg_stat_activity a moment before its process exits and its
                # socket closes: the guarantee is for connections that died while idle.
                await asyncio.sleep(0.2)
                return
            await asyncio.sleep(0.02)
        raise AssertionError("the backends did not go away")
    finally:
        await admin.close()


async def test_no_request_fails_after_the_database_closed_idle_connections(server, alice):
    trip = await new_trip(alice)
    path = f"/trips/{trip['_id']}"
    # Several connections in the pool, each used, then idle.
    pids = watch_checkins(server.db)
    answers = await asyncio.gather(*(alice.http.get(path) for _ in range(8)))
    assert {a.status_code for a in answers} == {200}
    assert len(pids) >= 2, pids
    await terminate(server.db, sorted(pids))
    reads = await asyncio.gather(*(alice.http.get(path) for _ in range(8)))
    assert [r.status_code for r in reads] == [200] * 8, [r.text for r in reads if r.status_code != 200]
    write = await alice.http.post(
        f"/trips/{trip['_id']}/map-pins", json={"name": "After", "lat": 1, "lng": 2}
    )
    assert write.status_code == 201, write.text
