"""Map pins: lat/lng in range, clientRef diff-merge; deleting a pin clears commitment links."""

from __future__ import annotations

import pytest

from tests.conftest import new_trip
from tests.server.support import assert_error, commitment_body, created, pin_body, walk


def pins_path(trip) -> str:
    return f"/trips/{trip['_id']}/map-pins"


async def test_create_get_list(alice, trip):
    pin = await created(
        alice.http, pins_path(trip), pin_body(category="Temple", notes="Go early", clientRef="p1")
    )
    assert (pin["name"], pin["lat"], pin["lng"], pin["category"], pin["notes"], pin["clientRef"]) == (
        "Sensoji",
        35.7148,
        139.7967,
        "Temple",
        "Go early",
        "p1",
    )
    assert (await alice.http.get(f"{pins_path(trip)}/{pin['_id']}")).json() == pin
    assert (await alice.http.get(pins_path(trip))).json()["items"] == [pin]


@pytest.mark.parametrize("lat,lng", [(-90, -180), (90, 180), (0, 0)])
async def test_edges_of_the_map_are_valid(alice, trip, lat, lng):
    pin = await created(alice.http, pins_path(trip), pin_body(lat=lat, lng=lng))
    assert (pin["lat"], pin["lng"]) == (lat, lng)


async def test_validation(alice, trip):
    assert_error(
        await alice.http.post(pins_path(trip), json={}),
        400,
        "VALIDATION_ERROR",
        {"name": "required", "lat": "required", "lng": "required"},
    )
    assert_error(
        await alice.http.post(
            pins_path(trip),
            json={"name": "n" * 201, "lat": 90.0001, "lng": -180.5, "notes": "x" * 10_001, "icon": "x"},
        ),
        400,
        "VALIDATION_ERROR",
        {
            "name": "too_long",
            "lat": "out_of_range",
            "lng": "out_of_range",
            "notes": "too_long",
            "icon": "unknown_field",
        },
    )
    assert_error(
        await alice.http.post(pins_path(trip), json={"name": "x", "lat": False, "lng": "12.5"}),
        400,
        "VALIDATION_ERROR",
        {"lat": "invalid", "lng": "invalid"},
    )
    assert_error(
        await alice.http.post(pins_path(trip), json=pin_body(clientRef="")),
        400,
        "VALIDATION_ERROR",
        {"clientRef": "required"},
    )


async def test_client_ref_merges_only_sent_fields(alice, trip):
    first = await alice.http.post(pins_path(trip), json=pin_body(clientRef="pin-sensoji", notes="Go early"))
    again = await alice.http.post(pins_path(trip), json=pin_body(clientRef="pin-sensoji", lat=35.0))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == {**first.json(), "lat": 35.0}


async def test_patch_and_delete(alice, trip):
    pin = await created(alice.http, pins_path(trip), pin_body())
    commitment = await created(
        alice.http, f"/trips/{trip['_id']}/commitments", commitment_body(mapPinId=pin["_id"])
    )
    patched = (await alice.http.patch(f"{pins_path(trip)}/{pin['_id']}", json={"category": "Temple"})).json()
    assert patched == {**pin, "category": "Temple"}
    assert_error(
        await alice.http.patch(f"{pins_path(trip)}/{pin['_id']}", json={"lat": None, "lng": 200}),
        400,
        "VALIDATION_ERROR",
        {"lat": "invalid", "lng": "out_of_range"},
    )
    assert (await alice.http.delete(f"{pins_path(trip)}/{pin['_id']}")).status_code == 204
    assert_error(await alice.http.get(f"{pins_path(trip)}/{pin['_id']}"), 404, "NOT_FOUND")
    link = (await alice.http.get(f"/trips/{trip['_id']}/commitments/{commitment['_id']}")).json()["mapPinId"]
    assert link is None
    assert_error(
        await alice.http.patch(f"{pins_path(trip)}/{pin['_id']}", json={"name": "x"}), 404, "NOT_FOUND"
    )


async def test_pagination(alice, trip):
    made = [(await created(alice.http, pins_path(trip), pin_body(name=f"P{i}")))["_id"] for i in range(4)]
    items, pages = await walk(alice.http, pins_path(trip), limit=1)
    assert [p["_id"] for p in items] == made and pages == 4
    assert_error(
        await alice.http.get(pins_path(trip), params={"limit": 0}),
        400,
        "VALIDATION_ERROR",
        {"limit": "out_of_range"},
    )


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_pin_of_another_trip_is_not_found_here(alice, trip, method):
    other = await new_trip(alice, "Other")
    pin = await created(alice.http, pins_path(other), pin_body())
    body = {"name": "x"} if method == "PATCH" else None
    assert_error(
        await alice.http.request(method, f"{pins_path(trip)}/{pin['_id']}", json=body), 404, "NOT_FOUND"
    )
