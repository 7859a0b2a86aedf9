"""`GET /me` and sending a message, answered past FastAPI's routing (app/server/hot_paths.py),
answer exactly as their FastAPI routes do: the same request to the app and to a copy of it
without the shortcut (on the same database) gets the same status, headers and bytes, request
ids, rate-limit counts and new messages' ids aside."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from app.server.app import API_PREFIX, create_app
from app.server.hot_paths import HotPaths
from app.server.ratelimit import RateLimiter
from app.server.routes.channels import send_message
from app.server.routes.me import me
from app.server.storage.database import Database
from tests.conftest import BASE, new_trip


class Recorded:
    """An app whose requests' scopes are kept, to tell which requests reached FastAPI's router
    (it puts itself in the scope as `router`)."""

    def __init__(self, app) -> None:
        self.app = app
        self.scopes: list[dict] = []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            self.scopes.append(scope)
        await self.app(scope, receive, send)

    def routed(self) -> bool:
        """Did the last request reach the router?"""
        return "router" in self.scopes[-1]


@pytest.fixture
async def framework(settings, server) -> AsyncIterator:
    """The same app on the same database, without `HotPaths`: every request goes through FastAPI."""
    db = Database(settings.database_url)
    app = create_app(settings, db)
    app.user_middleware = [entry for entry in app.user_middleware if entry.cls is not HotPaths]
    async with app.router.lifespan_context(app):
        yield app


def masked_headers(response: httpx.Response) -> list[tuple[bytes, bytes]]:
    varying = {b"x-request-id", b"x-ratelimit-remaining", b"retry-after"}
    return [(name, b"*" if name.lower() in varying else value) for name, value in response.headers.raw]


def masked_body(response: httpx.Response) -> bytes:
    body = re.sub(rb'"requestId":"req_[0-9a-f]+"', b'"requestId":"*"', response.content)
    body = re.sub(rb"retry in \d+ s", b"retry in * s", body)
    if response.status_code == 201:  # a new message: its own id and time
        body = re.sub(rb'^\{"_id":"[^"]+","_creationTime":\d+', b'{"_id":"*","_creationTime":*', body)
    return body


class Twins:
    """Sends each request to the app with the shortcut and to the one without."""

    def __init__(self, hot, framework) -> None:
        self.hot = Recorded(hot)
        self.framework = Recorded(framework)

    async def both(
        self, method: str, path: str, key: str | None, content: bytes | None = None, **headers: str
    ) -> tuple[httpx.Response, httpx.Response]:
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        answers = []
        for app in (self.hot, self.framework):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
                answers.append(await http.request(method, path, content=content, headers=headers))
        return answers[0], answers[1]

    async def same(
        self,
        method: str,
        path: str,
        key: str | None,
        content: bytes | None = None,
        *,
        shortcut: bool,
        **headers: str,
    ) -> httpx.Response:
        """Assert both answer alike (and whether the shortcut took the request); the answer."""
        hot, routed = await self.both(method, path, key, content, **headers)
        assert hot.status_code == routed.status_code, (hot.text, routed.text)
        assert masked_body(hot) == masked_body(routed)
        assert masked_headers(hot) == masked_headers(routed)
        assert self.hot.routed() is not shortcut and self.framework.routed()
        if shortcut:  # FastAPI's router gives it to the route the shortcut stands for
            assert self.framework.scopes[-1]["endpoint"] is (me if path == "/me" else send_message)
        return hot


@pytest.fixture
def twins(server, framework) -> Twins:
    return Twins(server.app, framework)


async def test_me_answers_as_its_route(twins, alice, make_actor):
    answer = await twins.same("GET", "/me", alice.key, shortcut=True)
    assert answer.json()["email"] == "alice@example.com"
    assert answer.headers["x-ratelimit-limit"] and answer.headers["x-request-id"].startswith("req_")
    await twins.same("GET", "/me", None, shortcut=True)  # 401
    await twins.same("GET", "/me", "osk_not-a-key", shortcut=True)  # 401
    scoped = await make_actor(scopes=["trips:read:abc"])
    await twins.same("GET", "/me", scoped.key, shortcut=True)
    # Not the shortcut's shapes: left to FastAPI, which answers them alike.
    await twins.same("GET", "/me/", alice.key, shortcut=False)
    await twins.same("HEAD", "/me", alice.key, shortcut=False)
    await twins.same("POST", "/me", alice.key, b"{}", shortcut=False)


async def test_sending_a_message_answers_as_its_route(twins, alice, bob, make_actor):
    trip = await new_trip(alice)
    channels = (await alice.http.get(f"/trips/{trip['_id']}/channels")).json()["items"]
    path = f"/trips/{trip['_id']}/channels/{channels[0]['_id']}/messages"

    first = await twins.same("POST", path, alice.key, b'{"content": "Who books the ryokan?"}', shortcut=True)
    message = first.json()
    assert message["content"] == "Who books the ryokan?" and message["authorId"] == alice.user_id
    listed = (await alice.http.get(path)).json()["items"]
    assert [m["content"] for m in listed] == ["Who books the ryokan?"] * 2  # one from each app
    reply = f'{{"content": "Me", "parentId": "{message["_id"]}"}}'.encode()
    await twins.same("POST", path, alice.key, reply, shortcut=True)

    other = await new_trip(alice, "Other")
    other_channel = (await alice.http.get(f"/trips/{other['_id']}/channels")).json()["items"][0]
    body = b'{"content": "hi"}'
    for refused in (
        path.replace(trip["_id"], "no-such-trip"),  # 404 trip
        path.replace(channels[0]["_id"], "no-such-channel"),  # 404 channel
        path.replace(channels[0]["_id"], other_channel["_id"]),  # another trip's channel: 404
    ):
        await twins.same("POST", refused, alice.key, body, shortcut=True)
    await twins.same("POST", path, bob.key, body, shortcut=True)  # not a member: 403
    await twins.same("POST", path, None, body, shortcut=True)  # 401
    reader = await make_actor(scopes=["messages:read"])
    await twins.same("POST", path, reader.key, body, shortcut=True)  # no messages:write: 403
    elsewhere = await make_actor("carol@example.com", scopes=[f"messages:write:{other['_id']}"])
    added = await alice.http.post(
        f"/trips/{trip['_id']}/members", json={"email": elsewhere.email, "role": "viewer"}
    )
    assert added.status_code == 201, added.text
    await twins.same("POST", path, elsewhere.key, body, shortcut=True)  # scope of another trip: 403
    unknown_parent = b'{"content": "Me", "parentId": "no-such-message"}'
    await twins.same("POST", path, alice.key, unknown_parent, shortcut=True)  # 400 parentId not_found

    # Bodies that are not a valid message go to FastAPI, which words every validation answer.
    for invalid in (
        b'{"content": ""}',
        b'{"content": "hi", "topic": "x"}',
        b"{}",
        b"[]",
        b"",
        b'{"content": ',
        '{"content": "hi"}'.encode("utf-16"),
    ):
        await twins.same("POST", path, alice.key, invalid, shortcut=False)
        await twins.same("POST", path, None, invalid, shortcut=False)  # 401 first
    # Neither are other methods or paths near it.
    await twins.same("GET", path, alice.key, shortcut=False)
    await twins.same("POST", path + "/", alice.key, body, shortcut=False)
    await twins.same("POST", path.replace("/channels/", "/chans/"), alice.key, body, shortcut=False)


async def test_idempotent_messages_answer_as_their_route(twins, alice):
    trip = await new_trip(alice)
    channels = (await alice.http.get(f"/trips/{trip['_id']}/channels")).json()["items"]
    path = f"/trips/{trip['_id']}/channels/{channels[0]['_id']}/messages"
    # Each app its own Idempotency-Key (they share the database), sent in the same order.
    keys = {"hot": str(uuid.uuid4()), "framework": str(uuid.uuid4())}

    async def both(content: bytes, **headers: str) -> tuple[httpx.Response, httpx.Response]:
        answers = []
        for name, app in (("hot", twins.hot), ("framework", twins.framework)):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
                request_headers = {"Authorization": f"Bearer {alice.key}", "Idempotency-Key": keys[name]}
                answers.append(await http.post(path, content=content, headers=request_headers | headers))
        return answers[0], answers[1]

    first = await both(b'{"content": "once"}')
    replay = await both(b'{"content":"once"}')
    conflict = await both(b'{"content": "twice"}')
    for hot, routed in (first, replay, conflict):
        assert hot.status_code == routed.status_code
        assert masked_headers(hot) == masked_headers(routed) and masked_body(hot) == masked_body(routed)
    assert [first[0].status_code, replay[0].status_code, conflict[0].status_code] == [201, 201, 409]
    assert replay[0].headers["idempotent-replayed"] == "true" and replay[0].content == first[0].content
    listed = (await alice.http.get(path)).json()["items"]
    assert len(listed) == 2  # once per app


async def test_rate_limited_answers_as_its_route(twins, server, framework, make_actor):
    actor = await make_actor()
    trip = await new_trip(actor)
    for app in (server.app, framework):
        app.state.rate_limiter = RateLimiter(server.db, 1)
    await actor.http.get("/me")  # at the limit of 1 (or over it) from here
    path = f"/trips/{trip['_id']}/channels/{trip['_id']}/messages"
    assert (await twins.same("GET", "/me", actor.key, shortcut=True)).status_code == 429
    assert (await twins.same("POST", path, actor.key, b'{"content": "hi"}', shortcut=True)).status_code == 429


async def test_the_routes_stay_documented(server):
    paths = server.app.openapi()["paths"]
    assert "get" in paths[f"{API_PREFIX}/me"]
    assert "post" in paths[f"{API_PREFIX}/trips/{{trip_id}}/channels/{{channel_id}}/messages"]
