"""Commitments: ordered by startDate then startTime (all-day first); legId and mapPinId must be
rows of the same trip."""

from __future__ import annotations

import pytest

from tests.conftest import new_trip
from tests.server.support import assert_error, commitment_body, created, leg_body, pin_body, walk


def commitments_path(trip) -> str:
    return f"/trips/{trip['_id']}/commitments"


async def test_create_with_every_field(alice, trip):
    leg = await created(alice.http, f"/trips/{trip['_id']}/legs", leg_body())
    pin = await created(alice.http, f"/trips/{trip['_id']}/map-pins", pin_body())
    body = commitment_body(
        startTime="19:30",
        endTime="21:00",
        timezone="Asia/Tokyo",
        legId=leg["_id"],
        mapPinId=pin["_id"],
        notes="Jacket required",
        isAllDay=False,
    )
    commitment = await created(alice.http, commitments_path(trip), body)
    assert {k: commitment[k] for k in body} == body
    assert commitment["tripId"] == trip["_id"]
    assert (await alice.http.get(f"{commitments_path(trip)}/{commitment['_id']}")).json() == commitment


async def test_minimal_commitment_defaults(alice, trip):
    commitment = await created(alice.http, commitments_path(trip), commitment_body())
    assert commitment["isAllDay"] is False
    for field in ("startTime", "endTime", "timezone", "legId", "mapPinId", "notes"):
        assert commitment[field] is None


async def test_links_to_another_trip_are_not_found(alice):
    trip, other = await new_trip(alice), await new_trip(alice, "Other")
    leg = await created(alice.http, f"/trips/{other['_id']}/legs", leg_body())
    pin = await created(alice.http, f"/trips/{other['_id']}/map-pins", pin_body())
    assert_error(
        await alice.http.post(
            commitments_path(trip), json=commitment_body(legId=leg["_id"], mapPinId=pin["_id"])
        ),
        400,
        "VALIDATION_ERROR",
        {"legId": "not_found", "mapPinId": "not_found"},
    )
    assert_error(
        await alice.http.post(commitments_path(trip), json=commitment_body(legId="nope")),
        400,
        "VALIDATION_ERROR",
        {"legId": "not_found"},
    )
    mine = await created(alice.http, commitments_path(trip), commitment_body())
    assert_error(
        await alice.http.patch(f"{commitments_path(trip)}/{mine['_id']}", json={"mapPinId": pin["_id"]}),
        400,
        "VALIDATION_ERROR",
        {"mapPinId": "not_found"},
    )
    assert (await alice.http.get(f"{commitments_path(trip)}/{mine['_id']}")).json() == mine


async def test_validation(alice, trip):
    assert_error(
        await alice.http.post(commitments_path(trip), json={}),
        400,
        "VALIDATION_ERROR",
        {"title": "required", "startDate": "required", "category": "required"},
    )
    bad = {
        "title": "x" * 201,
        "startDate": "2026-04-31",
        "category": "party",
        "startTime": "24:00",
        "endTime": "7:30",
        "isAllDay": "no",
        "timezone": "Europe/Narnia",
        "notes": "n" * 10_001,
        "clientRef": "c1",
    }
    assert_error(
        await alice.http.post(commitments_path(trip), json=bad),
        400,
        "VALIDATION_ERROR",
        {
            "title": "too_long",
            "startDate": "invalid",
            "category": "invalid",
            "startTime": "invalid",
            "endTime": "invalid",
            "isAllDay": "invalid",
            "timezone": "invalid",
            "notes": "too_long",
            "clientRef": "unknown_field",
        },
    )
    assert_error(
        await alice.http.post(
            commitments_path(trip), json=commitment_body(startTime="20:00", endTime="19:00")
        ),
        400,
        "VALIDATION_ERROR",
        {"endTime": "out_of_range"},
    )
    # All-day commitments ignore their times.
    assert (
        await alice.http.post(
            commitments_path(trip), json=commitment_body(isAllDay=True, startTime="20:00", endTime="19:00")
        )
    ).status_code == 201


async def test_ordered_by_date_then_time_all_day_first(alice, trip):
    specs = [
        ("2026-07-17", "09:00", False),
        ("2026-07-16", "20:00", False),
        ("2026-07-16", None, True),
        ("2026-07-16", "08:00", False),
        ("2026-07-15", "23:59", False),
        ("2026-07-16", "07:00", True),
    ]
    for i, (date, time, all_day) in enumerate(specs):
        body = commitment_body(title=f"C{i}", startDate=date, isAllDay=all_day)
        if time:
            body["startTime"] = time
        await created(alice.http, commitments_path(trip), body)
    items, pages = await walk(alice.http, commitments_path(trip), limit=4)
    assert pages == 2
    order = [(c["startDate"], None if c["isAllDay"] else c["startTime"]) for c in items]
    assert order[0] == ("2026-07-15", "23:59")
    assert order[1:3] == [("2026-07-16", None)] * 2
    assert order[3:] == [("2026-07-16", "08:00"), ("2026-07-16", "20:00"), ("2026-07-17", "09:00")]
    assert_error(
        await alice.http.get(commitments_path(trip), params={"limit": 201}),
        400,
        "VALIDATION_ERROR",
        {"limit": "out_of_range"},
    )


async def test_patch_and_delete(alice, trip):
    commitment = await created(alice.http, commitments_path(trip), commitment_body(startTime="19:00"))
    patched = (
        await alice.http.patch(
            f"{commitments_path(trip)}/{commitment['_id']}", json={"startTime": "20:00", "notes": "Moved"}
        )
    ).json()
    assert patched == {**commitment, "startTime": "20:00", "notes": "Moved"}
    assert_error(
        await alice.http.patch(
            f"{commitments_path(trip)}/{commitment['_id']}",
            json={"title": None, "category": None, "isAllDay": None},
        ),
        400,
        "VALIDATION_ERROR",
        {"title": "invalid", "category": "invalid", "isAllDay": "invalid"},
    )
    assert_error(
        await alice.http.patch(f"{commitments_path(trip)}/{commitment['_id']}", json={"endTime": "18:00"}),
        400,
        "VALIDATION_ERROR",
        {"endTime": "out_of_range"},
    )
    assert (await alice.http.delete(f"{commitments_path(trip)}/{commitment['_id']}")).status_code == 204
    assert_error(await alice.http.get(f"{commitments_path(trip)}/{commitment['_id']}"), 404, "NOT_FOUND")
    assert_error(await alice.http.delete(f"{commitments_path(trip)}/{commitment['_id']}"), 404, "NOT_FOUND")


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_commitment_of_another_trip_is_not_found_here(alice, trip, method):
    other = await new_trip(alice, "Other")
    commitment = await created(alice.http, commitments_path(other), commitment_body())
    body = {"title": "x"} if method == "PATCH" else None
    assert_error(
        await alice.http.request(method, f"{commitments_path(trip)}/{commitment['_id']}", json=body),
        404,
        "NOT_FOUND",
    )
