"""GET /trips/{tripId}/changes: the live changes feed (long poll)."""

import asyncio
import socket
import time

import httpx
import pytest
import uvicorn
from sqlalchemy import update

from app.server.app import create_app
from app.server.auth import hash_key
from app.server.storage import tables as t
from app.server.storage.accounts import revoke_key
from app.server.storage.database import Database
from tests.conftest import BASE, new_trip

LEG = {
    "order": 0,
    "title": "Tokyo",
    "destination": "Tokyo",
    "startDate": "2026-07-15",
    "endDate": "2026-07-18",
    "timezone": "Asia/Tokyo",
    "flights": [{"from": "LHR", "to": "HND", "departureTime": "2026-07-15T09:30"}],
}


async def cursor_of(actor, trip_id) -> str:
    response = await actor.http.get(f"/trips/{trip_id}/changes")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["operations"] == [] and body["messages"] == []
    return body["cursor"]


async def general(actor, trip_id) -> str:
    return (await actor.http.get(f"/trips/{trip_id}/channels")).json()["items"][0]["_id"]


async def held(actor, trip_id, cursor, wait=10):
    started = time.monotonic()
    response = await actor.http.get(f"/trips/{trip_id}/changes", params={"since": cursor, "wait": wait})
    assert response.status_code == 200, response.text
    return response.json(), time.monotonic() - started


async def waiting(hub, count=1):
    for _ in range(500):
        if hub.waiting >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{hub.waiting} waiting, expected {count}")


async def test_without_since_returns_the_current_cursor_only(alice, trip):
    body = (await alice.http.get(f"/trips/{trip['_id']}/changes", params={"wait": 5})).json()
    assert set(body) == {"cursor", "revision", "operations", "messages"}
    assert body["revision"] == 1 and body["operations"] == [] and body["messages"] == []


async def test_long_poll_wakes_on_a_message(server, alice, trip):
    trip_id = trip["_id"]
    cursor = await cursor_of(alice, trip_id)
    channel = await general(alice, trip_id)
    poll = asyncio.create_task(held(alice, trip_id, cursor))
    await waiting(server.app.state.change_hub)
    sent_at = time.monotonic()
    sent = (
        await alice.http.post(f"/trips/{trip_id}/channels/{channel}/messages", json={"content": "hi <all>"})
    ).json()
    body, _ = await poll
    assert time.monotonic() - sent_at < 1.0
    assert [m["_id"] for m in body["messages"]] == [sent["_id"]]
    assert body["messages"][0]["content"] == "hi <all>" and body["operations"] == []
    assert body["revision"] == 1  # messages do not bump the revision
    assert server.app.state.change_hub.waiting == 0
    # The next poll from the new cursor has nothing yet: it waits, then answers empty with the same cursor.
    again, elapsed = await held(alice, trip_id, body["cursor"], wait=0.3)
    assert again == {"cursor": body["cursor"], "revision": 1, "operations": [], "messages": []}
    assert elapsed >= 0.3


async def test_long_poll_wakes_on_a_leg_edit(server, alice, trip):
    trip_id = trip["_id"]
    cursor = await cursor_of(alice, trip_id)
    poll = asyncio.create_task(held(alice, trip_id, cursor))
    await waiting(server.app.state.change_hub)
    sent_at = time.monotonic()
    leg = (await alice.http.post(f"/trips/{trip_id}/legs", json=LEG)).json()
    body, _ = await poll
    assert time.monotonic() - sent_at < 1.0
    assert body["revision"] == 2
    assert body["operations"] == [
        {
            "op_id": body["operations"][0]["op_id"],
            "operation_type": "create_leg",
            "result_revision": 2,
            "affected_event_ids": [f"{leg['_id']}.flight.0"],
        }
    ]
    # An op through the ops endpoint arrives the same way.
    poll = asyncio.create_task(held(alice, trip_id, body["cursor"]))
    await waiting(server.app.state.change_hub)
    await alice.http.post(
        f"/trips/{trip_id}/ops",
        json={
            "base_revision": 2,
            "type": "move_event",
            "payload": {"event_id": f"{leg['_id']}.flight.0", "date": "2026-07-16"},
        },
    )
    body, _ = await poll
    assert [o["operation_type"] for o in body["operations"]] == ["move_event"] and body["revision"] == 3


async def test_backlog_answers_at_once_oldest_first(alice, trip):
    trip_id = trip["_id"]
    cursor = await cursor_of(alice, trip_id)
    channel = await general(alice, trip_id)
    other = (await alice.http.post(f"/trips/{trip_id}/channels", json={"name": "food"})).json()["_id"]
    first = (
        await alice.http.post(f"/trips/{trip_id}/channels/{channel}/messages", json={"content": "one"})
    ).json()
    await alice.http.post(f"/trips/{trip_id}/legs", json=LEG)
    second = (
        await alice.http.post(f"/trips/{trip_id}/channels/{other}/messages", json={"content": "two"})
    ).json()
    body, elapsed = await held(alice, trip_id, cursor, wait=10)
    assert elapsed < 1.0
    assert [m["_id"] for m in body["messages"]] == [first["_id"], second["_id"]]
    assert [o["result_revision"] for o in body["operations"]] == [2]


async def test_messages_only_with_messages_read(server, alice, make_actor, trip):
    trip_id = trip["_id"]
    other_trip = await new_trip(alice, "Other")
    channel = await general(alice, trip_id)
    for scopes in (["trips:read"], ["trips:read", f"messages:read:{other_trip['_id']}"]):
        reader = await make_actor(alice.email, scopes=scopes)
        cursor = await cursor_of(reader, trip_id)
        poll = asyncio.create_task(held(reader, trip_id, cursor, wait=10))
        await waiting(server.app.state.change_hub)
        await alice.http.post(f"/trips/{trip_id}/channels/{channel}/messages", json={"content": "secret"})
        await asyncio.sleep(0.3)
        assert not poll.done(), "a message this key may not read must not answer the poll"
        await alice.http.patch(f"/trips/{trip_id}", json={"title": f"Renamed {len(scopes)}"})
        body, _ = await poll
        assert body["messages"] == [] and [o["operation_type"] for o in body["operations"]] == ["update_trip"]


async def test_wakes_on_a_write_of_another_process(server, alice, trip):
    """A second app instance with its own engine stands in for another server process: its
    commit hooks do not reach this app, so only the database poll can wake the waiter."""
    trip_id = trip["_id"]
    cursor = await cursor_of(alice, trip_id)
    other = create_app(server.app.state.settings, Database(server.db.url))
    async with other.router.lifespan_context(other):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=other),
            base_url=BASE,
            headers={"Authorization": f"Bearer {alice.key}"},
        ) as second:
            channel = await general(alice, trip_id)
            poll = asyncio.create_task(held(alice, trip_id, cursor, wait=10))
            await waiting(server.app.state.change_hub)
            # On SQLite, until the database poll has taken its first look at the trip (PostgreSQL's
            # LISTEN/NOTIFY waker hears the commit instead and keeps no such record).
            for _ in range(3000 if server.db.is_sqlite else 0):
                if trip_id in server.app.state.change_hub.seen:
                    break
                await asyncio.sleep(0.01)
            # Timed from the commit (the POST's answer): the poll runs every half second.
            sent = (
                await second.post(
                    f"/trips/{trip_id}/channels/{channel}/messages", json={"content": "from afar"}
                )
            ).json()
            sent_at = time.monotonic()
            body, _ = await poll
            assert (
                time.monotonic() - sent_at < 5.0
            )  # woken by the poll (every 0.5 s), not the 10 s wait; loose for loaded CI machines
            assert [m["_id"] for m in body["messages"]] == [sent["_id"]]
            poll = asyncio.create_task(held(alice, trip_id, body["cursor"], wait=10))
            await waiting(server.app.state.change_hub)
            await second.post(f"/trips/{trip_id}/legs", json=LEG)
            sent_at = time.monotonic()
            body, _ = await poll
            assert (
                time.monotonic() - sent_at < 5.0
            )  # woken by the poll (every 0.5 s), not the 10 s wait; loose for loaded CI machines
            assert [o["operation_type"] for o in body["operations"]] == ["create_leg"]


async def test_bad_parameters(alice, trip):
    trip_id = trip["_id"]
    for params, path in (({"since": "garbage"}, "since"), ({"wait": 31}, "wait"), ({"wait": -1}, "wait")):
        response = await alice.http.get(f"/trips/{trip_id}/changes", params=params)
        assert response.status_code == 400, params
        assert response.json()["error"]["details"][0]["path"] == path
    from app.server.routes.changes import encode_cursor

    ahead = await alice.http.get(f"/trips/{trip_id}/changes", params={"since": encode_cursor(99, 0)})
    assert ahead.status_code == 400
    huge = await alice.http.get(f"/trips/{trip_id}/changes", params={"since": encode_cursor(1, 10**30)})
    assert huge.status_code == 400 and huge.json()["error"]["details"][0]["path"] == "since"


async def test_a_held_request_counts_once_against_the_rate_limit(server, alice, trip):
    class CountingLimiter:
        calls = 0

        async def check(self, request, bucket):
            self.calls += 1

    limiter = CountingLimiter()
    server.app.state.rate_limiter = limiter
    trip_id = trip["_id"]
    cursor = await cursor_of(alice, trip_id)
    limiter.calls = 0
    poll = asyncio.create_task(held(alice, trip_id, cursor, wait=10))
    await waiting(server.app.state.change_hub)
    # Messages of another trip and spurious wakeups do not make the request count again.
    server.app.state.change_hub.notify([trip_id])
    await asyncio.sleep(0.1)
    await alice.http.patch(f"/trips/{trip_id}", json={"title": "New"})
    body, _ = await poll
    assert body["operations"]
    assert limiter.calls == 2  # the long poll and the PATCH


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_disconnected_clients_leave_no_waiters(server, alice, trip):
    """Over a real HTTP server: clients that hang up mid-poll are forgotten at once, not at the
    end of their wait."""
    port = free_port()
    uv = uvicorn.Server(uvicorn.Config(server.app, port=port, log_level="warning", lifespan="off"))
    serving = asyncio.create_task(uv.serve())
    try:
        while not uv.started:
            await asyncio.sleep(0.01)
        cursor = await cursor_of(alice, trip["_id"])
        hub = server.app.state.change_hub
        writers = []
        for _ in range(5):
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                f"GET /api/v1/trips/{trip['_id']}/changes?since={cursor}&wait=30 HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: Bearer {alice.key}\r\n\r\n".encode()
            )
            await writer.drain()
            writers.append(writer)
        await waiting(hub, 5)
        for writer in writers:
            writer.close()
        for _ in range(200):
            if hub.waiting == 0:
                break
            await asyncio.sleep(0.01)
        assert hub.waiting == 0 and hub.watched() == []
    finally:
        uv.should_exit = True
        await serving


@pytest.mark.parametrize("count", [50])
async def test_many_waiters_of_one_trip_all_get_the_message(server, alice, trip, count):
    trip_id = trip["_id"]
    cursor = await cursor_of(alice, trip_id)
    channel = await general(alice, trip_id)
    polls = [asyncio.create_task(held(alice, trip_id, cursor)) for _ in range(count)]
    await waiting(server.app.state.change_hub, count)
    sent = (
        await alice.http.post(f"/trips/{trip_id}/channels/{channel}/messages", json={"content": "all"})
    ).json()
    bodies = [body for body, _ in await asyncio.gather(*polls)]
    assert all([m["_id"] for m in b["messages"]] == [sent["_id"]] for b in bodies)
    assert server.app.state.change_hub.waiting == 0


async def poll_answer(actor, trip_id, cursor, wait=10) -> httpx.Response:
    return await actor.http.get(f"/trips/{trip_id}/changes", params={"since": cursor, "wait": wait})


async def test_a_member_removed_while_held_does_not_get_what_comes_after(server, alice, bob, trip):
    """Access is checked again when a held poll answers: a message posted after the removal is
    not handed to the removed member's poll, which answers 403 as a fresh request would."""
    trip_id = trip["_id"]
    added = await alice.http.post(f"/trips/{trip_id}/members", json={"email": bob.email, "role": "editor"})
    assert added.status_code == 201, added.text
    channel = await general(alice, trip_id)
    cursor = await cursor_of(bob, trip_id)
    poll = asyncio.create_task(poll_answer(bob, trip_id, cursor))
    await waiting(server.app.state.change_hub)
    removed = await alice.http.delete(f"/trips/{trip_id}/members/{bob.user_id}")
    assert removed.status_code == 204, removed.text
    sent = await alice.http.post(
        f"/trips/{trip_id}/channels/{channel}/messages", json={"content": "after bob left"}
    )
    assert sent.status_code == 201, sent.text
    answer = await asyncio.wait_for(poll, 5)
    assert answer.status_code == 403, answer.text
    assert answer.json()["error"]["code"] == "FORBIDDEN"
    assert "not a member" in answer.json()["error"]["message"]
    assert "after bob left" not in answer.text
    assert server.app.state.change_hub.waiting == 0


async def test_a_member_removed_while_held_is_refused_at_the_end_of_the_wait(server, alice, bob, trip):
    """Nothing new came, but the answer still says what a fresh request would: 403."""
    trip_id = trip["_id"]
    await alice.http.post(f"/trips/{trip_id}/members", json={"email": bob.email, "role": "viewer"})
    cursor = await cursor_of(bob, trip_id)
    poll = asyncio.create_task(poll_answer(bob, trip_id, cursor, wait=1))
    await waiting(server.app.state.change_hub)
    assert (await alice.http.delete(f"/trips/{trip_id}/members/{bob.user_id}")).status_code == 204
    answer = await asyncio.wait_for(poll, 5)
    assert answer.status_code == 403, answer.text


async def held_poll_of_a_second_key(server, alice, make_actor, trip_id: str):
    """A second key of alice's (all scopes) and its long poll of the trip, held by the server."""
    reader = await make_actor(alice.email)
    cursor = await cursor_of(reader, trip_id)
    poll = asyncio.create_task(poll_answer(reader, trip_id, cursor))
    await waiting(server.app.state.change_hub)
    return reader, poll


async def set_scopes(server, key: str, scopes: list[str]) -> None:
    """Change a key's scopes in the database, as an operator could."""
    async with server.db.write() as conn:
        await conn.execute(
            update(t.api_keys).where(t.api_keys.c.key_hash == hash_key(key)).values(scopes=scopes)
        )


async def test_a_key_whose_scopes_shrink_while_held_is_refused(server, alice, make_actor, trip):
    """Scopes are read again at wake-up too (here narrowed in the database, as an operator could)."""
    trip_id = trip["_id"]
    reader, poll = await held_poll_of_a_second_key(server, alice, make_actor, trip_id)
    await set_scopes(server, reader.key, ["messages:read"])
    assert (await alice.http.patch(f"/trips/{trip_id}", json={"title": "Renamed"})).status_code == 200
    answer = await asyncio.wait_for(poll, 5)
    assert answer.status_code == 403, answer.text
    assert "trips:read" in answer.json()["error"]["message"]


async def test_a_key_that_loses_messages_read_while_held_gets_no_messages(server, alice, make_actor, trip):
    """A held poll that started with messages:read and lost it (trips:read kept) answers, but
    without the message posted after the scope was dropped (an outside probe got it)."""
    trip_id = trip["_id"]
    channel = (await alice.http.get(f"/trips/{trip_id}/channels")).json()["items"][0]["_id"]
    reader, poll = await held_poll_of_a_second_key(server, alice, make_actor, trip_id)
    await set_scopes(server, reader.key, ["trips:read"])
    posted = await alice.http.post(
        f"/trips/{trip_id}/channels/{channel}/messages",
        json={"content": "posted after the scope was dropped"},
    )
    assert posted.status_code == 201
    answer = await asyncio.wait_for(poll, 5)
    assert answer.status_code == 200, answer.text
    assert answer.json()["messages"] == []


async def test_a_key_revoked_while_held_is_refused(server, alice, make_actor, trip):
    trip_id = trip["_id"]
    reader, poll = await held_poll_of_a_second_key(server, alice, make_actor, trip_id)
    async with server.db.write() as conn:
        assert await revoke_key(conn, reader.key) is not None
    assert (await alice.http.patch(f"/trips/{trip_id}", json={"title": "Renamed"})).status_code == 200
    answer = await asyncio.wait_for(poll, 5)
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"]["code"] == "UNAUTHORIZED"
