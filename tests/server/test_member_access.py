"""A member removed from a trip loses its chat at once in the process that removed them, and
within a second on every `trip serve` process sharing the database, however the membership was
changed (the API, or SQL typed by an operator), although each process keeps a cache of members."""

from __future__ import annotations

import asyncio
import functools
import time
import uuid
from collections.abc import Awaitable, Callable

import httpx
import pytest
from sqlalchemy import delete

from app.server.storage import tables as t
from app.server.storage.database import Database
from tests.conftest import Actor, new_trip
from tests.server.test_auth import REVOKED_WITHIN, heard, new_key, seconds_until_refused, two_servers  # noqa: F401 (a fixture)

BODY = {"content": "still here?"}


async def chat_path(actor: Actor | httpx.AsyncClient, trip: dict) -> str:
    http = actor.http if isinstance(actor, Actor) else actor
    channels = (await http.get(f"/trips/{trip['_id']}/channels")).json()["items"]
    return f"/trips/{trip['_id']}/channels/{channels[0]['_id']}/messages"


@pytest.mark.parametrize("idempotency", [False, True], ids=["plain", "idempotency-key"])
async def test_a_removed_member_loses_the_chat_at_once(server, alice, bob, idempotency):
    """With an Idempotency-Key (as the SDK sends it) the removal commits after the route returns."""
    headers = {"Idempotency-Key": str(uuid.uuid4())} if idempotency else {}
    await heard(server.app.state.key_cache)  # the member cache listens with it
    trip = await new_trip(alice)
    added = await alice.http.post(
        f"/trips/{trip['_id']}/members", json={"email": bob.email, "role": "viewer"}
    )
    assert added.status_code == 201, added.text
    path = await chat_path(bob, trip)
    for _ in range(3):  # a viewer may chat: known to this process's caches from here
        assert (await bob.http.post(path, json=BODY)).status_code == 201
    assert (await bob.http.get(path)).status_code == 200

    removed = await alice.http.delete(f"/trips/{trip['_id']}/members/{bob.user_id}", headers=headers)
    assert removed.status_code == 204, removed.text
    refused = await bob.http.post(path, json=BODY)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "FORBIDDEN"
    assert (await bob.http.get(path)).status_code == 403

    added = await alice.http.post(
        f"/trips/{trip['_id']}/members", json={"email": bob.email, "role": "editor"}
    )
    assert added.status_code == 201, added.text
    assert (await bob.http.post(path, json=BODY)).status_code == 201  # a refusal is not remembered


async def test_a_member_removed_in_sql_loses_the_chat_within_a_second(server, alice, bob):
    """Not through the API: the database's triggers must tell this process, as another one."""
    await heard(server.app.state.key_cache)
    trip = await new_trip(alice)
    await alice.http.post(f"/trips/{trip['_id']}/members", json={"email": bob.email, "role": "editor"})
    path = await chat_path(bob, trip)
    for _ in range(3):
        assert (await bob.http.post(path, json=BODY)).status_code == 201
    async with server.db.write() as conn:
        await conn.execute(
            delete(t.trip_members).where(
                t.trip_members.c.trip_id == trip["_id"], t.trip_members.c.user_id == bob.user_id
            )
        )
    assert (
        await seconds_until_refused(sends_a_message(bob.http, path), time.perf_counter(), 403)
        < REVOKED_WITHIN
    )


def sends_a_message(http: httpx.AsyncClient, path: str) -> Callable[[], Awaitable[httpx.Response]]:
    return functools.partial(http.post, path, json=BODY)


@pytest.mark.slow
async def test_a_removed_member_loses_the_chat_on_every_process(two_servers):
    """Two real processes: bob chats on both; alice removes him through the first (refused there at
    once), then, re-added, an operator removes him in SQL (refused on both within a second)."""
    url, servers = two_servers
    db = Database(url)
    try:
        alice_key = await new_key(db, "alice@example.com")
        bob_key = await new_key(db, "bob@example.com")
        alice = httpx.AsyncClient(base_url=servers[0].url, headers={"Authorization": f"Bearer {alice_key}"})
        bobs = [
            httpx.AsyncClient(base_url=s.url, headers={"Authorization": f"Bearer {bob_key}"}) for s in servers
        ]
        try:
            trip = await new_trip(alice, "T", "2026-07-01", "2026-07-02")
            members = f"/trips/{trip['_id']}/members"
            path = await chat_path(alice, trip)
            bob_id = (await bobs[0].get("/me")).json()["_id"]

            async def add_bob() -> None:
                assert (
                    await alice.post(members, json={"email": "bob@example.com", "role": "viewer"})
                ).status_code == 201
                until = (
                    time.perf_counter() + 1.0
                )  # each process hears changes half a second after start at most
                while time.perf_counter() < until:
                    for http in bobs:
                        assert (await http.post(path, json=BODY)).status_code == 201
                    await asyncio.sleep(0.05)

            await add_bob()
            assert (await alice.delete(f"{members}/{bob_id}")).status_code == 204
            assert (await bobs[0].post(path, json=BODY)).status_code == 403  # the process that removed him
            assert (
                await seconds_until_refused(sends_a_message(bobs[1], path), time.perf_counter(), 403)
                < REVOKED_WITHIN
            )

            await add_bob()
            async with db.write() as conn:
                await conn.execute(
                    delete(t.trip_members).where(
                        t.trip_members.c.trip_id == trip["_id"], t.trip_members.c.user_id == bob_id
                    )
                )
            committed = time.perf_counter()
            latencies = await asyncio.gather(
                *(seconds_until_refused(sends_a_message(http, path), committed, 403) for http in bobs)
            )
            assert max(latencies) < REVOKED_WITHIN, latencies
        finally:
            for http in (alice, *bobs):
                await http.aclose()
    finally:
        await db.dispose()
