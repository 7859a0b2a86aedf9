"""`trip mcp` as a real subprocess against a real `trip serve`, driven over stdio by the mcp
SDK's own client: the path an agent's MCP host takes."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import uuid

import pytest
from mcp import Client

from tests.cli_server import ROOT, child_env, free_port
from tests.mcp.conftest import mcp_session

pytestmark = pytest.mark.slow

EXPECTED_TOOLS = {
    "me",
    "list_ssh_keys",
    "list_trips",
    "get_trip",
    "create_trip",
    "update_trip",
    "archive_trip",
    "export_trip",
    "get_itinerary",
    "get_itinerary_summary",
    "get_itinerary_diff",
    "apply_op",
    "get_changes",
    "list_activity",
    "revert_operation",
    "list_legs",
    "get_leg",
    "add_leg",
    "update_leg",
    "remove_leg",
    "list_map_pins",
    "get_map_pin",
    "add_map_pin",
    "update_map_pin",
    "remove_map_pin",
    "list_action_items",
    "get_action_item",
    "add_action_item",
    "update_action_item",
    "remove_action_item",
    "list_commitments",
    "get_commitment",
    "add_commitment",
    "update_commitment",
    "remove_commitment",
    "batch_upsert",
    "sync_trip",
    "list_channels",
    "create_channel",
    "list_messages",
    "send_message",
    "list_members",
    "add_member",
    "update_member",
    "remove_member",
    "create_share_link",
    "revoke_share_link",
}


def ok(result) -> dict:
    assert not result.is_error, result.content[0].text
    assert json.loads(result.content[0].text) == result.structured_content
    return result.structured_content


def email() -> str:
    return f"agent-{uuid.uuid4().hex[:8]}@example.com"


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(process.stderr.read().decode(errors="replace"))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on port {port}")


async def test_an_agent_plans_a_trip_over_stdio(api_server):
    key = api_server.key(email())
    async with mcp_session(api_server.url, key) as session:
        listed = await session.list_tools()
        tools = {tool.name: tool for tool in listed.tools}
        assert set(tools) == EXPECTED_TOOLS
        for tool in tools.values():
            assert tool.description and tool.input_schema["type"] == "object"
            assert tool.output_schema is not None
        assert "leg" in tools["add_leg"].input_schema["required"]
        assert tools["get_trip"].annotations.read_only_hint is True
        assert tools["remove_leg"].annotations.destructive_hint is True

        trip = ok(
            await session.call_tool(
                "create_trip",
                {"title": "Lisbon ☀ «weekend»", "start_date": "2026-09-10", "end_date": "2026-09-13"},
            )
        )
        assert trip["title"] == "Lisbon ☀ «weekend»" and trip["status"] == "draft"
        trip_id = trip["_id"]

        leg = ok(
            await session.call_tool(
                "add_leg",
                {
                    "trip_id": trip_id,
                    "leg": {
                        "order": 1,
                        "title": "Alfama",
                        "destination": "Lisbon",
                        "startDate": "2026-09-10",
                        "endDate": "2026-09-13",
                        "timezone": "Europe/Lisbon",
                        "accommodation": {
                            "name": "Casa do Largo",
                            "checkIn": "2026-09-10T15:00",
                            "lat": 38.71,
                            "lng": -9.13,
                        },
                    },
                },
            )
        )
        assert leg["accommodation"]["name"] == "Casa do Largo"
        pin = ok(
            await session.call_tool(
                "add_map_pin",
                {
                    "trip_id": trip_id,
                    "pin": {
                        "name": "Miradouro de Santa Luzia",
                        "lat": 38.7118,
                        "lng": -9.1305,
                        "category": "view",
                    },
                },
            )
        )
        assert pin["tripId"] == trip_id

        summary = ok(await session.call_tool("get_itinerary_summary", {"trip_id": trip_id}))
        assert summary["trip_id"] == trip_id and summary["events_by_type"].get("accommodation") == 1
        resource = await session.read_resource(f"trip://{trip_id}/summary")
        assert json.loads(resource.contents[0].text)["revision"] == summary["revision"]
        export = json.loads((await session.read_resource(f"trip://{trip_id}/export")).contents[0].text)
        assert [p["name"] for p in export["mapPins"]] == ["Miradouro de Santa Luzia"]

        sent = ok(
            await session.call_tool("send_message", {"trip_id": trip_id, "content": "Who's in for fado? <b>"})
        )
        page = ok(await session.call_tool("list_messages", {"trip_id": trip_id}))
        assert [m["content"] for m in page["items"]] == ["Who's in for fado? <b>"]
        assert page["items"][0]["_id"] == sent["_id"]


async def test_a_read_only_key_gets_403_as_a_tool_error_and_the_server_keeps_going(api_server):
    owner = email()
    async with mcp_session(api_server.url, api_server.key(owner)) as session:
        trip = ok(
            await session.call_tool(
                "create_trip", {"title": "Read me", "start_date": "2026-10-01", "end_date": "2026-10-02"}
            )
        )
    read_only = api_server.key(owner, "trips:read")
    async with mcp_session(api_server.url, read_only) as session:
        denied = await session.call_tool(
            "add_map_pin", {"trip_id": trip["_id"], "pin": {"name": "x", "lat": 0, "lng": 0}}
        )
        assert denied.is_error
        error = denied.structured_content["error"]
        assert error["status"] == 403 and error["code"] == "FORBIDDEN"
        assert error["requestId"] and error["message"]
        assert denied.content[0].text.startswith("403 FORBIDDEN: ")
        assert f"[request {error['requestId']}]" in denied.content[0].text

        # The same server still answers what the key may do.
        assert ok(await session.call_tool("get_trip", {"trip_id": trip["_id"]}))["title"] == "Read me"
        missing = await session.call_tool("get_trip", {"trip_id": "no-such-trip"})
        assert missing.is_error and missing.structured_content["error"]["code"] == "NOT_FOUND"


async def test_streamable_http_serves_the_same_tools(api_server):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "mcp", "--http", "--port", str(port)],
        cwd=ROOT,
        env=child_env(TRIP_API_URL=api_server.url, TRIP_API_KEY=api_server.key(email())),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, process)
        async with Client(f"http://127.0.0.1:{port}/mcp") as agent:
            assert {tool.name for tool in (await agent.list_tools()).tools} == EXPECTED_TOOLS
            trip = ok(
                await agent.call_tool(
                    "create_trip",
                    {"title": "Over HTTP", "start_date": "2026-11-01", "end_date": "2026-11-03"},
                )
            )
            assert ok(await agent.call_tool("get_trip", {"trip_id": trip["_id"]}))["title"] == "Over HTTP"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_without_a_key_trip_mcp_says_so_and_exits():
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "mcp"],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "TRIP_API_KEY" in result.stderr and result.stdout == ""
