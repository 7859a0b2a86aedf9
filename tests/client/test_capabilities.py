"""`TripClient.capabilities()` and NotSupportedError against both kinds of service: ours, and one
of the seed's API only (tests/seed_only.py), issue 23."""

from __future__ import annotations

import httpx
import pytest

from app.client import NotFoundError, NotSupportedError, TripClient
from tests.conftest import BASE
from tests.seed_only import SeedOnly


class Counting(httpx.AsyncBaseTransport):
    def __init__(self, app) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.requests: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.method} {request.url.path.removeprefix('/api/v1')}")
        return await self.inner.handle_async_request(request)


async def test_our_service_offers_every_extension_in_one_request(server, alice, trip):
    transport = Counting(server.app)
    async with TripClient(api_key=alice.key, base_url=BASE, transport=transport) as client:
        caps = await client.capabilities(trip["_id"])
        assert caps.missing == [] and caps.share_links is True and not caps.seed_only
        assert transport.requests == ["GET /openapi.json"]
        assert await client.capabilities(trip["_id"]) == caps
        assert len(transport.requests) == 1  # learned once per client


async def test_a_seed_only_service_is_probed_without_changing_anything(server, alice, trip):
    transport = Counting(SeedOnly(server.app))
    async with TripClient(api_key=alice.key, base_url=BASE, transport=transport) as client:
        caps = await client.capabilities(trip["_id"])
        assert caps.seed_only
        assert set(caps.missing) == {
            "changes",
            "itinerary",
            "ops",
            "activity",
            "member_writes",
            "channel_writes",
            "ssh_keys",
        }
        assert caps.share_links is None  # a probe would replace the trip's link: unknown
        assert "this service does not support the live changes feed" in caps.explain()
        asked = len(transport.requests)
        with pytest.raises(NotSupportedError) as raised:
            await client.changes(trip["_id"])
        assert len(transport.requests) == asked  # known: no request
        assert (
            raised.value.feature == "changes"
            and str(raised.value) == "this service does not support the live changes feed"
        )
    members = (await alice.http.get(f"/trips/{trip['_id']}/members")).json()["items"]
    assert len(members) == 1  # the probes of the write routes wrote nothing
    assert [c["name"] for c in (await alice.http.get(f"/trips/{trip['_id']}/channels")).json()["items"]] == [
        "general"
    ]


async def test_a_404_from_an_extension_teaches_the_client(server, alice, trip):
    transport = Counting(SeedOnly(server.app))
    async with TripClient(api_key=alice.key, base_url=BASE, transport=transport) as client:
        with pytest.raises(NotSupportedError) as raised:
            await client.get_itinerary_summary(trip["_id"])
        assert raised.value.status == 404 and isinstance(raised.value, NotFoundError)
        with pytest.raises(NotSupportedError):
            await client.add_member(trip["_id"], "bob@example.com", "editor")  # a 405 there
        before = len(transport.requests)
        with pytest.raises(NotSupportedError):
            await client.get_itinerary(trip["_id"])
        assert len(transport.requests) == before
        assert "itinerary" in (await client.capabilities(trip["_id"])).missing


async def test_a_missing_trip_is_not_a_missing_feature(server, alice):
    async with TripClient(
        api_key=alice.key, base_url=BASE, transport=Counting(SeedOnly(server.app))
    ) as client:
        with pytest.raises(NotFoundError) as raised:
            await client.get_itinerary_summary("no-such-trip")
        assert not isinstance(raised.value, NotSupportedError)
    async with TripClient(api_key=alice.key, base_url=BASE, transport=Counting(server.app)) as client:
        with pytest.raises(NotFoundError) as raised:
            await client.changes("no-such-trip")
        assert not isinstance(raised.value, NotSupportedError)
        assert (await client.capabilities()).missing == []


async def test_a_key_that_may_not_use_a_route_still_finds_it(server, make_actor, alice, trip):
    reader = await make_actor("reader@example.com", "Reader", scopes=[f"trips:read:{trip['_id']}"])
    await alice.http.post(f"/trips/{trip['_id']}/members", json={"email": reader.email, "role": "viewer"})
    async with TripClient(
        api_key=reader.key, base_url=BASE, transport=Counting(SeedOnly(server.app))
    ) as client:
        caps = await client.capabilities(trip["_id"])
        assert "changes" in caps.missing and "ssh_keys" in caps.missing
    async with TripClient(
        api_key=reader.key, base_url=BASE, transport=Counting(NoOpenApi(server.app))
    ) as client:
        caps = await client.capabilities(trip["_id"])  # ours, asked route by route with a narrow key
        assert caps.missing == []


class NoOpenApi:
    """Our service without its OpenAPI document: the client asks route by route."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/openapi.json"):
            await send(
                {
                    "type": "http.response.start",
                    "status": 404,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send(
                {
                    "type": "http.response.body",
                    "body": b'{"error": {"code": "NOT_FOUND", "message": "No such route"}}',
                }
            )
            return
        await self.app(scope, receive, send)
