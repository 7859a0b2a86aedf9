"""The authorization matrix, for every endpoint: no key -> 401, another user's key -> 403,
a key without the scope -> 403, a key limited to another trip -> 403, a viewer writing content
-> 403, and nothing of one trip reachable through another trip's path (404). Forbidden calls
change nothing."""

from __future__ import annotations

from dataclasses import dataclass

import asyncssh
import pytest

from app.server.auth import ALL_SCOPES
from tests.conftest import new_trip
from tests.server.support import assert_error, commitment_body, created, item_body, leg_body, pin_body


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # with {trip}, {leg}, {pin}, {item}, {commitment}, {channel}, {member}
    scope: str | None  # None: any valid key
    body: dict | None = None
    content_write: bool = False  # a viewer may not do this

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def _content(collection: str, row: str, create: dict, patch: dict) -> list[Endpoint]:
    return [
        Endpoint("GET", f"/trips/{{trip}}/{collection}", "trips:read"),
        Endpoint("POST", f"/trips/{{trip}}/{collection}", "trips:write", create, True),
        Endpoint("GET", f"/trips/{{trip}}/{collection}/{{{row}}}", "trips:read"),
        Endpoint("PATCH", f"/trips/{{trip}}/{collection}/{{{row}}}", "trips:write", patch, True),
        Endpoint("DELETE", f"/trips/{{trip}}/{collection}/{{{row}}}", "trips:write", None, True),
    ]


ENDPOINTS = [
    Endpoint("GET", "/me", None),
    Endpoint("GET", "/trips", "trips:read"),
    Endpoint(
        "POST",
        "/trips",
        "trips:write",
        {"groupId": "{group}", "title": "T", "startDate": "2026-07-15", "endDate": "2026-07-16"},
    ),
    Endpoint("GET", "/trips/{trip}", "trips:read"),
    Endpoint("PATCH", "/trips/{trip}", "trips:write", {"title": "Renamed"}, True),
    Endpoint("DELETE", "/trips/{trip}", "trips:write", None, True),
    *_content("legs", "leg", leg_body(), {"title": "Renamed"}),
    *_content("action-items", "item", item_body(), {"done": True}),
    *_content("commitments", "commitment", commitment_body(), {"title": "Renamed"}),
    *_content("map-pins", "pin", pin_body(), {"name": "Renamed"}),
    Endpoint("GET", "/trips/{trip}/channels", "messages:read"),
    Endpoint("POST", "/trips/{trip}/channels", "messages:write", {"name": "new"}),
    Endpoint("GET", "/trips/{trip}/channels/{channel}/messages", "messages:read"),
    Endpoint("POST", "/trips/{trip}/channels/{channel}/messages", "messages:write", {"content": "hi"}),
    Endpoint("GET", "/trips/{trip}/members", "trips:read"),
    Endpoint(
        "POST", "/trips/{trip}/members", "trips:write", {"email": "dave@example.com", "role": "viewer"}, True
    ),
    Endpoint("PATCH", "/trips/{trip}/members/{member}", "trips:write", {"role": "planner"}, True),
    Endpoint("DELETE", "/trips/{trip}/members/{member}", "trips:write", None, True),
    Endpoint("POST", "/trips/{trip}/legs:batch", "trips:write", {"items": [leg_body()]}, True),
    Endpoint("POST", "/trips/{trip}/action-items:batch", "trips:write", {"items": [item_body()]}, True),
    Endpoint("POST", "/trips/{trip}/map-pins:batch", "trips:write", {"items": [pin_body()]}, True),
    Endpoint(
        "POST", "/trips/{trip}/sync", "trips:write", {"legs": [leg_body()], "mapPins": [pin_body()]}, True
    ),
    Endpoint("GET", "/trips/{trip}/export", "trips:read"),
    Endpoint("POST", "/trips/{trip}/share-token", "trips:write", None, True),
    Endpoint("DELETE", "/trips/{trip}/share-token", "trips:write", None, True),
    Endpoint("GET", "/trips/{trip}/itinerary", "trips:read"),
    Endpoint("GET", "/trips/{trip}/itinerary/diff?since_revision=1", "trips:read"),
    Endpoint("GET", "/trips/{trip}/itinerary/summary", "trips:read"),
    Endpoint(
        "POST",
        "/trips/{trip}/ops",
        "trips:write",
        {
            "base_revision": "{revision}",
            "type": "add_event",
            "payload": {"title": "Dinner", "startDate": "2026-07-16", "category": "dinner"},
        },
        True,
    ),
    Endpoint("GET", "/trips/{trip}/changes", "trips:read"),
    Endpoint("GET", "/trips/{trip}/operations", "trips:read"),
    Endpoint(
        "POST", "/trips/{trip}/operations/{op}/revert", "trips:write", {"base_revision": "{revision}"}, True
    ),
    # SSH keys: listing needs any key; adding or deleting one a key with every scope on every trip.
    Endpoint("GET", "/me/ssh-keys", None),
    Endpoint("POST", "/me/ssh-keys", "trips:write", {"publicKey": "{new_ssh_key}"}),
    Endpoint("DELETE", "/me/ssh-keys/{ssh_key}", "trips:write"),
]


def test_matrix_covers_every_documented_operation(server):
    documented = {
        f"{method.upper()} {path.removeprefix('/api/v1')}"
        for path, operations in server.app.openapi()["paths"].items()
        for method in operations
    }
    names = {
        "trip_id": "trip",
        "channel_id": "channel",
        "user_id": "member",
        "op_id": "op",
        "ssh_key_id": "ssh_key",
    }
    # The share-token views take no key at all: tests/server/test_share.py covers them.
    documented = {operation for operation in documented if " /shared/" not in operation}
    covered = set()
    for endpoint in ENDPOINTS:
        path = endpoint.path.split("?", 1)[0]
        for key, value in names.items():
            path = path.replace("{" + value + "}", "{" + key + "}")
        for row in ("leg", "item", "commitment", "pin"):
            path = path.replace("{" + row + "}", "{item_id}")
        covered.add(f"{endpoint.method} {path}")
    assert documented - covered == set()


def new_public_key() -> str:
    return asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().strip()


@dataclass
class World:
    ids: dict[str, str]  # placeholder -> id in trip A
    other: dict[str, str]  # placeholder -> id in trip B
    revision: int


async def build_world(alice, make_actor) -> tuple[World, dict]:
    group = (await alice.http.get("/me")).json()["defaultGroupId"]

    async def fill(trip) -> dict[str, str]:
        tid = trip["_id"]
        leg = await created(alice.http, f"/trips/{tid}/legs", leg_body())
        pin = await created(alice.http, f"/trips/{tid}/map-pins", pin_body())
        item = await created(alice.http, f"/trips/{tid}/action-items", item_body())
        commitment = await created(alice.http, f"/trips/{tid}/commitments", commitment_body(legId=leg["_id"]))
        channel = (await alice.http.get(f"/trips/{tid}/channels")).json()["items"][0]
        op = (await alice.http.get(f"/trips/{tid}/operations", params={"limit": 1})).json()["items"][0]
        return {
            "trip": tid,
            "leg": leg["_id"],
            "pin": pin["_id"],
            "item": item["_id"],
            "commitment": commitment["_id"],
            "channel": channel["_id"],
            "group": group,
            "op": op["op_id"],
        }

    trip_a, trip_b = await new_trip(alice, "A"), await new_trip(alice, "B")
    ids, other = await fill(trip_a), await fill(trip_b)
    member = await make_actor("member@example.com", "Member")
    outsider = await make_actor("outsider-in-b@example.com")
    await make_actor("dave@example.com")
    await alice.http.post(f"/trips/{trip_a['_id']}/members", json={"email": member.email, "role": "editor"})
    await alice.http.post(f"/trips/{trip_b['_id']}/members", json={"email": outsider.email, "role": "editor"})
    ids["member"], other["member"] = member.user_id, outsider.user_id
    revision = (await alice.http.get(f"/trips/{ids['trip']}")).json()["revision"]
    ids["revision"] = other["revision"] = str(revision)
    registered = await alice.http.post("/me/ssh-keys", json={"publicKey": new_public_key()})
    assert registered.status_code == 201, registered.text
    ids["ssh_key"], ids["new_ssh_key"] = registered.json()["_id"], new_public_key()
    return World(ids, other, revision), {"trip_a": trip_a, "trip_b": trip_b}


def fill_in(text: str, ids: dict[str, str]) -> str:
    for name, value in ids.items():
        text = text.replace("{" + name + "}", value)
    return text


def request_args(endpoint: Endpoint, ids: dict[str, str]) -> dict:
    args: dict = {"method": endpoint.method, "url": fill_in(endpoint.path, ids)}
    if endpoint.body is not None:
        args["json"] = {
            k: (int(ids.get("revision", "1")) if v == "{revision}" else fill_in(v, ids))
            if isinstance(v, str)
            else v
            for k, v in endpoint.body.items()
        }
    return args


async def snapshot(alice, ids) -> tuple:
    tid = ids["trip"]
    parts = [await alice.http.get(f"/trips/{tid}")]
    for collection in ("legs", "action-items", "commitments", "map-pins", "channels", "members"):
        parts.append(await alice.http.get(f"/trips/{tid}/{collection}"))
    parts.append(await alice.http.get(f"/trips/{tid}/channels/{ids['channel']}/messages"))
    parts.append(await alice.http.get(f"/trips/{tid}/operations"))
    parts.append(await alice.http.get("/me/ssh-keys"))
    return tuple(p.json() for p in parts)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.id)
async def test_authorization_matrix(server, alice, make_actor, endpoint):
    world, _ = await build_world(alice, make_actor)
    ids = world.ids
    before = await snapshot(alice, ids)
    before_other = await snapshot(alice, world.other)

    # No key, or a key nobody issued: 401.
    async with server.client() as anonymous:
        assert_error(await anonymous.request(**request_args(endpoint, ids)), 401, "UNAUTHORIZED")
    async with server.client("osk_" + "x" * 43) as forged:
        assert_error(await forged.request(**request_args(endpoint, ids)), 401, "UNAUTHORIZED")

    trip_scoped = "{trip}" in endpoint.path
    if endpoint.scope is not None:
        # Every scope but the one needed: 403.
        lacking = await make_actor(alice.email, scopes=[s for s in ALL_SCOPES if s != endpoint.scope])
        assert_error(await lacking.http.request(**request_args(endpoint, ids)), 403, "FORBIDDEN")
        # Every scope, limited to the other trip: 403 (POST /trips: limited keys create nothing).
        limited = await make_actor(alice.email, scopes=[f"{s}:{world.other['trip']}" for s in ALL_SCOPES])
        if trip_scoped or endpoint.method == "POST":
            assert_error(await limited.http.request(**request_args(endpoint, ids)), 403, "FORBIDDEN")
    if trip_scoped:
        # Another user's key with every scope: 403, the trip is not theirs.
        stranger = await make_actor("stranger@example.com")
        assert_error(await stranger.http.request(**request_args(endpoint, ids)), 403, "FORBIDDEN")
        if endpoint.content_write:
            viewer = await make_actor("viewer@example.com")
            await alice.http.post(
                f"/trips/{ids['trip']}/members", json={"email": viewer.email, "role": "viewer"}
            )
            before = await snapshot(alice, ids)
            assert_error(await viewer.http.request(**request_args(endpoint, ids)), 403, "FORBIDDEN")
        # Rows of trip B through trip A's path: 404, never a way in.
        foreign = {**ids, **{k: v for k, v in world.other.items() if k not in ("trip", "group")}}
        if foreign != ids and any(
            "{" + k + "}" in endpoint.path for k in foreign if k not in ("trip", "group")
        ):
            assert_error(await alice.http.request(**request_args(endpoint, foreign)), 404, "NOT_FOUND")

    assert await snapshot(alice, ids) == before, "a refused call changed something"
    assert await snapshot(alice, world.other) == before_other, "a call through trip A changed trip B"
    # The owner's own key does get through.
    allowed = await alice.http.request(**request_args(endpoint, ids))
    assert allowed.status_code < 300, allowed.text


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if "{trip}" in e.path], ids=lambda e: e.id)
async def test_unknown_trip_is_404_for_every_trip_endpoint(alice, endpoint):
    ids = {
        name: f"no-such-{name}" for name in ("trip", "leg", "pin", "item", "commitment", "channel", "member")
    }
    assert_error(await alice.http.request(**request_args(endpoint, ids)), 404, "NOT_FOUND")
