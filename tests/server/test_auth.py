"""API keys: a key deleted or revoked in the database stops working on every `trip serve` process
sharing it within a second (the key cache hears it through the changes feed's waker:
LISTEN/NOTIFY on PostgreSQL, the shared poll on SQLite), and when a key was last used is recorded
without a write per request."""

from __future__ import annotations

import asyncio
import functools
import statistics
import time
from collections.abc import Awaitable, Callable

import httpx
import pytest
from sqlalchemy import delete, select, update

from app.server.auth import ApiKey, KeyCache, KeyUse, hash_key
from app.server.clock import now_ms
from app.server.storage import tables as t
from app.server.storage.accounts import create_key, ensure_user, revoke_key
from app.server.storage.database import Database
from tests.conftest import database_url
from tests.processes import start_servers, stop_servers

REVOKED_WITHIN = 1.0
"""Seconds after the revoking transaction commits by which every process answers 401."""
ROUNDS = 5


@pytest.fixture
def two_servers(tmp_path, drop_schemas):
    """Two real `trip serve` processes on one database (SQLite file or PostgreSQL schema)."""
    url = database_url(tmp_path)
    drop_schemas.append(url)
    servers = start_servers(url, 2, args=["--rate-limit", "100000"])
    try:
        yield url, servers
    finally:
        stop_servers(servers)


async def new_key(db: Database, email: str) -> str:
    async with db.write() as conn:
        return await create_key(conn, await ensure_user(conn, email))


async def seconds_until_refused(
    send: Callable[[], Awaitable[httpx.Response]], since: float, refused: int, give_up: float = 15.0
) -> float:
    """Send the request `send()` makes until it is answered `refused` (each earlier answer must be
    a success); the seconds from `since` to that answer."""
    while True:
        answer = await send()
        if answer.status_code == refused:
            return time.perf_counter() - since
        assert answer.is_success, answer.text
        if time.perf_counter() - since > give_up:
            raise AssertionError(f"still answered {answer.status_code} {give_up} s later, not {refused}")
        await asyncio.sleep(0.01)


async def warm(clients: list[httpx.AsyncClient], seconds: float) -> None:
    """Use the key on every process for a while, so that each has it in its cache (a process
    caches once its waker hears key changes, half a second after it starts at most on SQLite)."""
    until = time.perf_counter() + seconds
    while time.perf_counter() < until:
        for http in clients:
            assert (await http.get("/me")).status_code == 200
        await asyncio.sleep(0.05)


async def delete_in_sql(db: Database, key: str) -> None:
    """As an operator could, by hand: the database's triggers must still tell every process."""
    async with db.write() as conn:
        await conn.execute(delete(t.api_keys).where(t.api_keys.c.key_hash == hash_key(key)))


async def revoke(db: Database, key: str) -> None:
    """What `trip keys revoke` does (tests/test_cli.py runs the command itself)."""
    async with db.write() as conn:
        assert await revoke_key(conn, key) is not None


@pytest.mark.slow
@pytest.mark.parametrize("remove", [delete_in_sql, revoke], ids=["deleted", "revoked"])
async def test_a_removed_key_stops_working_on_every_process_within_a_second(two_servers, remove):
    """Timed from the commit of the DELETE to each process's first 401, for several keys in turn
    (`-s` prints the figures: python -m pytest -s tests/server/test_auth.py -k removed_key)."""
    url, servers = two_servers
    db = Database(url)
    latencies: list[float] = []
    try:
        for turn in range(ROUNDS):
            key = await new_key(db, f"removed-{turn}@example.com")
            clients = [
                httpx.AsyncClient(base_url=s.url, headers={"Authorization": f"Bearer {key}"}, timeout=10)
                for s in servers
            ]
            try:
                await warm(clients, 1.0 if turn == 0 else 0.3)
                await remove(db, key)
                committed = time.perf_counter()
                latencies += await asyncio.gather(
                    *(
                        seconds_until_refused(functools.partial(http.get, "/me"), committed, 401)
                        for http in clients
                    )
                )
            finally:
                for http in clients:
                    await http.aclose()
    finally:
        await db.dispose()
    ms = sorted(round(s * 1000) for s in latencies)
    print(
        f"\n{db.dialect}, key {remove.__name__}: 401 from both processes after median "
        f"{statistics.median(ms)} ms, max {ms[-1]} ms ({len(ms)} answers: {ms})"
    )
    assert max(latencies) < REVOKED_WITHIN, ms


async def heard(cache: KeyCache) -> None:
    for _ in range(500):
        if cache.heard:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the waker never said that key changes are heard")


async def test_keys_are_cached_only_while_key_changes_are_heard(server, alice):
    cache = server.app.state.key_cache
    await heard(cache)
    assert (await alice.http.get("/me")).status_code == 200
    assert cache.get(hash_key(alice.key)) is not None
    cache.listening(False)  # as when the poll fails or the LISTEN connection is lost
    assert cache.get(hash_key(alice.key)) is None
    assert (await alice.http.get("/me")).status_code == 200
    assert cache.get(hash_key(alice.key)) is None, "cached while a revocation could go unheard"


async def test_a_key_changed_in_the_database_is_forgotten_by_the_cache(server, alice):
    cache = server.app.state.key_cache
    await heard(cache)
    assert (await alice.http.get("/me")).status_code == 200
    async with server.db.write() as conn:
        await conn.execute(
            update(t.api_keys)
            .where(t.api_keys.c.key_hash == hash_key(alice.key))
            .values(scopes=["messages:read"])
        )
    for _ in range(200):
        if cache.get(hash_key(alice.key)) is None:
            break
        await asyncio.sleep(0.01)
    assert cache.get(hash_key(alice.key)) is None
    assert (await alice.http.get("/trips")).status_code == 403  # the narrower scopes hold at once


def test_a_lookup_that_began_before_an_invalidation_is_not_kept():
    cache = KeyCache()
    cache.listening(True)
    key = ApiKey(key_id="k", user_id="u", user_name="U", scopes=(("trips:read", None),))
    began = cache.generation
    cache.forget()  # a revocation heard while the lookup read the database
    cache.put("digest", key, began)
    assert cache.get("digest") is None
    cache.put("digest", key, cache.generation)
    assert cache.get("digest") is key


async def last_used(db: Database, key: str) -> int | None:
    async with db.read() as conn:
        query = select(t.api_keys.c.last_used_at).where(t.api_keys.c.key_hash == hash_key(key))
        return (await conn.execute(query)).scalar_one()


async def test_last_used_is_written_at_most_once_an_interval_per_key(server, alice, bob):
    assert server.app.state.key_use.every == 60.0
    usage = server.app.state.key_use = KeyUse(server.db, every=0.5)
    assert await last_used(server.db, alice.key) is None
    before = now_ms()
    for _ in range(5):
        assert (await alice.http.get("/me")).status_code == 200
    await usage.close()  # the write runs in the background: wait for it
    first = await last_used(server.db, alice.key)
    assert first is not None and before <= first <= now_ms()
    assert await last_used(server.db, bob.key) is None  # only the keys used
    await asyncio.sleep(0.1)
    assert (await alice.http.get("/me")).status_code == 200
    await usage.close()
    assert await last_used(server.db, alice.key) == first  # within the interval: no write
    await asyncio.sleep(0.5)
    assert (await alice.http.get("/me")).status_code == 200
    await usage.close()
    assert await last_used(server.db, alice.key) > first
