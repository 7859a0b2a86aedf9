"""Two real `trip serve` processes on one PostgreSQL schema behave as one service: the rate limit
is counted once across both, concurrent duplicate idempotent POSTs split across both run once,
and a long poll held by one wakes on a message posted to the other."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from sqlalchemy import func, select

from app.server.ratelimit import SYNC_BATCH
from app.server.storage import tables as t
from app.server.storage.accounts import create_key, ensure_user
from app.server.storage.database import Database
from tests.conftest import database_url, drop_schema_of
from tests.processes import start_servers, stop_servers

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

RATE_LIMIT = 40


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """Two servers started at the same moment on a fresh schema (they race to migrate it),
    shared by the tests of this module (each test uses keys and trips of its own)."""
    url = database_url(tmp_path_factory.mktemp("scale"))
    servers = start_servers(url, 2, args=["--rate-limit", str(RATE_LIMIT)])
    try:
        yield url, servers
    finally:
        stop_servers(servers)
        asyncio.run(drop_schema_of(url))


@pytest.fixture
async def cluster(servers):
    url, processes = servers
    db = Database(url)
    try:
        yield processes, db
    finally:
        await db.dispose()


async def make_key(db: Database, email: str) -> str:
    async with db.write() as conn:
        user_id = await ensure_user(conn, email, email.split("@")[0].title())
        return await create_key(conn, user_id)


def client(server, key: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30)


async def new_trip(http: httpx.AsyncClient) -> str:
    me = (await http.get("/me")).json()
    created = await http.post(
        "/trips",
        json={
            "groupId": me["defaultGroupId"],
            "title": "Scale",
            "startDate": "2026-07-15",
            "endDate": "2026-07-22",
        },
    )
    assert created.status_code == 201, created.text
    return created.json()["_id"]


async def test_the_rate_limit_is_counted_once_across_processes(cluster):
    (a, b), db = cluster
    key = await make_key(db, "rate@example.com")
    # Stay inside one 60-second window.
    if time.time() % 60 > 45:
        await asyncio.sleep(60 - time.time() % 60 + 0.1)
    async with client(a, key) as on_a, client(b, key) as on_b:
        answers = []
        for i in range(RATE_LIMIT + 10):
            answers.append(await (on_a if i % 2 else on_b).get("/me"))
    statuses = [r.status_code for r in answers]
    # Never refused before the limit; over it by less than what one process counts in memory
    # between syncs (README, Rate limits).
    admitted = statuses.count(200)
    assert RATE_LIMIT <= admitted < RATE_LIMIT + SYNC_BATCH, statuses
    assert statuses[:RATE_LIMIT] == [200] * RATE_LIMIT
    assert all(int(r.headers["Retry-After"]) >= 1 for r in answers if r.status_code == 429)


async def test_concurrent_duplicate_idempotent_posts_on_both_create_one_row(cluster):
    (a, b), db = cluster
    key = await make_key(db, "idem@example.com")
    async with client(a, key) as on_a, client(b, key) as on_b:
        trip_id = await new_trip(on_a)
        leg = {  # no clientRef: only the Idempotency-Key can stop a second row
            "order": 1,
            "title": "Lisbon",
            "destination": "Lisbon",
            "startDate": "2026-07-15",
            "endDate": "2026-07-17",
            "timezone": "Europe/Lisbon",
        }
        headers = {"Idempotency-Key": "create-lisbon-1"}
        answers = await asyncio.gather(
            *(
                (on_a if i % 2 else on_b).post(f"/trips/{trip_id}/legs", json=leg, headers=headers)
                for i in range(10)
            )
        )
    for answer in answers:
        assert answer.status_code == 201 or (
            answer.status_code == 409 and answer.json()["error"]["code"] == "IDEMPOTENCY_IN_PROGRESS"
        ), answer.text
    created = [r for r in answers if r.status_code == 201]
    assert created and len({r.json()["_id"] for r in created}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in created) == len(created) - 1
    async with db.read() as conn:
        legs = (
            await conn.execute(select(func.count()).select_from(t.legs).where(t.legs.c.trip_id == trip_id))
        ).scalar()
        revision = (await conn.execute(select(t.trips.c.revision).where(t.trips.c.id == trip_id))).scalar()
    assert legs == 1
    assert revision == 2


async def test_a_long_poll_on_one_process_wakes_on_a_message_posted_to_the_other(cluster):
    (a, b), db = cluster
    key = await make_key(db, "live@example.com")
    async with client(a, key) as on_a, client(b, key) as on_b:
        trip_id = await new_trip(on_a)
        channel = (await on_a.get(f"/trips/{trip_id}/channels")).json()["items"][0]["_id"]
        for attempt in range(3):
            cursor = (await on_b.get(f"/trips/{trip_id}/changes")).json()["cursor"]
            poll = asyncio.create_task(
                on_b.get(f"/trips/{trip_id}/changes", params={"since": cursor, "wait": 20})
            )
            await asyncio.sleep(0.5)  # the poll is held on B
            assert not poll.done()
            text = f"hello from A #{attempt}"
            sent = await on_a.post(f"/trips/{trip_id}/channels/{channel}/messages", json={"content": text})
            assert sent.status_code == 201, sent.text
            posted = time.perf_counter()
            answer = await asyncio.wait_for(poll, 5)
            woke = time.perf_counter() - posted
            assert answer.status_code == 200, answer.text
            assert [m["content"] for m in answer.json()["messages"]] == [text]
            print(f"\nlong poll on B woke {woke * 1000:.1f} ms after A answered the post")
            assert woke < 1.0
