"""Channels (a `general` channel per trip, create) and messages (newest first, replies via
parentId). Chat needs the messages:* scopes; viewers may chat."""

from __future__ import annotations

import pytest

from tests.conftest import new_trip
from tests.server.support import assert_error, created, walk


async def general(actor, trip) -> dict:
    channels = (await actor.http.get(f"/trips/{trip['_id']}/channels")).json()["items"]
    return next(c for c in channels if c["name"] == "general")


def messages_path(trip, channel) -> str:
    return f"/trips/{trip['_id']}/channels/{channel['_id']}/messages"


async def test_create_channel_and_list(alice, trip):
    path = f"/trips/{trip['_id']}/channels"
    channel = await created(alice.http, path, {"name": "food 🍜"})
    assert channel["name"] == "food 🍜" and channel["tripId"] == trip["_id"]
    listed = (await alice.http.get(path)).json()
    assert [c["name"] for c in listed["items"]] == ["general", "food 🍜"] and listed["nextCursor"] is None
    page, pages = await walk(alice.http, path, limit=1)
    assert [c["_id"] for c in page] == [c["_id"] for c in listed["items"]] and pages == 2
    # Messages do not bump the trip revision; channels neither.
    assert (await alice.http.get(f"/trips/{trip['_id']}")).json()["revision"] == 1


async def test_channel_validation_and_duplicates(alice, trip):
    path = f"/trips/{trip['_id']}/channels"
    assert_error(await alice.http.post(path, json={"name": "general"}), 409, "CONFLICT")
    assert_error(await alice.http.post(path, json={}), 400, "VALIDATION_ERROR", {"name": "required"})
    assert_error(
        await alice.http.post(path, json={"name": "x" * 81, "topic": "t"}),
        400,
        "VALIDATION_ERROR",
        {"name": "too_long", "topic": "unknown_field"},
    )
    assert_error(
        await alice.http.get(path, params={"limit": 201}), 400, "VALIDATION_ERROR", {"limit": "out_of_range"}
    )
    # The same name in another trip is fine.
    other = await new_trip(alice, "Other")
    assert (
        await alice.http.post(f"/trips/{other['_id']}/channels", json={"name": "food"})
    ).status_code == 201
    assert (await alice.http.post(path, json={"name": "food"})).status_code == 201


async def test_post_message_and_reply(alice, trip):
    channel = await general(alice, trip)
    message = await created(alice.http, messages_path(trip, channel), {"content": "Who books the ryokan?"})
    assert message["authorId"] == alice.user_id and message["authorName"] == "Alice"
    assert message["channelId"] == channel["_id"] and message["tripId"] == trip["_id"]
    assert message["content"] == "Who books the ryokan?" and message["parentId"] is None
    reply = await created(
        alice.http, messages_path(trip, channel), {"content": "Me", "parentId": message["_id"]}
    )
    assert reply["parentId"] == message["_id"]
    listed = (await alice.http.get(messages_path(trip, channel))).json()
    assert listed == {"items": [reply, message], "nextCursor": None}


async def test_message_text_is_stored_exactly(alice, trip):
    channel = await general(alice, trip)
    content = "<script>alert(1)</script>\n\t[bold]markup[/] \x1b[31m red \u202e ｚ " + "é" * 10
    message = await created(alice.http, messages_path(trip, channel), {"content": content})
    assert message["content"] == content
    assert (await alice.http.get(messages_path(trip, channel))).json()["items"][0]["content"] == content


async def test_reply_parent_must_be_in_the_same_channel(alice, trip):
    channel = await general(alice, trip)
    food = await created(alice.http, f"/trips/{trip['_id']}/channels", {"name": "food"})
    elsewhere = await created(alice.http, messages_path(trip, food), {"content": "ramen?"})
    assert_error(
        await alice.http.post(
            messages_path(trip, channel), json={"content": "x", "parentId": elsewhere["_id"]}
        ),
        400,
        "VALIDATION_ERROR",
        {"parentId": "not_found"},
    )
    assert_error(
        await alice.http.post(messages_path(trip, channel), json={"content": "x", "parentId": "nope"}),
        400,
        "VALIDATION_ERROR",
        {"parentId": "not_found"},
    )


async def test_message_validation(alice, trip):
    path = messages_path(trip, await general(alice, trip))
    assert_error(await alice.http.post(path, json={}), 400, "VALIDATION_ERROR", {"content": "required"})
    assert_error(
        await alice.http.post(path, json={"content": "x" * 4001, "pinned": True, "parentId": 3}),
        400,
        "VALIDATION_ERROR",
        {"content": "too_long", "pinned": "unknown_field", "parentId": "invalid"},
    )
    assert (await alice.http.post(path, json={"content": "x" * 4000})).status_code == 201


async def test_messages_newest_first_and_cursor_walks_back(alice, trip, server):
    from sqlalchemy import insert

    from app.server.storage import tables as t

    channel = await general(alice, trip)
    async with server.db.write() as conn:  # 120 rows straight into storage: quicker than 120 POSTs
        for i in range(120):
            await conn.execute(
                insert(t.messages).values(
                    id=f"m{i:03d}",
                    trip_id=trip["_id"],
                    channel_id=channel["_id"],
                    author_id=alice.user_id,
                    author_name="Alice",
                    content=f"#{i}",
                    created_at=1_700_000_000_000,
                )
            )
    path = messages_path(trip, channel)
    first = (await alice.http.get(path)).json()
    assert [m["content"] for m in first["items"]] == [f"#{i}" for i in range(119, 69, -1)]  # default 50
    items, pages = await walk(alice.http, path, limit=100)
    assert [m["content"] for m in items] == [f"#{i}" for i in range(119, -1, -1)] and pages == 2
    items, pages = await walk(alice.http, path, limit=7)
    assert len(items) == 120 and len({m["_id"] for m in items}) == 120 and pages == 18
    for limit in (0, 101):
        assert_error(
            await alice.http.get(path, params={"limit": limit}),
            400,
            "VALIDATION_ERROR",
            {"limit": "out_of_range"},
        )


async def test_unknown_channel_and_channel_of_another_trip_are_404(alice, trip):
    other = await new_trip(alice, "Other")
    theirs = await general(alice, other)
    for path in (messages_path(trip, theirs), messages_path(trip, {"_id": "nope"})):
        assert_error(await alice.http.get(path), 404, "NOT_FOUND")
        assert_error(await alice.http.post(path, json={"content": "hi"}), 404, "NOT_FOUND")
    assert (await alice.http.get(messages_path(other, theirs))).json()["items"] == []


async def test_viewer_chats_and_scopes_are_separate(alice, bob, make_actor, trip):
    await alice.http.post(f"/trips/{trip['_id']}/members", json={"email": bob.email, "role": "viewer"})
    channel = await general(alice, trip)
    assert (
        await bob.http.post(messages_path(trip, channel), json={"content": "viewer here"})
    ).status_code == 201
    reader = await make_actor(alice.email, scopes=["messages:read"])
    writer = await make_actor(alice.email, scopes=["messages:write"])
    trips_only = await make_actor(alice.email, scopes=["trips:read", "trips:write"])
    assert (await reader.http.get(messages_path(trip, channel))).status_code == 200
    assert_error(
        await reader.http.post(messages_path(trip, channel), json={"content": "x"}), 403, "FORBIDDEN"
    )
    assert_error(
        await reader.http.post(f"/trips/{trip['_id']}/channels", json={"name": "x"}), 403, "FORBIDDEN"
    )
    assert (await writer.http.post(messages_path(trip, channel), json={"content": "x"})).status_code == 201
    assert_error(await writer.http.get(messages_path(trip, channel)), 403, "FORBIDDEN")
    for response in (
        await trips_only.http.get(messages_path(trip, channel)),
        await trips_only.http.get(f"/trips/{trip['_id']}/channels"),
    ):
        assert_error(response, 403, "FORBIDDEN")


@pytest.mark.parametrize("scope", ["messages:read", "messages:write"])
async def test_trip_limited_chat_key(alice, make_actor, scope):
    trip, other = await new_trip(alice), await new_trip(alice, "Other")
    limited = await make_actor(alice.email, scopes=[f"{scope}:{trip['_id']}"])
    channel = await general(alice, other)
    if scope == "messages:read":
        response = await limited.http.get(messages_path(other, channel))
    else:
        response = await limited.http.post(messages_path(other, channel), json={"content": "x"})
    assert_error(response, 403, "FORBIDDEN")
