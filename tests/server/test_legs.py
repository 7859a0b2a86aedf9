"""Legs: list by order, create (with stays, flights, a rental car; clientRef diff-merge), get,
PATCH, DELETE (which clears commitment links)."""

from __future__ import annotations

import pytest

from tests.conftest import new_trip
from tests.server.support import assert_error, commitment_body, created, leg_body, walk

STAY = {
    "name": "Hoshinoya",
    "address": "1-9-1 Otemachi",
    "lat": 35.68,
    "lng": 139.76,
    "checkIn": "2026-07-15T15:00",
    "checkOut": "2026-07-18T11:00",
    "notes": "Quiet room",
    "wifiPassword": "s3cret",
    "doorCode": "4711",
    "hostPhone": "+81 3 1234",
    "confirmationNumber": "HX-1",
    "checkInInstructions": "Ring twice",
    "clientRef": "stay-hoshinoya",
}
FLIGHT = {
    "airline": "JL",
    "flightNumber": "JL44",
    "from": "LHR",
    "to": "HND",
    "departureTime": "2026-07-14T19:00",
    "arrivalTime": "2026-07-15T15:10",
    "seat": "23A",
    "confirmationNumber": "ABC123",
}
# Answers add the zones in use, resolved from the airports' IATA codes (API-CONTRACT section 12).
FLIGHT_ANSWER = {
    **FLIGHT,
    "departureTimezone": "Europe/London",
    "departureTimezoneSource": "airport",
    "arrivalTimezone": "Asia/Tokyo",
    "arrivalTimezoneSource": "airport",
}
CAR = {
    "company": "Toyota Rent",
    "pickupLocation": "HND",
    "pickupTime": "2026-07-15T16:00",
    "dropoffLocation": "HND",
    "dropoffTime": "2026-07-20T09:00",
    "confirmationNumber": "TR-9",
}


def legs_path(trip) -> str:
    return f"/trips/{trip['_id']}/legs"


async def test_create_leg_with_stay_flights_and_car(alice, trip):
    response = await alice.http.post(
        legs_path(trip),
        json=leg_body(accommodation=STAY, flights=[FLIGHT], rentalCar=CAR, clientRef="leg-tok-1"),
    )
    assert response.status_code == 201, response.text
    leg = response.json()
    assert leg["tripId"] == trip["_id"] and leg["title"] == "Tokyo" and leg["timezone"] == "Asia/Tokyo"
    assert leg["accommodation"] == STAY and leg["stays"] == [STAY]
    assert leg["flights"] == [FLIGHT_ANSWER] and leg["rentalCar"] == CAR and leg["clientRef"] == "leg-tok-1"
    assert (await alice.http.get(f"{legs_path(trip)}/{leg['_id']}")).json() == leg
    assert (await alice.http.get(f"/trips/{trip['_id']}")).json()["revision"] == 2


async def test_minimal_leg_has_empty_collections(alice, trip):
    leg = await created(alice.http, legs_path(trip), leg_body())
    assert leg["accommodation"] is None and leg["stays"] == [] and leg["flights"] == []
    assert leg["rentalCar"] is None and leg["clientRef"] is None


async def test_several_stays_first_is_the_accommodation(alice, trip):
    second = {"name": "Ryokan", "checkIn": "2026-07-18T15:00"}
    third = {"name": "Capsule"}  # stays without clientRef are allowed, several of them
    leg = await created(alice.http, legs_path(trip), leg_body(stays=[STAY, second, third]))
    assert leg["stays"] == [STAY, second, third] and leg["accommodation"] == STAY


async def test_client_ref_create_merges_only_sent_fields(alice, trip):
    first = await alice.http.post(
        legs_path(trip), json=leg_body(clientRef="leg-tok-1", accommodation=STAY, flights=[FLIGHT])
    )
    assert first.status_code == 201
    again = await alice.http.post(
        legs_path(trip), json=leg_body(clientRef="leg-tok-1", title="Tokyo!", order=2)
    )
    assert again.status_code == 200, again.text
    merged = again.json()
    before = first.json()
    assert merged["_id"] == before["_id"] and merged["_creationTime"] == before["_creationTime"]
    assert merged["title"] == "Tokyo!" and merged["order"] == 2
    assert {k: v for k, v in merged.items() if k not in ("title", "order")} == {
        k: v for k, v in before.items() if k not in ("title", "order")
    }
    assert len((await alice.http.get(legs_path(trip))).json()["items"]) == 1
    # A known clientRef is still validated as a full create: required fields must be sent.
    assert_error(
        await alice.http.post(legs_path(trip), json={"clientRef": "leg-tok-1", "title": "x"}),
        400,
        "VALIDATION_ERROR",
        {
            "order": "required",
            "destination": "required",
            "startDate": "required",
            "endDate": "required",
            "timezone": "required",
        },
    )
    # The merged dates are checked together.
    assert_error(
        await alice.http.post(legs_path(trip), json=leg_body(clientRef="leg-tok-1", startDate="2026-07-21")),
        400,
        "VALIDATION_ERROR",
        {"endDate": "out_of_range"},
    )
    assert (await alice.http.get(f"/trips/{trip['_id']}")).json()["revision"] == 3


async def test_client_ref_is_per_trip(alice):
    first, second = await new_trip(alice), await new_trip(alice)
    a = await created(alice.http, legs_path(first), leg_body(clientRef="same"))
    b = await created(alice.http, legs_path(second), leg_body(clientRef="same"))
    assert a["_id"] != b["_id"]


async def test_stays_merge_by_their_client_ref(alice, trip):
    leg = await created(
        alice.http, legs_path(trip), leg_body(clientRef="leg", stays=[STAY, {"name": "B", "clientRef": "b"}])
    )
    response = await alice.http.post(
        legs_path(trip),
        json=leg_body(
            clientRef="leg",
            stays=[
                {"clientRef": "stay-hoshinoya", "notes": "Late arrival"},
                {"clientRef": "b"},
                {"name": "New"},
            ],
        ),
    )
    assert response.status_code == 200, response.text
    stays = response.json()["stays"]
    assert stays[0] == {**STAY, "notes": "Late arrival"}
    assert stays[1] == {"name": "B", "clientRef": "b"} and stays[2] == {"name": "New"}
    # PATCH merges stays the same way; the accommodation shortcut merges into the first stay.
    patched = await alice.http.patch(
        f"{legs_path(trip)}/{leg['_id']}", json={"accommodation": {"doorCode": "0000"}}
    )
    assert patched.json()["accommodation"] == {**STAY, "notes": "Late arrival", "doorCode": "0000"}
    assert len(patched.json()["stays"]) == 3
    dup = [{"clientRef": "x", "name": "1"}, {"clientRef": "x", "name": "2"}]
    assert_error(
        await alice.http.patch(f"{legs_path(trip)}/{leg['_id']}", json={"stays": dup}),
        400,
        "VALIDATION_ERROR",
        {"stays.1.clientRef": "invalid"},
    )
    assert_error(
        await alice.http.patch(
            f"{legs_path(trip)}/{leg['_id']}", json={"stays": [STAY], "accommodation": STAY}
        ),
        400,
        "VALIDATION_ERROR",
        {"accommodation": "invalid"},
    )
    cleared = await alice.http.patch(
        f"{legs_path(trip)}/{leg['_id']}", json={"accommodation": None, "rentalCar": None, "flights": None}
    )
    assert [s.get("name") for s in cleared.json()["stays"]] == ["B", "New"]
    assert cleared.json()["rentalCar"] is None and cleared.json()["flights"] == []


async def test_leg_validation_names_every_field(alice, trip):
    assert_error(
        await alice.http.post(legs_path(trip), json={}),
        400,
        "VALIDATION_ERROR",
        {f: "required" for f in ("order", "title", "destination", "startDate", "endDate", "timezone")},
    )
    bad = {
        "order": "first",
        "title": "t" * 201,
        "destination": "",
        "startDate": "2026-02-29",
        "endDate": "2026-7-20",
        "timezone": "Mars/Olympus_Mons",
        "wifi": "x",
    }
    assert_error(
        await alice.http.post(legs_path(trip), json=bad),
        400,
        "VALIDATION_ERROR",
        {
            "order": "invalid",
            "title": "too_long",
            "destination": "required",
            "startDate": "invalid",
            "endDate": "invalid",
            "timezone": "invalid",
            "wifi": "unknown_field",
        },
    )
    nested = leg_body(
        accommodation={
            "lat": 91,
            "lng": -181,
            "checkIn": "2026-07-15 15:00",
            "sauna": True,
            "notes": "n" * 10_001,
        },
        flights=[FLIGHT, {"departureTime": "2026-07-15T24:00", "from": 7}],
        rentalCar={"pickupTime": "2026-02-30T10:00", "company": "c" * 201},
    )
    assert_error(
        await alice.http.post(legs_path(trip), json=nested),
        400,
        "VALIDATION_ERROR",
        {
            "accommodation.lat": "out_of_range",
            "accommodation.lng": "out_of_range",
            "accommodation.checkIn": "invalid",
            "accommodation.sauna": "unknown_field",
            "accommodation.notes": "too_long",
            "flights.1.departureTime": "invalid",
            "flights.1.from": "invalid",
            "rentalCar.pickupTime": "invalid",
            "rentalCar.company": "too_long",
        },
    )
    assert_error(
        await alice.http.post(legs_path(trip), json=leg_body(flights=[{}] * 51, stays="Hotel")),
        400,
        "VALIDATION_ERROR",
        {"flights": "too_long", "stays": "invalid"},
    )
    assert_error(
        await alice.http.post(legs_path(trip), json=leg_body(endDate="2026-07-14")),
        400,
        "VALIDATION_ERROR",
        {"endDate": "out_of_range"},
    )
    assert_error(
        await alice.http.post(legs_path(trip), json=leg_body(order=True)),
        400,
        "VALIDATION_ERROR",
        {"order": "invalid"},
    )
    assert (await alice.http.get(legs_path(trip))).json()["items"] == []


@pytest.mark.parametrize(
    "zone",
    [
        "localtime",
        "posixrules",
        "Factory",
        "../etc",
        "/UTC",
        "../../etc/passwd",
        "posix/Europe/London",
        "right/UTC",
        "zone.tab",
        "Europe/",
        "europe/london",
    ],
)
async def test_timezone_is_a_zone_name_of_the_iana_database(alice, trip, zone):
    # Names that zoneinfo can open on some machines (the system's own files, links, paths) but
    # that are not zones of the IANA database.
    assert_error(
        await alice.http.post(legs_path(trip), json=leg_body(timezone=zone)),
        400,
        "VALIDATION_ERROR",
        {"timezone": "invalid"},
    )
    assert_error(
        await alice.http.post(
            f"/trips/{trip['_id']}/commitments",
            json={"title": "Dinner", "startDate": "2026-07-16", "category": "dinner", "timezone": zone},
        ),
        400,
        "VALIDATION_ERROR",
        {"timezone": "invalid"},
    )


async def test_iana_zone_names_and_links_are_accepted(alice, trip):
    for zone in ("Europe/London", "UTC", "Etc/GMT-14", "America/Argentina/Buenos_Aires", "US/Pacific", "GB"):
        await created(alice.http, legs_path(trip), leg_body(timezone=zone, title=zone))


@pytest.mark.parametrize("order", [2**64, 1.5, -1, 1_000_001, 1e300, "3", None])
async def test_order_is_a_whole_number_in_its_documented_range(alice, trip, order):
    reason = "out_of_range" if order in (2**64, -1, 1_000_001, 1e300) else "invalid"
    assert_error(
        await alice.http.post(legs_path(trip), json=leg_body(order=order)),
        400,
        "VALIDATION_ERROR",
        {"order": reason},
    )
    leg = await created(alice.http, legs_path(trip), leg_body(order=5))
    assert_error(
        await alice.http.patch(f"{legs_path(trip)}/{leg['_id']}", json={"order": order}),
        400,
        "VALIDATION_ERROR",
        {"order": reason},
    )


async def test_order_range_is_in_the_openapi_schema_and_both_ends_are_accepted(alice, trip):
    schemas = (await alice.http.get("/openapi.json")).json()["components"]["schemas"]
    for name in ("LegCreate", "LegUpdate"):
        order = schemas[name]["properties"]["order"]
        assert (order["type"], order["minimum"], order["maximum"]) == ("integer", 0, 1_000_000), order
    first = await created(alice.http, legs_path(trip), leg_body(order=0, title="first"))
    last = await created(alice.http, legs_path(trip), leg_body(order=1_000_000, title="last"))
    # A whole number sent as a float (a client that keeps orders as floats) is that number.
    moved = await alice.http.patch(f"{legs_path(trip)}/{first['_id']}", json={"order": 7.0})
    assert moved.status_code == 200 and moved.json()["order"] == 7
    assert [leg["title"] for leg in (await alice.http.get(legs_path(trip))).json()["items"]] == [
        "first",
        "last",
    ]
    assert last["order"] == 1_000_000


async def test_order_answers_as_a_whole_number_wherever_a_leg_is_read(alice, trip, server):
    """Orders are whole numbers (stored in a float column for older data): every answer says 7,
    never 7.0, so a client comparing or printing them sees what it sent."""
    leg = await created(alice.http, legs_path(trip), leg_body(order=3))
    await alice.http.patch(f"{legs_path(trip)}/{leg['_id']}", json={"order": 7})
    reads = {
        "get": (await alice.http.get(f"{legs_path(trip)}/{leg['_id']}")).json(),
        "list": (await alice.http.get(legs_path(trip))).json()["items"][0],
        "export": (await alice.http.get(f"/trips/{trip['_id']}/export")).json()["legs"][0],
    }
    for where, read in reads.items():
        assert type(read["order"]) is int and read["order"] == 7, (where, read["order"])


async def test_legs_listed_by_order_and_paged(alice, trip):
    orders = [3, 15, 0, 2, 1, 10, 7]
    for i, order in enumerate(orders):
        await created(alice.http, legs_path(trip), leg_body(order=order, title=f"L{i}"))
    items, pages = await walk(alice.http, legs_path(trip), limit=3)
    assert [leg["order"] for leg in items] == sorted(orders) and pages == 3
    page = (await alice.http.get(legs_path(trip))).json()
    assert len(page["items"]) == 7 and page["nextCursor"] is None
    for limit in (0, 201):
        assert_error(
            await alice.http.get(legs_path(trip), params={"limit": limit}),
            400,
            "VALIDATION_ERROR",
            {"limit": "out_of_range"},
        )
    assert (await alice.http.get(legs_path(trip), params={"limit": 200})).status_code == 200


async def test_default_page_is_100(alice, trip, server):
    # Insert rows straight through the storage layer: 101 HTTP creates would only slow the suite.
    from app.domain import models as m
    from app.server.storage import content

    async with server.db.write() as conn:
        for i in range(101):
            await content.upsert(
                conn, content.LEG, {"id": trip["_id"]}, m.LegCreate.model_validate(leg_body(order=i))
            )
    page = (await alice.http.get(legs_path(trip))).json()
    assert len(page["items"]) == 100 and page["nextCursor"]
    rest = (await alice.http.get(legs_path(trip), params={"cursor": page["nextCursor"]})).json()
    assert [leg["order"] for leg in rest["items"]] == [100] and rest["nextCursor"] is None


async def test_patch_leg_changes_only_sent_fields(alice, trip):
    leg = await created(alice.http, legs_path(trip), leg_body(flights=[FLIGHT], rentalCar=CAR))
    response = await alice.http.patch(
        f"{legs_path(trip)}/{leg['_id']}", json={"destination": "Kyoto", "rentalCar": {"company": "X"}}
    )
    assert response.status_code == 200, response.text
    patched = response.json()
    assert patched["destination"] == "Kyoto" and patched["rentalCar"] == {**CAR, "company": "X"}
    assert patched["flights"] == [FLIGHT_ANSWER] and patched["title"] == leg["title"]
    assert_error(
        await alice.http.patch(
            f"{legs_path(trip)}/{leg['_id']}", json={"title": None, "order": None, "endDate": "2026-07-01"}
        ),
        400,
        "VALIDATION_ERROR",
        {"title": "invalid", "order": "invalid"},
    )
    assert_error(
        await alice.http.patch(f"{legs_path(trip)}/{leg['_id']}", json={"endDate": "2026-07-01"}),
        400,
        "VALIDATION_ERROR",
        {"endDate": "out_of_range"},
    )
    assert_error(await alice.http.patch(f"{legs_path(trip)}/nope", json={"title": "x"}), 404, "NOT_FOUND")


async def test_patch_client_ref_taken_by_another_leg_is_409(alice, trip):
    await created(alice.http, legs_path(trip), leg_body(clientRef="a"))
    b = await created(alice.http, legs_path(trip), leg_body(clientRef="b"))
    assert_error(
        await alice.http.patch(f"{legs_path(trip)}/{b['_id']}", json={"clientRef": "a"}), 409, "CONFLICT"
    )
    assert (await alice.http.patch(f"{legs_path(trip)}/{b['_id']}", json={"clientRef": "c"})).json()[
        "clientRef"
    ] == "c"


async def test_delete_leg_clears_commitment_links(alice, trip):
    leg = await created(alice.http, legs_path(trip), leg_body())
    commitment = await created(
        alice.http, f"/trips/{trip['_id']}/commitments", commitment_body(legId=leg["_id"])
    )
    response = await alice.http.delete(f"{legs_path(trip)}/{leg['_id']}")
    assert response.status_code == 204 and response.content == b""
    assert_error(await alice.http.get(f"{legs_path(trip)}/{leg['_id']}"), 404, "NOT_FOUND")
    assert_error(await alice.http.delete(f"{legs_path(trip)}/{leg['_id']}"), 404, "NOT_FOUND")
    after = (await alice.http.get(f"/trips/{trip['_id']}/commitments/{commitment['_id']}")).json()
    assert after["legId"] is None and after["title"] == commitment["title"]


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_leg_of_another_trip_is_not_found_here(alice, trip, method):
    other = await new_trip(alice, "Other")
    leg = await created(alice.http, legs_path(other), leg_body())
    body = {"title": "hijack"} if method == "PATCH" else None
    response = await alice.http.request(method, f"{legs_path(trip)}/{leg['_id']}", json=body)
    assert_error(response, 404, "NOT_FOUND")
    assert (await alice.http.get(f"{legs_path(other)}/{leg['_id']}")).json() == leg


async def test_a_patch_that_changes_nothing_leaves_the_revision_alone(alice, trip):
    path = f"/trips/{trip['_id']}"
    leg = (
        await alice.http.post(
            f"{path}/legs",
            json={
                "order": 0,
                "title": "Tokyo",
                "destination": "Tokyo",
                "startDate": "2026-07-15",
                "endDate": "2026-07-20",
                "timezone": "Asia/Tokyo",
                "clientRef": "tok",
            },
        )
    ).json()
    revision = (await alice.http.get(path)).json()["revision"]
    same = await alice.http.patch(f"{path}/legs/{leg['_id']}", json={"title": "Tokyo", "order": 0})
    assert same.status_code == 200 and same.json() == leg
    resent = await alice.http.post(
        f"{path}/legs",
        json={
            "order": 0,
            "title": "Tokyo",
            "destination": "Tokyo",
            "startDate": "2026-07-15",
            "endDate": "2026-07-20",
            "timezone": "Asia/Tokyo",
            "clientRef": "tok",
        },
    )
    assert resent.status_code == 200
    assert (await alice.http.get(path)).json()["revision"] == revision
    changed = await alice.http.patch(f"{path}/legs/{leg['_id']}", json={"title": "Kyoto"})
    assert changed.json()["title"] == "Kyoto"
    assert (await alice.http.get(path)).json()["revision"] == revision + 1
