"""Trips: list (only what the key may read), create (draft + general channel), get, PATCH,
DELETE = archive."""

from __future__ import annotations

import pytest

from tests.conftest import new_trip
from tests.server.support import assert_error, walk


async def default_group(actor) -> str:
    return (await actor.http.get("/me")).json()["defaultGroupId"]


async def test_create_trip_is_a_draft_with_a_general_channel(alice):
    group = await default_group(alice)
    body = {
        "groupId": group,
        "title": "Summer in the Cotswolds",
        "startDate": "2026-07-15",
        "endDate": "2026-07-22",
    }
    response = await alice.http.post("/trips", json=body)
    assert response.status_code == 201, response.text
    trip = response.json()
    assert trip["groupId"] == group and trip["title"] == body["title"]
    assert (trip["startDate"], trip["endDate"]) == ("2026-07-15", "2026-07-22")
    assert trip["status"] == "draft" and trip["revision"] == 1 and trip["createdBy"] == alice.user_id
    assert isinstance(trip["_id"], str) and len(trip["_id"]) >= 16
    assert isinstance(trip["_creationTime"], int) and trip["_creationTime"] > 1_600_000_000_000
    channels = (await alice.http.get(f"/trips/{trip['_id']}/channels")).json()["items"]
    assert [c["name"] for c in channels] == ["general"]
    members = (await alice.http.get(f"/trips/{trip['_id']}/members")).json()["items"]
    assert [(m["userId"], m["role"]) for m in members] == [(alice.user_id, "owner")]
    assert (await alice.http.get(f"/trips/{trip['_id']}")).json() == trip


async def test_one_day_trip_and_text_stored_exactly(alice):
    title = "  <b>Ünïcødé</b> 🚂 '; DROP TABLE trips; --  "
    trip = await new_trip(alice, title=title, start="2026-02-28", end="2026-02-28")
    assert (await alice.http.get(f"/trips/{trip['_id']}")).json()["title"] == title


async def test_create_trip_validation_names_every_field(alice, bob):
    error = assert_error(
        await alice.http.post("/trips", json={}),
        400,
        "VALIDATION_ERROR",
        {"groupId": "required", "title": "required", "startDate": "required", "endDate": "required"},
    )
    assert error["message"] == "Missing required fields: groupId, title, startDate, endDate"  # as in the seed
    group = await default_group(alice)
    bad = {
        "groupId": group,
        "title": "x" * 201,
        "startDate": "2026-02-30",
        "endDate": "15/07/2026",
        "colour": "red",
    }
    assert_error(
        await alice.http.post("/trips", json=bad),
        400,
        "VALIDATION_ERROR",
        {"title": "too_long", "startDate": "invalid", "endDate": "invalid", "colour": "unknown_field"},
    )
    assert_error(
        await alice.http.post(
            "/trips", json={"groupId": group, "title": "", "startDate": 20260715, "endDate": None}
        ),
        400,
        "VALIDATION_ERROR",
        {"title": "required", "startDate": "invalid", "endDate": "invalid"},
    )
    # A group the caller is not in, and dates the wrong way round: both named.
    other = {
        "groupId": await default_group(bob),
        "title": "T",
        "startDate": "2026-07-15",
        "endDate": "2026-07-14",
    }
    assert_error(
        await alice.http.post("/trips", json=other),
        400,
        "VALIDATION_ERROR",
        {"groupId": "not_found", "endDate": "out_of_range"},
    )
    assert (await alice.http.get("/trips")).json()["items"] == []


async def test_list_shows_only_trips_of_the_caller(alice, bob):
    mine = await new_trip(alice, "Mine")
    await new_trip(bob, "Bob's")
    items = (await alice.http.get("/trips")).json()
    assert [t["_id"] for t in items["items"]] == [mine["_id"]] and items["nextCursor"] is None
    assert items["items"][0]["memberCount"] == 1


async def test_list_pagination_walks_every_trip_once(alice):
    made = [(await new_trip(alice, f"T{i}"))["_id"] for i in range(5)]
    items, pages = await walk(alice.http, "/trips", limit=2)
    assert [t["_id"] for t in items] == made and pages == 3
    # Default and maximum page sizes.
    assert len((await alice.http.get("/trips")).json()["items"]) == 5
    assert (await alice.http.get("/trips", params={"limit": 200})).status_code == 200


@pytest.mark.parametrize(
    "limit,reason",
    [
        (0, "out_of_range"),
        (201, "out_of_range"),
        (-1, "out_of_range"),
        ("ten", "invalid"),
        ("", "invalid"),
        (1.5, "invalid"),
    ],
)
async def test_list_limit_outside_range_is_400(alice, limit, reason):
    assert_error(
        await alice.http.get("/trips", params={"limit": limit}), 400, "VALIDATION_ERROR", {"limit": reason}
    )


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "WzEsMl0",
        "eyJhIjoxfQ",
        "WyJ4IiwieCJd",
        "WzFlOTk5LCJ4Il0",
        "Wzk5OTk5OTk5OTk5OTk5OTk5OTk5OTksIngiXQ",
    ],
)
async def test_forged_cursor_is_400(alice, cursor):
    await new_trip(alice)
    assert_error(
        await alice.http.get("/trips", params={"cursor": cursor}),
        400,
        "VALIDATION_ERROR",
        {"cursor": "invalid"},
    )


async def test_get_unknown_trip_is_404_and_foreign_trip_403(alice, bob):
    assert_error(await alice.http.get("/trips/does-not-exist"), 404, "NOT_FOUND")
    bobs = await new_trip(bob)
    assert_error(await alice.http.get(f"/trips/{bobs['_id']}"), 403, "FORBIDDEN")


async def test_patch_changes_only_sent_fields_and_bumps_revision(alice, trip):
    tid = trip["_id"]
    response = await alice.http.patch(f"/trips/{tid}", json={"title": "New title"})
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["title"] == "New title" and updated["revision"] == 2
    assert {k: v for k, v in updated.items() if k not in ("title", "revision")} == {
        k: v for k, v in trip.items() if k not in ("title", "revision")
    }
    updated = (
        await alice.http.patch(f"/trips/{tid}", json={"status": "active", "endDate": "2026-08-01"})
    ).json()
    assert (updated["status"], updated["endDate"], updated["revision"]) == ("active", "2026-08-01", 3)
    # An empty PATCH changes nothing.
    same = (await alice.http.patch(f"/trips/{tid}", json={})).json()
    assert same == updated


async def test_patch_trip_validation(alice, trip):
    tid = trip["_id"]
    assert_error(
        await alice.http.patch(f"/trips/{tid}", json={"endDate": "2026-07-01"}),
        400,
        "VALIDATION_ERROR",
        {"endDate": "out_of_range"},
    )
    assert_error(
        await alice.http.patch(
            f"/trips/{tid}",
            json={"title": None, "status": "cancelled", "groupId": "g", "startDate": "2026-13-01"},
        ),
        400,
        "VALIDATION_ERROR",
        {"title": "invalid", "status": "invalid", "groupId": "unknown_field", "startDate": "invalid"},
    )
    assert_error(
        await alice.http.patch(f"/trips/{tid}", json={"startDate": None}),
        400,
        "VALIDATION_ERROR",
        {"startDate": "invalid"},
    )
    assert (await alice.http.get(f"/trips/{tid}")).json()["revision"] == 1
    assert_error(await alice.http.patch("/trips/nope", json={"title": "x"}), 404, "NOT_FOUND")


async def test_delete_archives_the_trip(alice, trip):
    tid = trip["_id"]
    response = await alice.http.delete(f"/trips/{tid}")
    assert response.status_code == 200, response.text
    archived = response.json()
    assert archived["status"] == "completed" and archived["revision"] == 2 and archived["_id"] == tid
    again = await alice.http.delete(f"/trips/{tid}")
    assert again.status_code == 200 and again.json()["revision"] == 2
    # Archived trips are still listed and readable.
    assert [t["status"] for t in (await alice.http.get("/trips")).json()["items"]] == ["completed"]
    assert_error(await alice.http.delete("/trips/nope"), 404, "NOT_FOUND")


async def test_only_owner_or_planner_archives(alice, bob, make_actor, trip):
    tid = trip["_id"]
    carol = await make_actor("carol@example.com")
    await alice.http.post(f"/trips/{tid}/members", json={"email": bob.email, "role": "editor"})
    await alice.http.post(f"/trips/{tid}/members", json={"email": carol.email, "role": "planner"})
    assert_error(await bob.http.delete(f"/trips/{tid}"), 403, "FORBIDDEN")
    assert (await bob.http.patch(f"/trips/{tid}", json={"title": "Editors may edit"})).status_code == 200
    assert (await carol.http.delete(f"/trips/{tid}")).json()["status"] == "completed"


async def test_trip_limited_key_lists_and_reads_only_its_trip(alice, make_actor):
    first = await new_trip(alice, "First")
    second = await new_trip(alice, "Second")
    limited = await make_actor(
        alice.email, scopes=[f"trips:read:{second['_id']}", f"trips:write:{second['_id']}"]
    )
    assert [t["_id"] for t in (await limited.http.get("/trips")).json()["items"]] == [second["_id"]]
    assert (await limited.http.get(f"/trips/{second['_id']}")).status_code == 200
    assert_error(await limited.http.get(f"/trips/{first['_id']}"), 403, "FORBIDDEN")
    assert_error(await limited.http.patch(f"/trips/{first['_id']}", json={"title": "x"}), 403, "FORBIDDEN")
    body = {
        "groupId": await default_group(alice),
        "title": "T",
        "startDate": "2026-07-15",
        "endDate": "2026-07-16",
    }
    assert_error(await limited.http.post("/trips", json=body), 403, "FORBIDDEN")


async def test_scopes_are_separate(alice, make_actor, trip):
    writer = await make_actor(alice.email, scopes=["trips:write"])
    reader = await make_actor(alice.email, scopes=["trips:read"])
    assert_error(await writer.http.get("/trips"), 403, "FORBIDDEN")  # writes do not imply reads
    assert_error(await writer.http.get(f"/trips/{trip['_id']}"), 403, "FORBIDDEN")
    assert (await writer.http.patch(f"/trips/{trip['_id']}", json={"title": "W"})).status_code == 200
    assert_error(await reader.http.patch(f"/trips/{trip['_id']}", json={"title": "R"}), 403, "FORBIDDEN")
    body = {
        "groupId": await default_group(alice),
        "title": "T",
        "startDate": "2026-07-15",
        "endDate": "2026-07-16",
    }
    assert_error(await reader.http.post("/trips", json=body), 403, "FORBIDDEN")
    assert (await writer.http.post("/trips", json=body)).status_code == 201
