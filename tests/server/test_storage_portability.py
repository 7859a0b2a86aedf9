"""Behaviour that must be the same on SQLite and PostgreSQL (the suite runs on both): text that
PostgreSQL cannot store, forged cursors, and concurrent writers of one trip."""

from __future__ import annotations

import asyncio
import base64
import json

from sqlalchemy import select

from app.server.storage import tables as t


def leg(ref: str, title: str = "Kyoto") -> dict:
    return {
        "order": 1,
        "title": title,
        "destination": "Kyoto",
        "startDate": "2026-07-16",
        "endDate": "2026-07-18",
        "timezone": "Asia/Tokyo",
        "clientRef": ref,
    }


async def general_channel(actor, trip_id: str) -> str:
    return (await actor.http.get(f"/trips/{trip_id}/channels")).json()["items"][0]["_id"]


async def test_nul_in_body_text_is_a_validation_error_naming_the_field(alice, trip):
    channel = await general_channel(alice, trip["_id"])
    sent = await alice.http.post(
        f"/trips/{trip['_id']}/channels/{channel}/messages", json={"content": "a\x00b"}
    )
    assert sent.status_code == 400, sent.text
    assert sent.json()["error"]["details"] == [{"path": "content", "reason": "invalid"}]
    nested = await alice.http.post(
        f"/trips/{trip['_id']}/legs", json={**leg("r1"), "accommodation": {"name": "Inn\x00"}}
    )
    assert nested.status_code == 400, nested.text
    assert nested.json()["error"]["details"] == [{"path": "accommodation.name", "reason": "invalid"}]
    # Other unusual text is still stored exactly.
    text = "\u202eevil\U0001f600 \t\r\n'; DROP TABLE legs; --"
    kept = await alice.http.post(f"/trips/{trip['_id']}/channels/{channel}/messages", json={"content": text})
    assert kept.status_code == 201 and kept.json()["content"] == text


async def test_nul_in_a_path_or_query_is_a_400_not_a_500(alice, trip):
    in_path = await alice.http.get(f"/trips/{trip['_id']}/legs/a%00b")
    assert in_path.status_code in (400, 404), in_path.text
    in_trip = await alice.http.get("/trips/x%00y/legs")
    assert in_trip.status_code in (400, 404), in_trip.text
    if in_trip.status_code == 400:
        assert in_trip.json()["error"]["details"] == [{"path": "tripId", "reason": "invalid"}]


async def test_forged_cursors_with_wrong_types_are_rejected(alice, trip):
    for values in (["\x00", "a"], ["text", "a"], [None, "a"], [1, 2], [True, "a"]):
        cursor = base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")
        response = await alice.http.get(f"/trips/{trip['_id']}/map-pins", params={"cursor": cursor})
        assert response.status_code == 400, (values, response.text)
        assert response.json()["error"]["details"] == [{"path": "cursor", "reason": "invalid"}]


async def test_cursor_numbers_beyond_the_column_range_are_rejected(alice, trip):
    channel = await general_channel(alice, trip["_id"])
    for value in (2**31, 2**63, 2**70, -(2**40)):
        cursor = base64.urlsafe_b64encode(json.dumps([value]).encode()).decode().rstrip("=")
        response = await alice.http.get(
            f"/trips/{trip['_id']}/channels/{channel}/messages", params={"cursor": cursor}
        )
        assert response.status_code == 400, (value, response.text)
    for value in (2**64, 1e400):
        cursor = base64.urlsafe_b64encode(json.dumps([value, "id"]).encode()).decode().rstrip("=")
        response = await alice.http.get(f"/trips/{trip['_id']}/map-pins", params={"cursor": cursor})
        assert response.status_code == 400, (value, response.text)


async def test_concurrent_creates_with_one_client_ref_make_one_row(alice, trip, server):
    responses = await asyncio.gather(
        *(alice.http.post(f"/trips/{trip['_id']}/legs", json=leg("same", f"Kyoto {i}")) for i in range(10))
    )
    assert sorted(r.status_code for r in responses) == [200] * 9 + [201], [r.text for r in responses]
    assert len({r.json()["_id"] for r in responses}) == 1
    legs = (await alice.http.get(f"/trips/{trip['_id']}/legs")).json()["items"]
    assert len(legs) == 1
    # Every write was one revision: 1 + 10.
    assert (await alice.http.get(f"/trips/{trip['_id']}")).json()["revision"] == 11


async def test_concurrent_owner_demotions_keep_an_owner(alice, bob, trip):
    added = await alice.http.post(f"/trips/{trip['_id']}/members", json={"email": bob.email, "role": "owner"})
    assert added.status_code == 201, added.text
    # Each owner demotes the other at the same moment: one must be refused.
    a, b = await asyncio.gather(
        alice.http.patch(f"/trips/{trip['_id']}/members/{bob.user_id}", json={"role": "editor"}),
        bob.http.patch(f"/trips/{trip['_id']}/members/{alice.user_id}", json={"role": "editor"}),
    )
    members = (await alice.http.get(f"/trips/{trip['_id']}/members")).json()["items"]
    assert [m["role"] for m in members].count("owner") >= 1, (a.text, b.text, members)
    assert sorted([a.status_code, b.status_code]) in ([200, 403], [200, 409]), (a.text, b.text)


async def test_message_seq_order_is_commit_order(alice, trip, server):
    """A reader that follows `seq > cursor` (as the changes feed does) sees every message, even
    while many are being posted at once."""
    channel = await general_channel(alice, trip["_id"])
    posted = 40
    seen: list[int] = []
    done = asyncio.Event()

    async def follow() -> None:
        cursor = 0
        while True:
            finished = done.is_set()
            async with server.db.read() as conn:
                rows = (
                    (
                        await conn.execute(
                            select(t.messages.c.seq)
                            .where(t.messages.c.trip_id == trip["_id"], t.messages.c.seq > cursor)
                            .order_by(t.messages.c.seq)
                        )
                    )
                    .scalars()
                    .all()
                )
            if rows:
                seen.extend(rows)
                cursor = rows[-1]
            if finished:
                return
            await asyncio.sleep(0)

    async def post(i: int) -> None:
        response = await alice.http.post(
            f"/trips/{trip['_id']}/channels/{channel}/messages", json={"content": f"m{i}"}
        )
        assert response.status_code == 201, response.text

    reader = asyncio.create_task(follow())
    await asyncio.gather(*(post(i) for i in range(posted)))
    done.set()
    await reader
    assert len(seen) == posted == len(set(seen))


async def test_text_lengths_at_the_limits_store_on_every_backend(alice, trip):
    title = "\U0001f600" * 200  # 200 characters, 800 bytes: VARCHAR(200) counts characters
    created = await alice.http.post(f"/trips/{trip['_id']}/legs", json={**leg("x" * 200), "title": title})
    assert created.status_code == 201, created.text
    assert created.json()["title"] == title
    too_long = await alice.http.post(f"/trips/{trip['_id']}/legs", json={**leg("y"), "title": title + "a"})
    assert too_long.status_code == 400
    assert too_long.json()["error"]["details"] == [{"path": "title", "reason": "too_long"}]


async def test_fetch_runs_one_statement_in_autocommit_with_sqlalchemy_types(server, alice):
    """`Database.fetch` (the hot path of the access check and the rate limit) answers rows as
    SQLAlchemy would (JSON decoded), [] for a statement without rows, and leaves no transaction
    or lock behind: a write transaction and a second fetch-write follow at once."""
    from sqlalchemy import bindparam, delete, insert

    db = server.db
    keys = await db.fetch(
        select(t.api_keys.c.scopes, t.api_keys.c.user_id).where(t.api_keys.c.user_id == bindparam("u")),
        {"u": alice.user_id},
    )
    assert keys and all(isinstance(row["scopes"], list) and row["user_id"] == alice.user_id for row in keys)
    assert await db.fetch(select(t.users.c.id).where(t.users.c.id == bindparam("u")), {"u": "nobody"}) == []
    window = t.rate_limit_windows
    add = (
        insert(window)
        .values(bucket=bindparam("b"), window_start=bindparam("w"), count=1)
        .returning(window.c.count)
    )
    assert await db.fetch(add, {"b": "fetch-test", "w": 1}, write=True) == [{"count": 1}]
    drop = delete(window).where(window.c.bucket == bindparam("b"))
    assert await asyncio.wait_for(db.fetch(drop, {"b": "fetch-test"}, write=True), 5) == []
    async with db.write() as conn:
        left = (await conn.execute(select(window).where(window.c.bucket == "fetch-test"))).all()
    assert left == []
