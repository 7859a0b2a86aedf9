"""MCP tools against a service of the seed's API only (tests/seed_only.py): a tool that needs one
of our extensions answers NOT_SUPPORTED saying what the service lacks; the summary is computed
from the trip's lists instead (issue 23)."""

from __future__ import annotations

import json
import re

import httpx
from mcp import Client

from app.client import TripClient
from app.mcp import build_server
from tests.conftest import BASE
from tests.seed_only import SeedOnly


def connect(app, key: str) -> Client:
    return Client(
        build_server(lambda: TripClient(api_key=key, base_url=BASE, transport=httpx.ASGITransport(app=app)))
    )


async def test_tools_that_need_an_extension_say_the_service_lacks_it(server, alice, trip):
    async with connect(SeedOnly(server.app), alice.key) as agent:
        for tool, arguments in (
            ("get_changes", {}),
            ("list_activity", {}),
            ("get_itinerary", {}),
            ("apply_op", {"base_revision": 1, "type": "reorder", "payload": {"leg_ids": []}}),
            ("create_channel", {"name": "food"}),
        ):
            result = await agent.call_tool(tool, {"trip_id": trip["_id"], **arguments})
            assert result.is_error, tool
            error = result.structured_content["error"]
            assert error["code"] == "NOT_SUPPORTED" and error["message"].startswith(
                "this service does not support"
            )
            assert re.match(r"40[45] NOT_SUPPORTED: this service does not support ", result.content[0].text)
        missing = await agent.call_tool("get_trip", {"trip_id": "no-such-trip"})
        assert missing.structured_content["error"]["code"] == "NOT_FOUND"


async def test_the_summary_is_computed_from_the_lists(server, alice, trip):
    for title, time in (("Tea", "15:00"), ("Spa", "15:30")):
        await alice.http.post(
            f"/trips/{trip['_id']}/commitments",
            json={
                "title": title,
                "startDate": "2026-07-16",
                "startTime": time,
                "endTime": "16:00",
                "category": "activity",
            },
        )
    async with connect(server.app, alice.key) as ours, connect(SeedOnly(server.app), alice.key) as seed:
        served = await ours.call_tool("get_itinerary_summary", {"trip_id": trip["_id"]})
        computed = await seed.call_tool("get_itinerary_summary", {"trip_id": trip["_id"]})
    assert not computed.is_error, computed.content[0].text
    assert json.loads(computed.content[0].text) == json.loads(served.content[0].text)
    assert computed.structured_content["conflicts"][0]["type"] == "overlapping_commitments"
