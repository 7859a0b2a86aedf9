"""Time truth (issue 17, API-CONTRACT section 12): flights in their airports' zones, instants on
every event, DST gaps refused and folds read as their first occurrence, and the conflicts that
need instants: nights without a stay and impossible transfers."""

import pytest

from tests.conftest import new_trip

TOKYO = {
    "order": 0,
    "title": "Tokyo",
    "destination": "Tokyo",
    "startDate": "2027-01-14",
    "endDate": "2027-01-20",
    "timezone": "Asia/Tokyo",
}
# A Swiss flight to Tokyo, kept on the Tokyo leg: 13:05 is Zurich time (CET, +01:00).
SWISS = {
    "airline": "LX",
    "flightNumber": "LX160",
    "from": "ZRH",
    "to": "NRT",
    "departureTime": "2027-01-14T13:05",
    "arrivalTime": "2027-01-15T08:40",
}


async def post(actor, path, body, status=201):
    response = await actor.http.post(path, json=body)
    assert response.status_code == status, response.text
    return response.json()


async def events_by_id(actor, trip_id):
    response = await actor.http.get(f"/trips/{trip_id}/itinerary")
    assert response.status_code == 200, response.text
    return {e["id"]: e for e in response.json()["events"]}


async def conflicts(actor, trip_id, kind):
    response = await actor.http.get(f"/trips/{trip_id}/itinerary/summary")
    assert response.status_code == 200, response.text
    return [c for c in response.json()["conflicts"] if c["type"] == kind]


async def winter_trip(actor, start="2027-01-10", end="2027-01-24"):
    return (await new_trip(actor, "Japan", start, end))["_id"]


# --- 1. flights in their airports' zones ------------------------------------------------------


async def test_a_flight_departs_in_its_airports_zone_not_the_legs(alice):
    trip_id = await winter_trip(alice)
    leg = await post(alice, f"/trips/{trip_id}/legs", {**TOKYO, "flights": [SWISS]})
    flight = leg["flights"][0]
    assert (flight["departureTimezone"], flight["departureTimezoneSource"]) == ("Europe/Zurich", "airport")
    assert (flight["arrivalTimezone"], flight["arrivalTimezoneSource"]) == ("Asia/Tokyo", "airport")
    event = (await events_by_id(alice, trip_id))[f"{leg['_id']}.flight.0"]
    assert event["starts_at"] == "2027-01-14T13:05:00+01:00"  # not 13:05 Tokyo time (+09:00)
    assert event["ends_at"] == "2027-01-15T08:40:00+09:00"
    assert (event["timezone"], event["end_timezone"]) == ("Europe/Zurich", "Asia/Tokyo")
    assert (event["date"], event["time"], event["end_date"], event["end_time"]) == (
        "2027-01-14",
        "13:05",
        "2027-01-15",
        "08:40",
    )


async def test_given_zones_win_and_unknown_places_fall_back_to_the_legs_zone(alice):
    trip_id = await winter_trip(alice)
    train = {
        "from": "Zürich HB",
        "to": "QQQ",
        "departureTime": "2027-01-14T08:00",
        "arrivalTime": "2027-01-14T09:00",
    }
    given = {**SWISS, "departureTimezone": "Europe/Berlin"}
    leg = await post(alice, f"/trips/{trip_id}/legs", {**TOKYO, "flights": [train, given]})
    first, second = leg["flights"]
    assert (first["departureTimezone"], first["departureTimezoneSource"]) == ("Asia/Tokyo", "leg")
    assert (first["arrivalTimezone"], first["arrivalTimezoneSource"]) == ("Asia/Tokyo", "leg")
    assert (second["departureTimezone"], second["departureTimezoneSource"]) == ("Europe/Berlin", "given")
    events = await events_by_id(alice, trip_id)
    assert events[f"{leg['_id']}.flight.0"]["starts_at"] == "2027-01-14T08:00:00+09:00"
    assert events[f"{leg['_id']}.flight.0"]["end_timezone"] is None  # both ends in one zone
    assert events[f"{leg['_id']}.flight.1"]["timezone"] == "Europe/Berlin"
    bad = await alice.http.post(
        f"/trips/{trip_id}/legs", json={**TOKYO, "flights": [{**SWISS, "arrivalTimezone": "Mars/Olympus"}]}
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["details"] == [{"path": "flights.0.arrivalTimezone", "reason": "invalid"}]


async def test_a_flight_sent_back_as_read_is_resolved_again(alice):
    """A client that edits `from` and sends the flight back with the zones it read (as the TUI's
    forms do) gets the new airport's zone: zones that were not given are not kept."""
    trip_id = await winter_trip(alice)
    leg = await post(alice, f"/trips/{trip_id}/legs", {**TOKYO, "flights": [SWISS]})
    read = (await alice.http.get(f"/trips/{trip_id}/legs/{leg['_id']}")).json()["flights"]
    edited = [{**read[0], "from": "CDG"}]
    patched = await alice.http.patch(f"/trips/{trip_id}/legs/{leg['_id']}", json={"flights": edited})
    assert patched.status_code == 200, patched.text
    assert patched.json()["flights"][0]["departureTimezone"] == "Europe/Paris"
    # A leg moved to another zone takes its flights without airports along.
    moved = await post(
        alice,
        f"/trips/{trip_id}/legs",
        {**TOKYO, "order": 1, "flights": [{"departureTime": "2027-01-16T10:00"}]},
    )
    read = (await alice.http.get(f"/trips/{trip_id}/legs/{moved['_id']}")).json()
    again = await alice.http.patch(
        f"/trips/{trip_id}/legs/{moved['_id']}", json={"timezone": "Asia/Seoul", "flights": read["flights"]}
    )
    assert again.json()["flights"][0]["departureTimezone"] == "Asia/Seoul"


async def test_the_ops_update_a_flights_zone_through_the_same_rules(alice):
    trip_id = await winter_trip(alice)
    leg = await post(alice, f"/trips/{trip_id}/legs", {**TOKYO, "flights": [SWISS]})
    revision = (await alice.http.get(f"/trips/{trip_id}")).json()["revision"]
    response = await alice.http.post(
        f"/trips/{trip_id}/ops",
        json={
            "base_revision": revision,
            "type": "update_event",
            "payload": {"event_id": f"{leg['_id']}.flight.0", "departureTimezone": "Europe/Vienna"},
        },
    )
    assert response.status_code == 200, response.text
    event = (await events_by_id(alice, trip_id))[f"{leg['_id']}.flight.0"]
    assert (event["timezone"], event["starts_at"]) == ("Europe/Vienna", "2027-01-14T13:05:00+01:00")


# --- 2. instants on every event ---------------------------------------------------------------


async def test_every_event_carries_its_instants_and_untimed_ones_null(alice):
    trip_id = (await new_trip(alice, "Summer", "2026-07-10", "2026-07-20"))["_id"]
    leg = await post(
        alice,
        f"/trips/{trip_id}/legs",
        {
            "order": 0,
            "title": "London",
            "destination": "London",
            "startDate": "2026-07-10",
            "endDate": "2026-07-15",
            "timezone": "Europe/London",
            "stays": [
                {"name": "Flat", "checkIn": "2026-07-10T15:00", "checkOut": "2026-07-15T10:00"},
                {"name": "Untimed"},
            ],
            "rentalCar": {"company": "Hertz", "pickupTime": "2026-07-11T09:00"},
        },
    )
    own = await post(
        alice,
        f"/trips/{trip_id}/commitments",
        {
            "title": "Call",
            "startDate": "2026-07-12",
            "category": "meeting",
            "startTime": "09:00",
            "endTime": "10:30",
            "timezone": "Asia/Tokyo",
        },
    )
    linked = await post(
        alice,
        f"/trips/{trip_id}/commitments",
        {
            "title": "Show",
            "startDate": "2026-07-12",
            "category": "activity",
            "startTime": "19:30",
            "legId": leg["_id"],
        },
    )
    all_day = await post(
        alice,
        f"/trips/{trip_id}/commitments",
        {
            "title": "Birthday",
            "startDate": "2026-07-13",
            "category": "birthday",
            "isAllDay": True,
            "legId": leg["_id"],
        },
    )
    untimed = await post(
        alice,
        f"/trips/{trip_id}/commitments",
        {"title": "Museum", "startDate": "2026-07-13", "category": "activity"},
    )
    events = await events_by_id(alice, trip_id)
    stay = events[f"{leg['_id']}.accommodation.0"]
    assert (stay["starts_at"], stay["ends_at"]) == ("2026-07-10T15:00:00+01:00", "2026-07-15T10:00:00+01:00")
    assert events[f"{leg['_id']}.accommodation.1"]["starts_at"] is None
    assert events[f"{leg['_id']}.rental_car"]["starts_at"] == "2026-07-11T09:00:00+01:00"
    assert events[f"{leg['_id']}.rental_car"]["ends_at"] is None
    assert (events[own["_id"]]["starts_at"], events[own["_id"]]["ends_at"]) == (
        "2026-07-12T09:00:00+09:00",
        "2026-07-12T10:30:00+09:00",
    )
    # A commitment without a zone of its own is in its leg's, and says so.
    assert (events[linked["_id"]]["timezone"], events[linked["_id"]]["starts_at"]) == (
        "Europe/London",
        "2026-07-12T19:30:00+01:00",
    )
    for plain in (all_day, untimed):
        assert (events[plain["_id"]]["starts_at"], events[plain["_id"]]["ends_at"]) == (None, None)
    assert all("end_timezone" in e for e in events.values())


async def test_a_legs_new_zone_moves_its_commitments_and_the_diff_says_so(alice):
    trip_id = (await new_trip(alice, "Summer", "2026-07-10", "2026-07-20"))["_id"]
    leg = await post(
        alice,
        f"/trips/{trip_id}/legs",
        {
            "order": 0,
            "title": "A",
            "destination": "A",
            "startDate": "2026-07-10",
            "endDate": "2026-07-15",
            "timezone": "Europe/London",
        },
    )
    linked = await post(
        alice,
        f"/trips/{trip_id}/commitments",
        {
            "title": "Show",
            "startDate": "2026-07-12",
            "category": "activity",
            "startTime": "19:30",
            "legId": leg["_id"],
        },
    )
    revision = (await alice.http.get(f"/trips/{trip_id}")).json()["revision"]
    assert (
        await alice.http.patch(f"/trips/{trip_id}/legs/{leg['_id']}", json={"timezone": "Europe/Paris"})
    ).status_code == 200
    diff = (
        await alice.http.get(f"/trips/{trip_id}/itinerary/diff", params={"since_revision": revision})
    ).json()
    assert {d["event_id"]: d["change"] for d in diff["event_diffs"]} == {linked["_id"]: "updated"}
    assert (await events_by_id(alice, trip_id))[linked["_id"]]["starts_at"] == "2026-07-12T19:30:00+02:00"
    revision = diff["current_revision"]
    assert (await alice.http.delete(f"/trips/{trip_id}/legs/{leg['_id']}")).status_code == 204
    diff = (
        await alice.http.get(f"/trips/{trip_id}/itinerary/diff", params={"since_revision": revision})
    ).json()
    assert {d["event_id"]: d["change"] for d in diff["event_diffs"]} == {linked["_id"]: "updated"}
    floating = (await events_by_id(alice, trip_id))[linked["_id"]]
    assert (floating["timezone"], floating["starts_at"]) == (None, None)


# --- 3. DST -----------------------------------------------------------------------------------

# (zone, a local time in its spring-forward gap, the gap as the message names it)
GAPS = [
    ("Europe/Paris", "2027-03-28T02:30", "from 02:00 to 03:00"),
    ("America/New_York", "2027-03-14T02:30", "from 02:00 to 03:00"),
    ("Australia/Lord_Howe", "2026-10-04T02:15", "from 02:00 to 02:30"),  # a 30-minute shift
]


def leg_in(zone: str, day: str, **fields) -> dict:
    return {
        "order": 0,
        "title": "Leg",
        "destination": "Somewhere",
        "startDate": day,
        "endDate": day,
        "timezone": zone,
        **fields,
    }


def assert_gap(response, path: str, zone: str, local: str, named: str) -> None:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"] == [{"path": path, "reason": "invalid"}]
    assert local in error["message"] and zone in error["message"] and named in error["message"], error[
        "message"
    ]


@pytest.mark.parametrize("zone,local,named", GAPS)
async def test_a_time_in_the_spring_forward_gap_is_refused_everywhere(alice, zone, local, named):
    day, time = local[:10], local[11:]
    trip_id = (await new_trip(alice, "DST", day, day))["_id"]
    legs, commitments = f"/trips/{trip_id}/legs", f"/trips/{trip_id}/commitments"
    assert_gap(
        await alice.http.post(
            commitments,
            json={"title": "x", "startDate": day, "category": "other", "startTime": time, "timezone": zone},
        ),
        "startTime",
        zone,
        local,
        named,
    )
    assert_gap(
        await alice.http.post(legs, json=leg_in(zone, day, accommodation={"checkIn": local})),
        "accommodation.checkIn",
        zone,
        local,
        named,
    )
    assert_gap(
        await alice.http.post(legs, json=leg_in(zone, day, stays=[{"name": "a"}, {"checkOut": local}])),
        "stays.1.checkOut",
        zone,
        local,
        named,
    )
    assert_gap(
        await alice.http.post(legs, json=leg_in(zone, day, rentalCar={"dropoffTime": local})),
        "rentalCar.dropoffTime",
        zone,
        local,
        named,
    )
    # A flight's times are checked in the flight's zones: the leg's zone does not matter.
    assert_gap(
        await alice.http.post(
            legs,
            json=leg_in(
                "Asia/Tokyo",
                day,
                flights=[{"from": "XXA", "departureTimezone": zone, "departureTime": local}],
            ),
        ),
        "flights.0.departureTime",
        zone,
        local,
        named,
    )
    # A commitment in its leg's zone, and through a batch.
    leg = await post(alice, legs, leg_in(zone, day))
    assert_gap(
        await alice.http.post(
            commitments,
            json={
                "title": "x",
                "startDate": day,
                "category": "other",
                "startTime": "01:00",
                "endTime": time,
                "legId": leg["_id"],
            },
        ),
        "endTime",
        zone,
        local,
        named,
    )
    batch = await alice.http.post(
        f"{legs}:batch", json={"items": [leg_in(zone, day, rentalCar={"pickupTime": local})]}
    )
    assert batch.status_code == 207
    assert batch.json()["results"][0]["error"]["details"] == [
        {"path": "rentalCar.pickupTime", "reason": "invalid"}
    ]
    # The ops: moving or updating an event into the gap.
    made = await post(
        alice,
        commitments,
        {"title": "x", "startDate": day, "category": "other", "startTime": "12:00", "timezone": zone},
    )
    car = await alice.http.patch(f"{legs}/{leg['_id']}", json={"rentalCar": {"pickupTime": f"{day}T12:00"}})
    assert car.status_code == 200
    for payload in (
        {"event_id": made["_id"], "date": day, "time": time},
        {"event_id": f"{leg['_id']}.rental_car", "date": day, "time": time},
    ):
        revision = (await alice.http.get(f"/trips/{trip_id}")).json()["revision"]
        moved = await alice.http.post(
            f"/trips/{trip_id}/ops",
            json={"base_revision": revision, "type": "move_event", "payload": payload},
        )
        assert moved.status_code == 400 and local in moved.json()["error"]["message"], moved.text
    revision = (await alice.http.get(f"/trips/{trip_id}")).json()["revision"]
    updated = await alice.http.post(
        f"/trips/{trip_id}/ops",
        json={
            "base_revision": revision,
            "type": "update_event",
            "payload": {"event_id": made["_id"], "startTime": time},
        },
    )
    assert_gap(updated, "startTime", zone, local, named)
    # A leg moved to the zone makes its stored times fall in the gap: refused too.
    elsewhere = await post(alice, legs, leg_in("Asia/Tokyo", day, accommodation={"checkIn": local}))
    assert_gap(
        await alice.http.patch(f"{legs}/{elsewhere['_id']}", json={"timezone": zone}),
        "stays.0.checkIn",
        zone,
        local,
        named,
    )
    # So do the times of the commitments that take their zone from the leg.
    tokyo = await post(alice, legs, leg_in("Asia/Tokyo", day))
    await post(
        alice,
        commitments,
        {"title": "Linked", "startDate": day, "category": "other", "startTime": time, "legId": tokyo["_id"]},
    )
    moved = await alice.http.patch(f"{legs}/{tokyo['_id']}", json={"timezone": zone})
    assert_gap(moved, "timezone", zone, local, named)
    assert "“Linked”" in moved.json()["error"]["message"]
    synced = await alice.http.post(
        f"/trips/{trip_id}/legs:batch",
        json={"items": [{**leg_in("Asia/Tokyo", day, clientRef="t"), "title": "T"}]},
    )
    linked = await post(
        alice,
        commitments,
        {
            "title": "Linked",
            "startDate": day,
            "category": "other",
            "startTime": time,
            "legId": synced.json()["results"][0]["_id"],
        },
    )
    batch = await alice.http.post(f"{legs}:batch", json={"items": [leg_in(zone, day, clientRef="t")]})
    assert batch.status_code == 207 and batch.json()["results"][0]["error"]["details"] == [
        {"path": "timezone", "reason": "invalid"}
    ]
    assert linked["_id"]


async def test_the_same_times_exist_in_a_zone_without_dst(alice):
    trip_id = (await new_trip(alice, "No DST", "2027-03-28", "2027-03-28"))["_id"]
    for zone in ("Asia/Tokyo", "UTC", "America/Phoenix"):
        made = await post(
            alice,
            f"/trips/{trip_id}/commitments",
            {
                "title": zone,
                "startDate": "2027-03-28",
                "category": "other",
                "startTime": "02:30",
                "timezone": zone,
            },
        )
        assert made["startTime"] == "02:30"
    events = await events_by_id(alice, trip_id)
    assert sorted(e["starts_at"] for e in events.values()) == [
        "2027-03-28T02:30:00+00:00",
        "2027-03-28T02:30:00+09:00",
        "2027-03-28T02:30:00-07:00",
    ]


@pytest.mark.parametrize(
    "zone,local,first",
    [
        ("Europe/Paris", "2027-10-31T02:30", "+02:00"),
        ("America/New_York", "2027-11-07T01:30", "-04:00"),
        ("Australia/Lord_Howe", "2027-04-04T01:45", "+11:00"),  # clocks go back from 02:00 to 01:30
    ],
)
async def test_an_ambiguous_time_means_its_first_occurrence(alice, zone, local, first):
    day, time = local[:10], local[11:]
    trip_id = (await new_trip(alice, "Fall back", day, day))["_id"]
    made = await post(
        alice,
        f"/trips/{trip_id}/commitments",
        {"title": "x", "startDate": day, "category": "other", "startTime": time, "timezone": zone},
    )
    assert (await events_by_id(alice, trip_id))[made["_id"]]["starts_at"] == f"{local}:00{first}"


# --- 4. nights without a stay, impossible transfers -------------------------------------------


def leg_body(title, start, end, zone="Europe/Lisbon", **fields):
    return {
        "order": 0,
        "title": title,
        "destination": title,
        "startDate": start,
        "endDate": end,
        "timezone": zone,
        **fields,
    }


async def test_nights_without_a_stay_one_conflict_per_run(alice):
    trip_id = (await new_trip(alice, "Road trip", "2026-07-15", "2026-07-22"))["_id"]
    # An empty trip has no bed for any of its seven nights.
    [empty] = await conflicts(alice, trip_id, "night_without_stay")
    assert empty["dates"] == [f"2026-07-{d}" for d in range(15, 22)] and empty["event_ids"] == []
    a = await post(
        alice,
        f"/trips/{trip_id}/legs",
        leg_body(
            "A",
            "2026-07-15",
            "2026-07-18",
            stays=[{"name": "Casa", "checkIn": "2026-07-15T15:00", "checkOut": "2026-07-17T11:00"}],
        ),
    )
    b = await post(
        alice,
        f"/trips/{trip_id}/legs",
        leg_body(
            "B",
            "2026-07-18",
            "2026-07-22",
            stays=[{"name": "Riad", "checkIn": "2026-07-19T15:00", "checkOut": "2026-07-21T11:00"}],
        ),
    )
    found = await conflicts(alice, trip_id, "night_without_stay")
    # The nights of the 17th and 18th (one run, between the legs) and of the 21st (the last).
    assert [c["dates"] for c in found] == [["2026-07-17", "2026-07-18"], ["2026-07-21"]]
    assert found[0]["event_ids"] == [a["_id"], b["_id"]] and found[1]["event_ids"] == [b["_id"]]
    assert "2 nights" in found[0]["message"] and "“A”" in found[0]["message"]
    # A stay without dates covers its leg; an overnight flight is a night spent in the air.
    await alice.http.patch(
        f"/trips/{trip_id}/legs/{b['_id']}",
        json={
            "stays": [
                {"name": "Riad", "checkIn": "2026-07-19T15:00", "checkOut": "2026-07-21T11:00"},
                {"name": "Hostel", "checkIn": "2026-07-21T20:00"},
            ]
        },
    )
    await alice.http.patch(
        f"/trips/{trip_id}/legs/{a['_id']}",
        json={
            "flights": [
                {
                    "from": "LIS",
                    "to": "GRU",
                    "departureTime": "2026-07-17T22:00",
                    "arrivalTime": "2026-07-18T05:30",
                }
            ]
        },
    )
    found = await conflicts(alice, trip_id, "night_without_stay")
    assert [c["dates"] for c in found] == [["2026-07-18"]] and "the night of 2026-07-18" in found[0][
        "message"
    ]


async def test_a_connection_shorter_than_the_minimum_is_an_impossible_transfer(alice):
    trip_id = (await new_trip(alice, "Connections", "2027-01-14", "2027-01-20"))["_id"]
    leg = await post(
        alice,
        f"/trips/{trip_id}/legs",
        leg_body(
            "Tokyo",
            "2027-01-14",
            "2027-01-20",
            "Asia/Tokyo",
            flights=[
                {
                    "from": "LHR",
                    "to": "ZRH",
                    "departureTime": "2027-01-14T09:00",
                    "arrivalTime": "2027-01-14T11:45",
                },
                # 12:25 Zurich is 40 minutes after landing: under the 45-minute minimum.
                {
                    "from": "ZRH",
                    "to": "NRT",
                    "departureTime": "2027-01-14T12:25",
                    "arrivalTime": "2027-01-15T08:00",
                },
            ],
        ),
    )
    [found] = await conflicts(alice, trip_id, "impossible_transfer")
    assert found["event_ids"] == [f"{leg['_id']}.flight.0", f"{leg['_id']}.flight.1"]
    assert "40 min after" in found["message"] and "45 min" in found["message"]
    assert found["message"].startswith("Flight “ZRH → NRT” departs")  # the codes as written, not “zrh → nrt”
    # 13:05 leaves 80 minutes: fine. (The same times read in the leg's zone would not be.)
    fixed = [dict(f) for f in leg["flights"]]  # sent back as read
    fixed[1]["departureTime"] = "2027-01-14T13:05"
    assert (
        await alice.http.patch(f"/trips/{trip_id}/legs/{leg['_id']}", json={"flights": fixed})
    ).status_code == 200
    assert await conflicts(alice, trip_id, "impossible_transfer") == []


async def test_a_flight_landing_before_it_departs_is_flagged(alice):
    trip_id = (await new_trip(alice, "Typo", "2027-01-14", "2027-01-20"))["_id"]
    # Read in one zone these times are fine; in the airports' zones it lands before it leaves.
    leg = await post(
        alice,
        f"/trips/{trip_id}/legs",
        leg_body(
            "NY",
            "2027-01-14",
            "2027-01-20",
            "America/New_York",
            flights=[
                {
                    "from": "JFK",
                    "to": "LHR",
                    "departureTime": "2027-01-14T18:00",
                    "arrivalTime": "2027-01-14T20:00",
                }
            ],
        ),
    )
    [found] = await conflicts(alice, trip_id, "impossible_transfer")
    assert found["event_ids"] == [f"{leg['_id']}.flight.0"]
    assert "before it departs" in found["message"] and "3 h 00 min" in found["message"]
    assert found["message"].startswith("Flight “JFK → LHR” lands")


async def test_a_commitment_before_the_flight_into_its_leg_lands(alice):
    trip_id = (await new_trip(alice, "Tokyo", "2027-01-14", "2027-01-20"))["_id"]
    leg = await post(
        alice,
        f"/trips/{trip_id}/legs",
        {
            **TOKYO,
            "startDate": "2027-01-15",
            "flights": [
                SWISS,
                {
                    "from": "NRT",
                    "to": "ZRH",
                    "departureTime": "2027-01-20T10:00",
                    "arrivalTime": "2027-01-20T15:00",
                },
            ],
        },
    )
    early = await post(
        alice,
        f"/trips/{trip_id}/commitments",
        {
            "title": "Sushi",
            "startDate": "2027-01-15",
            "category": "dinner",
            "startTime": "08:00",
            "legId": leg["_id"],
        },
    )
    await post(
        alice,
        f"/trips/{trip_id}/commitments",
        {
            "title": "Lunch",
            "startDate": "2027-01-15",
            "category": "dinner",
            "startTime": "12:00",
            "legId": leg["_id"],
        },
    )
    await post(
        alice,
        f"/trips/{trip_id}/commitments",
        {
            "title": "Breakfast",
            "startDate": "2027-01-15",
            "category": "dinner",
            "isAllDay": True,
            "legId": leg["_id"],
        },
    )
    [found] = await conflicts(alice, trip_id, "impossible_transfer")
    assert found["event_ids"] == [f"{leg['_id']}.flight.0", early["_id"]]
    assert "Sushi" in found["message"] and "40 min before" in found["message"]


async def test_the_minimum_connection_is_a_trip_setting(alice):
    trip = await new_trip(alice, "Connections", "2027-01-14", "2027-01-20")
    assert trip["minConnectionMinutes"] == 45
    trip_id = trip["_id"]
    await post(
        alice,
        f"/trips/{trip_id}/legs",
        leg_body(
            "Tokyo",
            "2027-01-14",
            "2027-01-20",
            "Asia/Tokyo",
            flights=[
                {
                    "from": "LHR",
                    "to": "ZRH",
                    "departureTime": "2027-01-14T09:00",
                    "arrivalTime": "2027-01-14T11:45",
                },
                {
                    "from": "ZRH",
                    "to": "NRT",
                    "departureTime": "2027-01-14T13:05",
                    "arrivalTime": "2027-01-15T08:00",
                },
            ],
        ),
    )
    assert await conflicts(alice, trip_id, "impossible_transfer") == []  # 80 minutes
    patched = await alice.http.patch(f"/trips/{trip_id}", json={"minConnectionMinutes": 90})
    assert patched.status_code == 200 and patched.json()["minConnectionMinutes"] == 90
    [found] = await conflicts(alice, trip_id, "impossible_transfer")
    assert "1 h 20 min after" in found["message"] and "minimum connection is 1 h 30 min" in found["message"]
    assert (await alice.http.patch(f"/trips/{trip_id}", json={"minConnectionMinutes": 0})).status_code == 200
    assert await conflicts(alice, trip_id, "impossible_transfer") == []
    for bad, reason in ((-1, "out_of_range"), (1441, "out_of_range"), ("45", "invalid"), (None, "invalid")):
        response = await alice.http.patch(f"/trips/{trip_id}", json={"minConnectionMinutes": bad})
        assert response.status_code == 400, bad
        assert response.json()["error"]["details"] == [{"path": "minConnectionMinutes", "reason": reason}]
    me = (await alice.http.get("/me")).json()
    made = await post(
        alice,
        "/trips",
        {
            "groupId": me["defaultGroupId"],
            "title": "Quick",
            "startDate": "2027-01-14",
            "endDate": "2027-01-15",
            "minConnectionMinutes": 30,
        },
    )
    assert made["minConnectionMinutes"] == 30


async def test_a_moved_flight_keeps_its_time_in_the_air_across_a_dst_change(alice):
    """CDG→JFK, 10:00 Paris to 12:30 New York on 2027-03-27 (US summer time, France not yet):
    7 h 30 in the air. Moved to 2027-03-06, before the US change, it lands at 11:30, not 12:30."""
    trip_id = (await new_trip(alice, "Spring", "2027-03-01", "2027-03-31"))["_id"]
    leg = await post(
        alice,
        f"/trips/{trip_id}/legs",
        leg_body(
            "NY",
            "2027-03-01",
            "2027-03-31",
            "America/New_York",
            flights=[
                {
                    "from": "CDG",
                    "to": "JFK",
                    "departureTime": "2027-03-27T10:00",
                    "arrivalTime": "2027-03-27T12:30",
                }
            ],
            stays=[{"name": "Hotel", "checkIn": "2027-03-27T15:00", "checkOut": "2027-03-29T11:00"}],
        ),
    )
    for event_id, date in (
        (f"{leg['_id']}.flight.0", "2027-03-06"),
        (f"{leg['_id']}.accommodation.0", "2027-03-06"),
    ):
        revision = (await alice.http.get(f"/trips/{trip_id}")).json()["revision"]
        moved = await alice.http.post(
            f"/trips/{trip_id}/ops",
            json={
                "base_revision": revision,
                "type": "move_event",
                "payload": {"event_id": event_id, "date": date},
            },
        )
        assert moved.status_code == 200, moved.text
    stored = (await alice.http.get(f"/trips/{trip_id}/legs/{leg['_id']}")).json()
    assert stored["flights"][0]["arrivalTime"] == "2027-03-06T11:30"
    assert stored["stays"][0]["checkOut"] == "2027-03-08T11:00"  # a check-out keeps its local hour
