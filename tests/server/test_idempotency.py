"""Idempotency-Key: replay, conflict, concurrency, what is not cached, across server instances."""

import asyncio
import json
import socket

import httpx
from sqlalchemy import select, update

from app.server.app import create_app
from app.server.idempotency import parse_key
from app.server.storage import tables as t
from app.server.storage.database import Database

LEG = {
    "order": 0,
    "title": "Tokyo",
    "destination": "Tokyo",
    "startDate": "2026-07-15",
    "endDate": "2026-07-18",
    "timezone": "Asia/Tokyo",
}


async def leg_count(alice, trip) -> int:
    return len((await alice.http.get(f"/trips/{trip['_id']}/legs")).json()["items"])


async def test_replay_returns_identical_status_and_body(alice, trip):
    path = f"/trips/{trip['_id']}/legs"
    first = await alice.http.post(path, json=LEG, headers={"Idempotency-Key": "leg-1"})
    again = await alice.http.post(path, json=LEG, headers={"Idempotency-Key": "leg-1"})
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert await leg_count(alice, trip) == 1


async def test_key_order_and_whitespace_do_not_change_the_fingerprint(alice, trip):
    path = f"/trips/{trip['_id']}/legs"
    first = await alice.http.post(path, json=LEG, headers={"Idempotency-Key": "k"})
    reordered = "{\n" + ", ".join(f'"{k}": {v!r}'.replace("'", '"') for k, v in reversed(LEG.items())) + "}"
    again = await alice.http.post(path, content=reordered, headers={"Idempotency-Key": "k"})
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()


async def test_quoted_structured_field_value_means_the_bare_key(alice, trip):
    path = f"/trips/{trip['_id']}/legs"
    await alice.http.post(path, json=LEG, headers={"Idempotency-Key": "abc"})
    again = await alice.http.post(path, json=LEG, headers={"Idempotency-Key": '"abc"'})
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert parse_key('"a\\"b"') == 'a"b'


async def test_same_key_different_request_is_a_conflict(alice, trip):
    path = f"/trips/{trip['_id']}/legs"
    await alice.http.post(path, json=LEG, headers={"Idempotency-Key": "k1"})
    other = await alice.http.post(path, json={**LEG, "title": "Kyoto"}, headers={"Idempotency-Key": "k1"})
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "IDEMPOTENCY_CONFLICT"
    other_path = await alice.http.post(f"{path}?x=1", json=LEG, headers={"Idempotency-Key": "k1"})
    assert other_path.json()["error"]["code"] == "IDEMPOTENCY_CONFLICT"
    assert await leg_count(alice, trip) == 1


async def test_keys_are_scoped_to_the_api_key(alice, bob, trip):
    await alice.http.post(f"/trips/{trip['_id']}/members", json={"email": bob.email, "role": "editor"})
    path = f"/trips/{trip['_id']}/legs"
    mine = await alice.http.post(path, json=LEG, headers={"Idempotency-Key": "shared-name"})
    theirs = await bob.http.post(path, json=LEG, headers={"Idempotency-Key": "shared-name"})
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["_id"] != theirs.json()["_id"]
    assert "Idempotent-Replayed" not in theirs.headers


async def test_key_over_255_characters_is_refused(alice, trip):
    path = f"/trips/{trip['_id']}/legs"
    response = await alice.http.post(path, json=LEG, headers={"Idempotency-Key": "x" * 256})
    assert response.status_code == 400
    assert response.json()["error"]["details"] == [{"path": "Idempotency-Key", "reason": "too_long"}]
    ok = await alice.http.post(path, json=LEG, headers={"Idempotency-Key": "x" * 255})
    assert ok.status_code == 201
    assert await leg_count(alice, trip) == 1


async def test_twenty_concurrent_duplicates_create_one_row(alice, trip):
    path = f"/trips/{trip['_id']}/legs"
    responses = await asyncio.gather(
        *(alice.http.post(path, json=LEG, headers={"Idempotency-Key": "burst"}) for _ in range(20))
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.content for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 19
    assert await leg_count(alice, trip) == 1


async def test_patch_and_delete_replay(alice, trip):
    path = f"/trips/{trip['_id']}/legs"
    leg = (await alice.http.post(path, json=LEG)).json()
    patched = await alice.http.patch(
        f"{path}/{leg['_id']}", json={"title": "A"}, headers={"Idempotency-Key": "p"}
    )
    # Someone else changes the title; the replay still answers with the first response.
    await alice.http.patch(f"{path}/{leg['_id']}", json={"title": "B"})
    replay = await alice.http.patch(
        f"{path}/{leg['_id']}", json={"title": "A"}, headers={"Idempotency-Key": "p"}
    )
    assert replay.json()["title"] == "A" and replay.content == patched.content
    gone = await alice.http.delete(f"{path}/{leg['_id']}", headers={"Idempotency-Key": "d"})
    again = await alice.http.delete(f"{path}/{leg['_id']}", headers={"Idempotency-Key": "d"})
    assert gone.status_code == again.status_code == 204
    assert again.headers["Idempotent-Replayed"] == "true"


async def test_client_errors_are_cached_but_401_is_not(server, alice, trip):
    path = f"/trips/{trip['_id']}/legs"
    bad = await alice.http.post(
        path, json={**LEG, "timezone": "Mars/Olympus"}, headers={"Idempotency-Key": "v"}
    )
    assert bad.status_code == 400
    replay = await alice.http.post(
        path, json={**LEG, "timezone": "Mars/Olympus"}, headers={"Idempotency-Key": "v"}
    )
    assert replay.status_code == 400 and replay.headers["Idempotent-Replayed"] == "true"
    async with server.client("osk_" + "x" * 40) as stranger:
        denied = await stranger.post(path, json=LEG, headers={"Idempotency-Key": "u"})
    assert denied.status_code == 401
    async with server.db.read() as conn:
        keys = (await conn.execute(select(t.idempotency_records.c.key))).scalars().all()
    assert "u" not in keys and "v" in keys


async def test_server_errors_release_the_key(server, alice):
    """A 5xx is not cached: the retry executes. A route added for the test fails its first call."""
    from app.server.auth import CurrentKey

    calls = []

    async def flaky(key: CurrentKey) -> dict:
        calls.append(key.key_id)
        if len(calls) == 1:
            raise RuntimeError("disk on fire")
        return {"calls": len(calls)}

    server.app.add_api_route("/api/v1/test-flaky", flaky, methods=["POST"])
    first = await alice.http.post("/test-flaky", json={}, headers={"Idempotency-Key": "boom"})
    assert first.status_code == 500
    retry = await alice.http.post("/test-flaky", json={}, headers={"Idempotency-Key": "boom"})
    assert retry.status_code == 200 and retry.json() == {"calls": 2}
    replay = await alice.http.post("/test-flaky", json={}, headers={"Idempotency-Key": "boom"})
    assert replay.json() == {"calls": 2} and replay.headers["Idempotent-Replayed"] == "true"
    assert len(calls) == 2


async def test_holds_across_two_server_instances_on_one_database(server, alice, trip):
    """A second app with its own engines on the same database file: as a second process would."""
    second_db = Database(server.db.url)
    second = create_app(server.app.state.settings, second_db)
    async with second.router.lifespan_context(second):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=second),
            base_url=str(alice.http.base_url),
            headers={"Authorization": f"Bearer {alice.key}"},
        ) as other:
            path = f"/trips/{trip['_id']}/legs"
            responses = await asyncio.gather(
                *(
                    client.post(path, json=LEG, headers={"Idempotency-Key": "two"})
                    for client in [alice.http, other] * 5
                )
            )
    assert len({r.content for r in responses}) == 1
    assert await leg_count(alice, trip) == 1


async def test_duplicate_waits_then_gets_in_progress(server, alice):
    """While the first still runs after the wait, the duplicate gets 409 + Retry-After; once the
    first has answered, the duplicate replays it. A route added for the test runs until told."""
    from app.server.auth import CurrentKey

    server.app.state.idempotency.wait_seconds = 0.3
    # On SQLite the rate limiter's counter shares the one write connection, which the running
    # request holds: without it the duplicate reaches the claim while the first runs.
    server.app.state.rate_limiter = None
    release, calls = asyncio.Event(), []

    async def slow(key: CurrentKey) -> dict:
        calls.append(key.key_id)
        await release.wait()
        return {"calls": len(calls)}

    server.app.add_api_route("/api/v1/test-slow", slow, methods=["POST"])
    first = asyncio.create_task(alice.http.post("/test-slow", json={}, headers={"Idempotency-Key": "slow"}))
    while not calls:
        await asyncio.sleep(0.01)
    response = await alice.http.post("/test-slow", json={}, headers={"Idempotency-Key": "slow"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "IDEMPOTENCY_IN_PROGRESS"
    assert response.headers["Retry-After"] == "1"
    release.set()
    assert (await first).json() == {"calls": 1}
    replay = await alice.http.post("/test-slow", json={}, headers={"Idempotency-Key": "slow"})
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.json() == {"calls": 1}
    assert len(calls) == 1


async def test_abandoned_claim_of_a_dead_process_is_taken_over(server, alice, trip):
    path = f"/trips/{trip['_id']}/legs"
    first = await alice.http.post(path, json=LEG, headers={"Idempotency-Key": "crash"})
    # Make the record look like a request whose process died mid-flight (pid 1 never matches the
    # start time we write, and no Tripdeck server runs as init).
    async with server.db.write() as conn:
        await conn.execute(
            update(t.idempotency_records)
            .where(t.idempotency_records.c.key == "crash")
            .values(
                state="in_progress",
                status_code=None,
                response_body=f"{socket.gethostname()}|1|never-a-start-time|dead",
            )
        )
    retry = await alice.http.post(path, json={**LEG}, headers={"Idempotency-Key": "crash"})
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry.headers
    assert retry.json()["_id"] != first.json()["_id"]


async def test_expired_record_is_executed_again(server, alice, trip):
    path = f"/trips/{trip['_id']}/legs"
    await alice.http.post(path, json=LEG, headers={"Idempotency-Key": "old"})
    async with server.db.write() as conn:
        await conn.execute(update(t.idempotency_records).values(expires_at=0))
    again = await alice.http.post(path, json=LEG, headers={"Idempotency-Key": "old"})
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert await leg_count(alice, trip) == 2


async def test_crash_after_commit_before_the_answer_was_stored(server, alice, trip):
    """The state a crash leaves when the sync committed but its answer was never stored: the
    retry executes again and, by clientRef, updates the same rows instead of duplicating them."""
    path = f"/trips/{trip['_id']}/sync"
    body = {
        "mapPins": [{"name": f"P{i}", "lat": 0, "lng": 0, "clientRef": f"p{i}"} for i in range(5)],
        "legs": [{**LEG, "clientRef": "l"}],
    }
    first = await alice.http.post(path, json=body, headers={"Idempotency-Key": "late"})
    async with server.db.write() as conn:
        await conn.execute(
            update(t.idempotency_records)
            .where(t.idempotency_records.c.key == "late")
            .values(
                state="in_progress", status_code=None, response_body=f"{socket.gethostname()}|1|never|dead"
            )
        )
    retry = await alice.http.post(path, json=body, headers={"Idempotency-Key": "late"})
    assert retry.status_code == 200 and "Idempotent-Replayed" not in retry.headers
    assert retry.json()["mapPins"]["updated"] == 5 and retry.json()["legs"]["updated"] == 1
    assert [i["_id"] for i in retry.json()["mapPins"]["items"]] == [
        i["_id"] for i in first.json()["mapPins"]["items"]
    ]
    export = (await alice.http.get(f"/trips/{trip['_id']}/export")).json()
    assert len(export["mapPins"]) == 5 and len(export["legs"]) == 1


async def test_a_task_started_by_a_claimed_request_keeps_its_own_transactions(server, alice, trip):
    """A background task copies the request's context; it must not join the request's shared
    transaction (one connection used by two tasks at once), and its write stands on its own."""
    from app.server.auth import CurrentKey

    tasks: list[asyncio.Task] = []

    async def spawns(key: CurrentKey) -> dict:
        async def background() -> None:
            async with server.db.write() as conn:
                await conn.execute(
                    update(t.trips).where(t.trips.c.id == trip["_id"]).values(title="Background")
                )

        tasks.append(asyncio.get_running_loop().create_task(background()))
        await asyncio.sleep(0.05)  # the task runs while the request still holds its transaction
        raise RuntimeError("the request fails; its own writes roll back, the task's do not")

    server.app.add_api_route("/api/v1/test-spawns", spawns, methods=["POST"])
    failed = await alice.http.post("/test-spawns", json={}, headers={"Idempotency-Key": "spawn"})
    assert failed.status_code == 500
    await asyncio.wait_for(tasks[0], 10)
    assert (await alice.http.get(f"/trips/{trip['_id']}")).json()["title"] == "Background"


async def test_a_utf16_body_is_not_the_same_request_as_its_utf8_twin(alice, trip):
    """The API refuses UTF-16 (400); a UTF-8 request with the same key and the same JSON is a
    different request, not a replay of that 400."""
    path = f"/trips/{trip['_id']}/legs"
    headers = {"Idempotency-Key": "utf", "Content-Type": "application/json"}
    refused = await alice.http.post(path, content=json.dumps(LEG).encode("utf-16"), headers=headers)
    assert refused.status_code == 400
    again = await alice.http.post(path, content=json.dumps(LEG).encode("utf-8"), headers=headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "IDEMPOTENCY_CONFLICT", again.text


async def test_a_body_with_a_utf8_byte_order_mark_is_the_same_request(alice, trip):
    path = f"/trips/{trip['_id']}/legs"
    headers = {"Idempotency-Key": "bom", "Content-Type": "application/json"}
    first = await alice.http.post(path, content=b"\xef\xbb\xbf" + json.dumps(LEG).encode(), headers=headers)
    assert first.status_code == 201, first.text
    again = await alice.http.post(path, content=json.dumps(LEG).encode(), headers=headers)
    assert again.headers.get("Idempotent-Replayed") == "true" and again.content == first.content


async def test_a_body_escaping_a_lone_surrogate_is_refused_and_replayed_not_a_500(alice, trip):
    """`"\\ud800"` is valid JSON escaping but no UTF-8 text: the API refuses the body (400), and
    the Idempotency-Key's fingerprint of it must not crash first."""
    path = f"/trips/{trip['_id']}/legs"
    headers = {"Idempotency-Key": "surrogate", "Content-Type": "application/json"}
    body = b'{"title": "a\\ud800b"}'
    refused = await alice.http.post(path, content=body, headers=headers)
    assert refused.status_code == 400, refused.text
    again = await alice.http.post(path, content=body, headers=headers)
    assert again.headers.get("Idempotent-Replayed") == "true" and again.content == refused.content
