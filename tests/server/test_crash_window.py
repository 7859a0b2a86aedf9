"""A real `trip serve` killed (SIGKILL) after a write's answer is ready but before the client
has it: the client's retry with the same Idempotency-Key, sent to a healthy server on the same
database, replays the answer or runs the write once, never twice. One case per write path:
plain creates without clientRef, batch and sync without clientRefs, ops, messages, channels,
members, trips and share tokens.

The kill comes from the fault-injection switch `TRIP_TEST_CRASH_AT` (see app.server.faults),
which only tests set: at `answer-ready` the write has run but nothing is committed, at
`answer-recorded` the write and its answer are committed together."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from app.server.storage.accounts import create_key, ensure_user
from app.server.storage.database import Database
from tests.conftest import database_url
from tests.processes import start_servers, stop_servers

pytestmark = pytest.mark.slow

PIN = {"name": "Sensoji", "lat": 35.7148, "lng": 139.7967}
COMMITMENT = {"title": "Dinner", "startDate": "2026-07-16", "category": "dinner"}


@dataclass
class Case:
    name: str
    request: Callable[[httpx.AsyncClient, dict], Awaitable[tuple[str, str, Any]]]
    count: Callable[[httpx.AsyncClient, dict], Awaitable[int]]
    adds: int = 1
    secret: bool = False
    """The answer holds a secret: a replay answers 409 SECRET_NOT_REPLAYED instead."""


async def items(http: httpx.AsyncClient, path: str) -> int:
    response = await http.get(path, params={"limit": 100})
    assert response.status_code == 200, response.text
    return len(response.json()["items"])


async def fixed(method: str, path: str, body: Any):
    return method, path, body


def on_trip(path: str) -> Callable[[httpx.AsyncClient, dict], Awaitable[int]]:
    return lambda http, ctx: items(http, f"/trips/{ctx['trip']}/{path}")


async def op_request(http: httpx.AsyncClient, ctx: dict):
    revision = (await http.get(f"/trips/{ctx['trip']}")).json()["revision"]
    return (
        "POST",
        f"/trips/{ctx['trip']}/ops",
        {"base_revision": revision, "type": "add_event", "payload": COMMITMENT},
    )


async def share_state(http: httpx.AsyncClient, ctx: dict) -> int:
    return 0  # the token is a secret: only the answer to the retry is checked


CASES = [
    Case("map pin", lambda h, c: fixed("POST", f"/trips/{c['trip']}/map-pins", PIN), on_trip("map-pins")),
    Case(
        "commitment",
        lambda h, c: fixed("POST", f"/trips/{c['trip']}/commitments", COMMITMENT),
        on_trip("commitments"),
    ),
    Case(
        "sync",
        lambda h, c: fixed("POST", f"/trips/{c['trip']}/sync", {"mapPins": [PIN, PIN, PIN]}),
        on_trip("map-pins"),
        adds=3,
    ),
    Case(
        "batch",
        lambda h, c: fixed(
            "POST",
            f"/trips/{c['trip']}/action-items:batch",
            {"items": [{"text": "Visa", "urgency": "before_trip"}] * 2},
        ),
        on_trip("action-items"),
        adds=2,
    ),
    Case("ops", op_request, on_trip("commitments")),
    Case(
        "message",
        lambda h, c: fixed("POST", f"/trips/{c['trip']}/channels/{c['channel']}/messages", {"content": "hi"}),
        lambda h, c: items(h, f"/trips/{c['trip']}/channels/{c['channel']}/messages"),
    ),
    Case(
        "channel",
        lambda h, c: fixed("POST", f"/trips/{c['trip']}/channels", {"name": "food"}),
        on_trip("channels"),
    ),
    Case(
        "member",
        lambda h, c: fixed("POST", f"/trips/{c['trip']}/members", {"email": c["friend"], "role": "editor"}),
        on_trip("members"),
    ),
    Case(
        "trip",
        lambda h, c: fixed(
            "POST",
            "/trips",
            {"groupId": c["group"], "title": "Again", "startDate": "2026-07-15", "endDate": "2026-07-22"},
        ),
        lambda h, c: items(h, "/trips"),
    ),
    Case(
        "share token",
        lambda h, c: fixed("POST", f"/trips/{c['trip']}/share-token", None),
        share_state,
        adds=0,
        secret=True,
    ),
]


async def make_key(db: Database, email: str) -> str:
    async with db.write() as conn:
        user_id = await ensure_user(conn, email, email.split("@")[0].title())
        return await create_key(conn, user_id)


@pytest.fixture
async def world(tmp_path):
    url = database_url(tmp_path)
    steady = start_servers(url, 1, args=["--rate-limit", "100000"])
    db = Database(url)
    try:
        key = await make_key(db, "crash@example.com")
        await make_key(db, "friend@example.com")
        async with httpx.AsyncClient(
            base_url=steady[0].url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        ) as http:
            me = (await http.get("/me")).json()
            trip = (
                await http.post(
                    "/trips",
                    json={
                        "groupId": me["defaultGroupId"],
                        "title": "Crash",
                        "startDate": "2026-07-15",
                        "endDate": "2026-07-22",
                    },
                )
            ).json()
            channels = (await http.get(f"/trips/{trip['_id']}/channels")).json()["items"]
            context = {
                "trip": trip["_id"],
                "channel": channels[0]["_id"],
                "group": me["defaultGroupId"],
                "friend": "friend@example.com",
            }
            yield url, key, http, context
    finally:
        stop_servers(steady)
        if db.schema:
            await db.drop_schema()
        await db.dispose()


@pytest.mark.parametrize("point", ["answer-ready", "answer-recorded"])
async def test_a_kill_between_the_write_and_its_answer_never_writes_twice(world, point):
    url, key, http, context = world
    duplicates = []
    for case in CASES:
        crashing = start_servers(url, 1, args=["--rate-limit", "100000"], env={"TRIP_TEST_CRASH_AT": point})[
            0
        ]
        try:
            method, path, body = await case.request(http, context)
            before = await case.count(http, context)
            headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": f"crash-{case.name}"}
            with pytest.raises(httpx.TransportError):
                await httpx.AsyncClient(base_url=crashing.url, timeout=30).request(
                    method, path, json=body, headers=headers
                )
            assert crashing.proc.wait(timeout=10) == -9, (
                f"{case.name}: the server was not killed at the fault point"
            )
        finally:
            stop_servers([crashing])
        retry = await http.request(method, path, json=body, headers={"Idempotency-Key": f"crash-{case.name}"})
        if case.secret and retry.headers.get("Idempotent-Replayed"):
            assert retry.json()["error"]["code"] == "SECRET_NOT_REPLAYED", retry.text
        else:
            assert 200 <= retry.status_code < 300, (case.name, retry.text)
        after = await case.count(http, context)
        if after != before + case.adds:
            duplicates.append(f"{case.name}: {after - before} written, expected {case.adds}")
        again = await http.request(method, path, json=body, headers={"Idempotency-Key": f"crash-{case.name}"})
        assert again.headers.get("Idempotent-Replayed") == "true", (case.name, again.text)
        if case.secret:
            assert again.status_code == 409 and "shr_" not in again.text, again.text
        else:
            assert (again.status_code, again.content) == (retry.status_code, retry.content), case.name
    assert not duplicates, duplicates
