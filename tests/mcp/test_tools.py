"""Every MCP tool against the real service in-process: the MCP server built by `build_server`,
its `TripClient` on `httpx.ASGITransport`, driven by the mcp SDK's in-process client."""

from __future__ import annotations

import json

import httpx
import pytest
from mcp import Client, MCPError

from app.client import TripClient
from app.mcp import build_server
from tests.conftest import BASE


def connect(server, key: str, **options) -> Client:
    def make_client() -> TripClient:
        return TripClient(
            api_key=key, base_url=BASE, transport=httpx.ASGITransport(app=server.app), **options
        )

    return Client(build_server(make_client))


async def call(client: Client, tool: str, **arguments) -> dict:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content[0].text
    assert json.loads(result.content[0].text) == result.structured_content
    return result.structured_content


async def fail(client: Client, tool: str, **arguments) -> dict:
    result = await client.call_tool(tool, arguments)
    assert result.is_error, result
    return result.structured_content["error"]


LEG = {
    "order": 1,
    "title": "Tokyo",
    "destination": "Tokyo",
    "startDate": "2026-07-15",
    "endDate": "2026-07-18",
    "timezone": "Asia/Tokyo",
}


async def new_trip(agent: Client, title: str = "Japan") -> dict:
    return await call(agent, "create_trip", title=title, start_date="2026-07-15", end_date="2026-07-22")


async def test_me_and_trips(server, alice):
    async with connect(server, alice.key) as agent:
        me = await call(agent, "me")
        assert me["email"] == "alice@example.com" and me["defaultGroupId"]
        trip = await new_trip(agent)
        assert trip["groupId"] == me["defaultGroupId"] and trip["createdBy"] == alice.user_id
        second = await call(
            agent,
            "create_trip",
            title="Two",
            start_date="2026-08-01",
            end_date="2026-08-02",
            group_id=me["defaultGroupId"],
        )

        first_page = await call(agent, "list_trips", limit=1)
        assert len(first_page["items"]) == 1 and first_page["nextCursor"]
        rest = await call(agent, "list_trips", limit=1, cursor=first_page["nextCursor"])
        assert {t["_id"] for t in first_page["items"] + rest["items"]} == {trip["_id"], second["_id"]}

        renamed = await call(agent, "update_trip", trip_id=trip["_id"], title="Japan 🗾", status="active")
        assert (renamed["title"], renamed["status"], renamed["endDate"]) == (
            "Japan 🗾",
            "active",
            "2026-07-22",
        )
        assert (await call(agent, "get_trip", trip_id=trip["_id"]))["revision"] == renamed["revision"]
        assert (await fail(agent, "update_trip", trip_id=trip["_id"]))["code"] == "NOTHING_TO_CHANGE"
        archived = await call(agent, "archive_trip", trip_id=trip["_id"])
        assert archived["status"] == "completed"


async def test_legs(server, alice):
    async with connect(server, alice.key) as agent:
        trip_id = (await new_trip(agent))["_id"]
        leg = await call(
            agent,
            "add_leg",
            trip_id=trip_id,
            leg={
                **LEG,
                "flights": [
                    {
                        "airline": "JL",
                        "flightNumber": "JL44",
                        "from": "LHR",
                        "to": "HND",
                        "departureTime": "2026-07-15T09:00",
                    }
                ],
                "rentalCar": {"company": "Toyota Rent", "pickupTime": "2026-07-16T10:00"},
            },
        )
        assert leg["flights"][0]["from"] == "LHR" and leg["rentalCar"]["company"] == "Toyota Rent"
        changed = await call(
            agent,
            "update_leg",
            trip_id=trip_id,
            leg_id=leg["_id"],
            changes={"title": "Tokyo & Yokohama", "rentalCar": None},
        )
        assert changed["title"] == "Tokyo & Yokohama" and changed["rentalCar"] is None
        assert changed["flights"] == leg["flights"]
        assert (await call(agent, "get_leg", trip_id=trip_id, leg_id=leg["_id"]))[
            "title"
        ] == "Tokyo & Yokohama"
        assert [row["_id"] for row in (await call(agent, "list_legs", trip_id=trip_id))["items"]] == [
            leg["_id"]
        ]
        assert await call(agent, "remove_leg", trip_id=trip_id, leg_id=leg["_id"]) == {
            "removed": True,
            "kind": "leg",
            "id": leg["_id"],
        }
        assert (await call(agent, "list_legs", trip_id=trip_id))["items"] == []
        assert (await fail(agent, "get_leg", trip_id=trip_id, leg_id=leg["_id"]))["code"] == "NOT_FOUND"


async def test_map_pins_action_items_and_commitments(server, alice):
    async with connect(server, alice.key) as agent:
        trip_id = (await new_trip(agent))["_id"]
        pin = await call(
            agent, "add_map_pin", trip_id=trip_id, pin={"name": "Senso-ji", "lat": 35.7148, "lng": 139.7967}
        )
        pin = await call(
            agent, "update_map_pin", trip_id=trip_id, pin_id=pin["_id"], changes={"notes": "go early"}
        )
        assert pin["notes"] == "go early" and pin["name"] == "Senso-ji"
        assert (await call(agent, "get_map_pin", trip_id=trip_id, pin_id=pin["_id"]))["lat"] == 35.7148

        item = await call(
            agent,
            "add_action_item",
            trip_id=trip_id,
            item={"text": "Get a Suica card", "urgency": "before_trip", "owner": alice.user_id},
        )
        done = await call(
            agent, "update_action_item", trip_id=trip_id, item_id=item["_id"], changes={"done": True}
        )
        assert done["done"] is True and done["text"] == "Get a Suica card"
        assert (await call(agent, "get_action_item", trip_id=trip_id, item_id=item["_id"]))[
            "owner"
        ] == alice.user_id
        assert len((await call(agent, "list_action_items", trip_id=trip_id))["items"]) == 1

        dinner = await call(
            agent,
            "add_commitment",
            trip_id=trip_id,
            commitment={
                "title": "Sushi",
                "startDate": "2026-07-16",
                "category": "dinner",
                "startTime": "19:00",
                "endTime": "21:00",
                "timezone": "Asia/Tokyo",
                "mapPinId": pin["_id"],
            },
        )
        moved = await call(
            agent,
            "update_commitment",
            trip_id=trip_id,
            commitment_id=dinner["_id"],
            changes={"startTime": "19:30"},
        )
        assert moved["startTime"] == "19:30" and moved["mapPinId"] == pin["_id"]
        assert (await call(agent, "get_commitment", trip_id=trip_id, commitment_id=dinner["_id"]))[
            "title"
        ] == "Sushi"
        assert [c["_id"] for c in (await call(agent, "list_commitments", trip_id=trip_id))["items"]] == [
            dinner["_id"]
        ]

        for tool, key, value in (
            ("remove_commitment", "commitment_id", dinner["_id"]),
            ("remove_action_item", "item_id", item["_id"]),
            ("remove_map_pin", "pin_id", pin["_id"]),
        ):
            assert (await call(agent, tool, trip_id=trip_id, **{key: value}))["removed"] is True
        assert (await call(agent, "list_map_pins", trip_id=trip_id))["items"] == []


async def test_api_validation_errors_carry_their_details(server, alice):
    async with connect(server, alice.key) as agent:
        trip_id = (await new_trip(agent))["_id"]
        error = await fail(
            agent,
            "add_commitment",
            trip_id=trip_id,
            commitment={
                "title": "Ghost",
                "startDate": "2026-07-16",
                "category": "other",
                "legId": "no-such-leg",
            },
        )
        assert (error["status"], error["code"]) == (400, "VALIDATION_ERROR")
        assert {"path": "legId", "reason": "not_found"} in error["details"]
        assert error["requestId"]


async def test_arguments_that_break_the_schema_are_tool_errors(server, alice):
    async with connect(server, alice.key) as agent:
        trip_id = (await new_trip(agent))["_id"]
        result = await agent.call_tool(
            "add_leg", {"trip_id": trip_id, "leg": {**LEG, "startDate": "2026-02-30"}}
        )
        assert result.is_error and "startDate" in result.content[0].text
        result = await agent.call_tool(
            "add_map_pin", {"trip_id": trip_id, "pin": {"name": "x", "lat": 91, "lng": 0}}
        )
        assert result.is_error
        result = await agent.call_tool("get_trip", {"trip_id": ""})
        assert result.is_error
        assert (await call(agent, "list_map_pins", trip_id=trip_id))["items"] == []


async def test_a_retried_write_with_the_same_idempotency_key_happens_once(server, alice):
    async with connect(server, alice.key) as agent:
        trip_id = (await new_trip(agent))["_id"]
        arguments = {
            "trip_id": trip_id,
            "pin": {"name": "Shibuya", "lat": 35.66, "lng": 139.70},
            "idempotency_key": "agent-1",
        }
        first = await call(agent, "add_map_pin", **arguments)
        again = await call(agent, "add_map_pin", **arguments)
        assert again["_id"] == first["_id"]
        assert len((await call(agent, "list_map_pins", trip_id=trip_id))["items"]) == 1
        conflict = await fail(
            agent, "add_map_pin", **{**arguments, "pin": {"name": "Other", "lat": 0, "lng": 0}}
        )
        assert conflict["code"] == "IDEMPOTENCY_CONFLICT"


async def test_chat(server, alice):
    async with connect(server, alice.key) as agent:
        trip_id = (await new_trip(agent))["_id"]
        channels = await call(agent, "list_channels", trip_id=trip_id)
        assert [c["name"] for c in channels["items"]] == ["general"]
        general = channels["items"][0]["_id"]
        question = await call(
            agent, "send_message", trip_id=trip_id, content="Ramen tonight?\n\x1b[31mred\x1b[0m"
        )
        assert (
            question["channelId"] == general and question["content"] == "Ramen tonight?\n\x1b[31mred\x1b[0m"
        )
        reply = await call(
            agent,
            "send_message",
            trip_id=trip_id,
            content="Yes",
            channel_id=general,
            parent_id=question["_id"],
        )
        assert reply["parentId"] == question["_id"]
        food = await call(agent, "create_channel", trip_id=trip_id, name="food")
        await call(agent, "send_message", trip_id=trip_id, content="Tsukiji at 6", channel_id=food["_id"])
        assert [m["content"] for m in (await call(agent, "list_messages", trip_id=trip_id))["items"]] == [
            "Yes",
            "Ramen tonight?\n\x1b[31mred\x1b[0m",
        ]
        older = await call(agent, "list_messages", trip_id=trip_id, limit=1)
        assert [m["content"] for m in older["items"]] == ["Yes"] and older["nextCursor"]
        assert [
            m["content"]
            for m in (await call(agent, "list_messages", trip_id=trip_id, channel_id=food["_id"]))["items"]
        ] == ["Tsukiji at 6"]


async def test_members(server, alice, bob):
    async with connect(server, alice.key) as agent:
        trip_id = (await new_trip(agent))["_id"]
        added = await call(agent, "add_member", trip_id=trip_id, email=bob.email, role="viewer")
        assert (added["userId"], added["role"]) == (bob.user_id, "viewer")
        assert (await call(agent, "update_member", trip_id=trip_id, user_id=bob.user_id, role="editor"))[
            "role"
        ] == "editor"
        roles = {
            m["userId"]: m["role"] for m in (await call(agent, "list_members", trip_id=trip_id))["items"]
        }
        assert roles[bob.user_id] == "editor" and "owner" in roles.values()
        assert (await call(agent, "remove_member", trip_id=trip_id, user_id=bob.user_id))["removed"] is True
        bad_role = await agent.call_tool(
            "add_member", {"trip_id": trip_id, "email": bob.email, "role": "captain"}
        )
        assert bad_role.is_error and "role" in bad_role.content[0].text


async def test_another_users_trip_is_forbidden_or_missing(server, alice, make_actor):
    async with connect(server, alice.key) as agent:
        trip_id = (await new_trip(agent))["_id"]
        stranger = await make_actor()
        async with connect(server, stranger.key) as intruder:
            error = await fail(intruder, "add_leg", trip_id=trip_id, leg=LEG)
            assert error["status"] in (403, 404) and error["requestId"]


async def test_an_unreachable_service_is_a_tool_error_not_a_crash(alice):
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    server = build_server(
        lambda: TripClient(
            api_key=alice.key, base_url=BASE, transport=httpx.MockTransport(unreachable), max_retries=0
        )
    )
    async with Client(server) as agent:
        error = await fail(agent, "me")
        assert error["code"] == "CONNECTION_ERROR" and "connection refused" in error["message"]
        assert (await fail(agent, "list_trips"))["code"] == "CONNECTION_ERROR"


async def test_resource_errors_carry_the_api_error(server, alice):
    async with connect(server, alice.key) as agent:
        with pytest.raises(MCPError) as caught:
            await agent.read_resource("trip://no-such-trip/export")
        assert caught.value.data["error"]["code"] == "NOT_FOUND"
        assert caught.value.data["error"]["requestId"]
        templates = await agent.list_resource_templates()
        assert {t.uri_template for t in templates.resource_templates} >= {
            "trip://{trip_id}/export",
            "trip://{trip_id}/summary",
        }


async def test_itinerary_summary_ops_diff_and_changes(server, alice):
    async with connect(server, alice.key) as agent:
        trip_id = (await new_trip(agent))["_id"]
        await call(
            agent,
            "add_leg",
            trip_id=trip_id,
            leg={
                **LEG,
                "stays": [
                    {"name": "Hotel Gracery", "checkIn": "2026-07-15T15:00", "lat": 35.69, "lng": 139.70}
                ],
            },
        )
        itinerary = await call(agent, "get_itinerary", trip_id=trip_id)
        assert [e["type"] for e in itinerary["events"]] == ["accommodation"]
        base = itinerary["revision"]
        cursor = (await call(agent, "get_changes", trip_id=trip_id))["cursor"]

        added = await call(
            agent,
            "apply_op",
            trip_id=trip_id,
            base_revision=base,
            type="add_event",
            payload={
                "title": "Omakase",
                "startDate": "2026-07-16",
                "category": "dinner",
                "startTime": "19:00",
                "endTime": "21:00",
            },
        )
        (event_id,) = added["result"]["affected_event_ids"]
        stale = await fail(
            agent,
            "apply_op",
            trip_id=trip_id,
            base_revision=base,
            type="remove_event",
            payload={"event_id": event_id},
        )
        assert (stale["status"], stale["code"]) == (409, "STALE_REVISION")
        assert (stale["currentRevision"], stale["baseRevision"]) == (added["new_revision"], base)
        rejected = await fail(
            agent,
            "apply_op",
            trip_id=trip_id,
            base_revision=added["new_revision"],
            type="move_event",
            payload={"event_id": event_id, "date": "2027-01-01"},
        )
        assert rejected["code"] == "OPERATION_REJECTED" and rejected["message"]

        diff = await call(agent, "get_itinerary_diff", trip_id=trip_id, since_revision=base)
        assert [o["operation_type"] for o in diff["operations"]] == ["add_event"]
        assert diff["event_diffs"] == [{"event_id": event_id, "change": "added"}]
        changes = await call(agent, "get_changes", trip_id=trip_id, since=cursor)
        assert [o["operation_type"] for o in changes["operations"]] == ["add_event"]

        await call(
            agent,
            "add_commitment",
            trip_id=trip_id,
            commitment={
                "title": "Karaoke",
                "startDate": "2026-07-16",
                "category": "activity",
                "startTime": "20:00",
                "endTime": "23:00",
            },
        )
        summary = await call(agent, "get_itinerary_summary", trip_id=trip_id)
        assert summary["events_by_type"] == {"accommodation": 1, "dinner": 1, "activity": 1}
        (conflict,) = [c for c in summary["conflicts"] if c["type"] == "overlapping_commitments"]
        assert event_id in conflict["event_ids"]
        # The stay has no check-out: it covers its leg's nights, the trip's later ones have no bed.
        (night,) = [c for c in summary["conflicts"] if c["type"] == "night_without_stay"]
        assert night["dates"][0] == LEG["endDate"] and night["event_ids"]
        resource = await agent.read_resource(f"trip://{trip_id}/summary")
        assert json.loads(resource.contents[0].text) == summary
        events = json.loads((await agent.read_resource(f"trip://{trip_id}/itinerary")).contents[0].text)[
            "events"
        ]
        assert [e["title"] for e in events] == ["Hotel Gracery", "Omakase", "Karaoke"]
        # Instants in the commitment's leg-less zone are null (floating); the stay's are in its leg's.
        assert (
            events[0]["starts_at"] == f"{LEG['startDate']}T15:00:00+09:00" and events[1]["starts_at"] is None
        )


async def test_sync_batch_export_and_share_link(server, alice):
    async with connect(server, alice.key) as agent:
        trip_id = (await new_trip(agent))["_id"]
        legs = [{**LEG, "clientRef": "tokyo"}]
        pins = [
            {"name": "Skytree", "lat": 35.71, "lng": 139.81, "clientRef": "sky"},
            {"name": "Nowhere", "lat": 500, "lng": 0},
        ]
        dry = await call(agent, "sync_trip", trip_id=trip_id, legs=legs, map_pins=pins, dry_run=True)
        assert dry["dryRun"] is True and dry["legs"]["created"] == 1
        assert (dry["mapPins"]["created"], dry["mapPins"]["errors"]) == (1, 1)
        assert dry["mapPins"]["items"][1]["error"]["code"] == "VALIDATION_ERROR"
        assert (await call(agent, "list_legs", trip_id=trip_id))["items"] == []
        real = await call(agent, "sync_trip", trip_id=trip_id, legs=legs, map_pins=pins)
        assert (real["legs"]["created"], real["mapPins"]["created"], real["mapPins"]["errors"]) == (1, 1, 1)
        assert (await fail(agent, "sync_trip", trip_id=trip_id))["code"] == "NOTHING_TO_SYNC"

        batch = await call(
            agent,
            "batch_upsert",
            trip_id=trip_id,
            kind="action_items",
            items=[
                {"text": "Book the ryokan", "urgency": "now", "clientRef": "ryokan"},
                {"text": "", "urgency": "now"},
            ],
        )
        assert (batch["created"], batch["errors"]) == (1, 1)
        again = await call(
            agent,
            "batch_upsert",
            trip_id=trip_id,
            kind="map_pins",
            items=[{"clientRef": "sky", "name": "Tokyo Skytree", "lat": 35.71, "lng": 139.81}],
        )
        assert again["updated"] == 1

        export = await call(agent, "export_trip", trip_id=trip_id)
        assert [p["name"] for p in export["mapPins"]] == ["Tokyo Skytree"]
        assert [a["text"] for a in export["actionItems"]] == ["Book the ryokan"]
        resource = await agent.read_resource(f"trip://{trip_id}/export")
        assert json.loads(resource.contents[0].text) == export

        link = await call(agent, "create_share_link", trip_id=trip_id)
        assert link["token"] and link["token"] in link["url"]
        assert (await call(agent, "revoke_share_link", trip_id=trip_id))["removed"] is True


async def test_list_ssh_keys_shows_the_users_keys_and_no_tool_adds_one(server, alice):
    import asyncssh

    key = asyncssh.generate_private_key("ssh-ed25519", comment="laptop")
    added = await alice.http.post("/me/ssh-keys", json={"publicKey": key.export_public_key().decode()})
    assert added.status_code == 201
    async with connect(server, alice.key) as agent:
        listed = await call(agent, "list_ssh_keys")
        assert [(k["_id"], k["fingerprint"], k["name"]) for k in listed["items"]] == [
            (added.json()["_id"], key.get_fingerprint(), "laptop")
        ]
        assert not any(
            "ssh" in tool.name and tool.name != "list_ssh_keys" for tool in (await agent.list_tools()).tools
        )
