"""POST /trips/{tripId}/ops: each op type, compare-and-set under concurrency, rejections."""

import asyncio
import json

import httpx

from app.server.app import create_app
from app.server.storage.database import Database
from tests.conftest import BASE

LEG = {
    "order": 0,
    "title": "Tokyo",
    "destination": "Tokyo",
    "startDate": "2026-07-15",
    "endDate": "2026-07-18",
    "timezone": "Asia/Tokyo",
}


async def revision(actor, trip_id) -> int:
    return (await actor.http.get(f"/trips/{trip_id}/itinerary")).json()["revision"]


async def events(actor, trip_id) -> dict:
    return {e["id"]: e for e in (await actor.http.get(f"/trips/{trip_id}/itinerary")).json()["events"]}


async def op(actor, trip_id, kind, payload, base=None, status=200):
    base = base if base is not None else await revision(actor, trip_id)
    response = await actor.http.post(
        f"/trips/{trip_id}/ops", json={"base_revision": base, "type": kind, "payload": payload}
    )
    assert response.status_code == status, response.text
    return response.json()


async def test_add_move_update_remove_a_commitment(alice, trip):
    trip_id = trip["_id"]
    added = await op(
        alice,
        trip_id,
        "add_event",
        {
            "title": "Dinner",
            "startDate": "2026-07-16",
            "category": "dinner",
            "startTime": "19:00",
            "endTime": "21:00",
        },
        base=1,
    )
    assert added == {
        "success": True,
        "trip_id": trip_id,
        "new_revision": 2,
        "operation": "add_event",
        "result": {"affected_event_ids": added["result"]["affected_event_ids"]},
    }
    (event_id,) = added["result"]["affected_event_ids"]
    assert events_equal(
        (await events(alice, trip_id))[event_id], date="2026-07-16", time="19:00", end_time="21:00"
    )

    moved = await op(
        alice, trip_id, "move_event", {"event_id": event_id, "date": "2026-07-17", "time": "20:30"}, base=2
    )
    assert moved["new_revision"] == 3 and moved["result"]["affected_event_ids"] == [event_id]
    # The move keeps the two-hour duration.
    assert events_equal(
        (await events(alice, trip_id))[event_id], date="2026-07-17", time="20:30", end_time="22:30"
    )
    date_only = await op(alice, trip_id, "move_event", {"event_id": event_id, "date": "2026-07-18"}, base=3)
    assert events_equal((await events(alice, trip_id))[event_id], date="2026-07-18", time="20:30")

    await op(
        alice,
        trip_id,
        "update_event",
        {"event_id": event_id, "title": "Izakaya", "category": "activity"},
        base=date_only["new_revision"],
    )
    after = (await events(alice, trip_id))[event_id]
    assert after["title"] == "Izakaya" and after["type"] == "activity"
    rest = await alice.http.get(f"/trips/{trip_id}/commitments/{event_id}")
    assert rest.json()["title"] == "Izakaya" and rest.json()["startDate"] == "2026-07-18"

    removed = await op(alice, trip_id, "remove_event", {"event_id": event_id}, base=5)
    assert removed["new_revision"] == 6 and event_id not in await events(alice, trip_id)
    log = (await alice.http.get(f"/trips/{trip_id}/itinerary/diff?since_revision=1")).json()
    assert [o["operation_type"] for o in log["operations"]] == [
        "add_event",
        "move_event",
        "move_event",
        "update_event",
        "remove_event",
    ]
    assert log["event_diffs"] == []


def events_equal(event, **expected) -> bool:
    return all(event[k] == v for k, v in expected.items())


async def test_moving_an_all_day_commitment_to_a_time(alice, trip):
    added = await op(
        alice,
        trip["_id"],
        "add_event",
        {"title": "Hike", "startDate": "2026-07-16", "category": "activity", "isAllDay": True},
    )
    (event_id,) = added["result"]["affected_event_ids"]
    await op(alice, trip["_id"], "move_event", {"event_id": event_id, "date": "2026-07-16", "time": "08:00"})
    rest = (await alice.http.get(f"/trips/{trip['_id']}/commitments/{event_id}")).json()
    assert (rest["isAllDay"], rest["startTime"], rest["endTime"]) == (False, "08:00", None)


async def test_derived_leg_events_move_update_and_remove_inside_the_leg(alice, trip):
    trip_id = trip["_id"]
    leg = (
        await alice.http.post(
            f"/trips/{trip_id}/legs",
            json={
                **LEG,
                "flights": [
                    {
                        "airline": "JL",
                        "from": "LHR",
                        "to": "HND",
                        "departureTime": "2026-07-15T09:30",
                        "arrivalTime": "2026-07-16T05:00",
                    },
                    {"from": "HND", "to": "KIX", "departureTime": "2026-07-17T08:00"},
                ],
                "stays": [
                    {
                        "name": "Ryokan",
                        "checkIn": "2026-07-15T15:00",
                        "checkOut": "2026-07-17T10:00",
                        "doorCode": "1234",
                    },
                    {"name": "Capsule"},
                ],
                "rentalCar": {
                    "company": "Toyota",
                    "pickupTime": "2026-07-16T10:00",
                    "dropoffTime": "2026-07-18T10:00",
                },
            },
        )
    ).json()
    leg_id = leg["_id"]

    await op(
        alice,
        trip_id,
        "move_event",
        {"event_id": f"{leg_id}.flight.0", "date": "2026-07-16", "time": "11:00"},
    )
    await op(alice, trip_id, "move_event", {"event_id": f"{leg_id}.accommodation.0", "date": "2026-07-16"})
    await op(
        alice,
        trip_id,
        "update_event",
        {"event_id": f"{leg_id}.rental_car", "company": "Nissan", "pickupLocation": "HND"},
    )
    await op(alice, trip_id, "update_event", {"event_id": f"{leg_id}.flight.1", "seat": "12A"})
    stored = (await alice.http.get(f"/trips/{trip_id}/legs/{leg_id}")).json()
    assert stored["flights"][0]["departureTime"] == "2026-07-16T11:00"
    assert stored["flights"][0]["arrivalTime"] == "2026-07-17T06:30"  # shifted with the departure
    assert stored["flights"][0]["airline"] == "JL"
    assert (
        stored["stays"][0]["checkIn"] == "2026-07-16T15:00"
        and stored["stays"][0]["checkOut"] == "2026-07-18T10:00"
    )
    assert stored["stays"][0]["doorCode"] == "1234" and stored["stays"][1] == {"name": "Capsule"}
    assert (
        stored["rentalCar"]["company"] == "Nissan" and stored["rentalCar"]["pickupTime"] == "2026-07-16T10:00"
    )
    assert stored["flights"][1]["seat"] == "12A"

    removed = await op(alice, trip_id, "remove_event", {"event_id": f"{leg_id}.rental_car"})
    assert removed["result"]["affected_event_ids"] == [f"{leg_id}.rental_car"]
    await op(alice, trip_id, "remove_event", {"event_id": f"{leg_id}.flight.0"})
    stored = (await alice.http.get(f"/trips/{trip_id}/legs/{leg_id}")).json()
    assert stored["rentalCar"] is None and [f["to"] for f in stored["flights"]] == ["KIX"]

    # A stay without a check-in time can move only with a time.
    no_time = await op(
        alice,
        trip_id,
        "move_event",
        {"event_id": f"{leg_id}.accommodation.1", "date": "2026-07-17"},
        status=409,
    )
    assert no_time["error"]["code"] == "OPERATION_REJECTED" and "time" in no_time["error"]["message"]
    await op(
        alice,
        trip_id,
        "move_event",
        {"event_id": f"{leg_id}.accommodation.1", "date": "2026-07-17", "time": "16:00"},
    )
    stored = (await alice.http.get(f"/trips/{trip_id}/legs/{leg_id}")).json()
    assert stored["stays"][1] == {"name": "Capsule", "checkIn": "2026-07-17T16:00"}


async def test_reorder_legs(alice, trip):
    trip_id = trip["_id"]
    ids = []
    for i, title in enumerate(("A", "B", "C")):
        ids.append(
            (
                await alice.http.post(f"/trips/{trip_id}/legs", json={**LEG, "order": i, "title": title})
            ).json()["_id"]
        )
    result = await op(alice, trip_id, "reorder", {"leg_ids": [ids[2], ids[0], ids[1]]})
    assert result["result"]["affected_event_ids"] == []
    titles = [leg["title"] for leg in (await alice.http.get(f"/trips/{trip_id}/legs")).json()["items"]]
    assert titles == ["C", "A", "B"]
    for bad, why in (
        ([ids[0], ids[1]], "leaves out"),
        ([*ids, "nope"], "not in this trip"),
        ([ids[0], ids[0], ids[1], ids[2]], "repeats"),
    ):
        body = await op(alice, trip_id, "reorder", {"leg_ids": bad}, status=409)
        assert body["error"]["code"] == "OPERATION_REJECTED" and why in body["error"]["message"]
    assert await revision(alice, trip_id) == 5  # rejected ops write nothing


async def test_rejections_say_why_and_write_nothing(alice, trip):
    trip_id = trip["_id"]  # 2026-07-15 .. 2026-07-22
    added = await op(
        alice,
        trip_id,
        "add_event",
        {
            "title": "Late dinner",
            "startDate": "2026-07-16",
            "category": "dinner",
            "startTime": "21:00",
            "endTime": "23:00",
        },
    )
    (event_id,) = added["result"]["affected_event_ids"]
    cases = [
        ("move_event", {"event_id": event_id, "date": "2026-07-23"}, "outside the trip"),
        ("move_event", {"event_id": event_id, "date": "2026-07-16", "time": "22:30"}, "midnight"),
        ("move_event", {"event_id": "no-such-event", "date": "2026-07-16"}, "No event"),
        ("remove_event", {"event_id": "abc.flight.0"}, "No event"),
        ("update_event", {"event_id": event_id, "startDate": "2026-08-01"}, "outside the trip"),
        (
            "add_event",
            {"title": "Before", "startDate": "2026-07-01", "category": "other"},
            "outside the trip",
        ),
    ]
    for kind, payload, why in cases:
        body = await op(alice, trip_id, kind, payload, base=2, status=409)
        assert body["error"]["code"] == "OPERATION_REJECTED" and body["code"] == "OPERATION_REJECTED", body
        assert why in body["error"]["message"], (kind, body)
    assert await revision(alice, trip_id) == 2


async def test_malformed_ops_are_400(alice, trip):
    trip_id = trip["_id"]
    cases = [
        ({"type": "move_event", "payload": {}}, "base_revision"),
        ({"base_revision": 1, "type": "teleport", "payload": {}}, "type"),
        (
            {"base_revision": 1, "type": "move_event", "payload": {"event_id": "x", "date": "2026-02-30"}},
            "payload.date",
        ),
        (
            {
                "base_revision": 1,
                "type": "move_event",
                "payload": {"event_id": "x", "date": "2026-07-16", "time": "25:00"},
            },
            "payload.time",
        ),
        (
            {
                "base_revision": 1,
                "type": "add_event",
                "payload": {"title": "x", "category": "party", "startDate": "2026-07-16"},
            },
            "payload.category",
        ),
        ({"base_revision": 1, "type": "reorder", "payload": {"leg_ids": "abc"}}, "payload.leg_ids"),
        (
            {"base_revision": 1, "type": "remove_event", "payload": {"event_id": "x", "extra": 1}},
            "payload.extra",
        ),
        ({"base_revision": 1, "type": "remove_event", "payload": {}, "bogus": True}, "bogus"),
        ({"base_revision": 10**20, "type": "remove_event", "payload": {"event_id": "x"}}, "base_revision"),
        ({"base_revision": 1, "type": "update_event", "payload": {"title": "no id"}}, "payload.event_id"),
        ({"base_revision": 1, "type": "move_event", "payload": []}, "payload"),
    ]
    for body, path in cases:
        response = await alice.http.post(f"/trips/{trip_id}/ops", json=body)
        assert response.status_code == 400, (body, response.text)
        assert path in [d["path"] for d in response.json()["error"]["details"]], response.json()


async def test_ops_need_a_mutating_role_and_write_scope(alice, bob, make_actor, trip):
    trip_id = trip["_id"]
    await alice.http.post(f"/trips/{trip_id}/members", json={"email": bob.email, "role": "viewer"})
    body = {
        "base_revision": 1,
        "type": "add_event",
        "payload": {"title": "x", "startDate": "2026-07-16", "category": "other"},
    }
    assert (await bob.http.post(f"/trips/{trip_id}/ops", json=body)).status_code == 403
    reader = await make_actor(alice.email.replace("alice", "alice"), scopes=["trips:read"])
    assert (await reader.http.post(f"/trips/{trip_id}/ops", json=body)).status_code == 403
    assert (await alice.http.post("/trips/unknown/ops", json=body)).status_code == 404
    assert (await alice.http.post(f"/trips/{trip_id}/ops", json=body)).status_code == 200


async def test_stale_revision_body(alice, trip):
    trip_id = trip["_id"]
    await alice.http.patch(f"/trips/{trip_id}", json={"title": "Moved on"})
    body = await op(
        alice,
        trip_id,
        "add_event",
        {"title": "x", "startDate": "2026-07-16", "category": "other"},
        base=1,
        status=409,
    )
    assert body["code"] == "STALE_REVISION" and body["current_revision"] == 2 and body["base_revision"] == 1
    assert body["error"]["code"] == "STALE_REVISION" and body["error"]["requestId"]
    # Stale wins over everything else: the op would be rejected too, but the client learns to re-read first.
    again = await op(alice, trip_id, "remove_event", {"event_id": "missing"}, base=1, status=409)
    assert again["code"] == "STALE_REVISION"


async def race(clients, trip_id, base):
    async def attempt(i, client):
        payload = {"title": f"Racer {i}", "startDate": "2026-07-16", "category": "other"}
        return await client.post(
            f"/trips/{trip_id}/ops", json={"base_revision": base, "type": "add_event", "payload": payload}
        )

    return await asyncio.gather(*(attempt(i, c) for i, c in enumerate(clients)))


async def test_two_clients_race_from_the_same_base_exactly_one_wins(alice, bob, trip):
    trip_id = trip["_id"]
    await alice.http.post(f"/trips/{trip_id}/members", json={"email": bob.email, "role": "editor"})
    for round_ in range(5):
        base = await revision(alice, trip_id)
        responses = await race([alice.http, bob.http], trip_id, base)
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200, 409], [r.text for r in responses]
        winner = next(r for r in responses if r.status_code == 200).json()
        loser = next(r for r in responses if r.status_code == 409)
        assert winner["new_revision"] == base + 1
        assert loser.json()["code"] == "STALE_REVISION" and loser.json()["current_revision"] == base + 1
        # The loser wrote nothing: exactly one racer's event was added this round.
        assert len(await events(alice, trip_id)) == 2 * round_ + 1
        # Re-read and retry (re-applying the same change) succeeds.
        loser_client = (
            alice.http
            if loser.request.headers["authorization"] == alice.http.headers["authorization"]
            else bob.http
        )
        fresh = (await loser_client.get(f"/trips/{trip_id}/itinerary")).json()["revision"]
        retry = await loser_client.post(
            f"/trips/{trip_id}/ops", json={**json.loads(loser.request.content), "base_revision": fresh}
        )
        assert retry.status_code == 200, retry.text
        assert retry.json()["new_revision"] == base + 2
        assert len(await events(alice, trip_id)) == 2 * round_ + 2


async def test_race_between_two_server_instances_sharing_the_database(server, alice, trip):
    """Two app instances (own engines and connection pools) on one database: the CAS holds in the
    database, not just in one process's write queue."""
    other_db = Database(server.db.url)
    other = create_app(server.app.state.settings, other_db)
    async with other.router.lifespan_context(other):
        second = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=other),
            base_url=BASE,
            headers={"Authorization": f"Bearer {alice.key}"},
            timeout=60,
        )
        try:
            for _ in range(5):
                base = await revision(alice, trip["_id"])
                clients = [alice.http, second, alice.http, second]
                responses = await race(clients, trip["_id"], base)
                codes = [r.status_code for r in responses]
                assert codes.count(200) == 1 and codes.count(409) == 3, [r.text for r in responses]
                assert all(r.json()["code"] == "STALE_REVISION" for r in responses if r.status_code == 409)
            assert await revision(alice, trip["_id"]) == 6
            assert len(await events(alice, trip["_id"])) == 5
        finally:
            await second.aclose()
