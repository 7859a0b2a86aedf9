"""GET /itinerary, /itinerary/diff and /itinerary/summary: shapes, ordering, net diffs and every
conflict type (time-zone aware)."""

from tests.conftest import new_trip

LEG = {
    "order": 0,
    "title": "Tokyo",
    "destination": "Tokyo",
    "startDate": "2026-07-15",
    "endDate": "2026-07-18",
    "timezone": "Asia/Tokyo",
}


async def post(actor, path, body, status=201):
    response = await actor.http.post(path, json=body)
    assert response.status_code == status, response.text
    return response.json()


async def commitment(actor, trip_id, **fields):
    body = {"title": "Dinner", "startDate": "2026-07-16", "category": "dinner", **fields}
    return await post(actor, f"/trips/{trip_id}/commitments", body)


async def summary(actor, trip_id):
    response = await actor.http.get(f"/trips/{trip_id}/itinerary/summary")
    assert response.status_code == 200, response.text
    return response.json()


def conflicts_of(body, kind):
    return [c for c in body["conflicts"] if c["type"] == kind]


def scheduling(body):
    """The conflicts other than nights without a stay (these trips have no stays: every night is
    one; tests/server/test_time_truth.py covers them)."""
    return [c for c in body["conflicts"] if c["type"] != "night_without_stay"]


async def test_itinerary_lists_derived_and_commitment_events_in_order(alice, trip):
    trip_id = trip["_id"]
    leg = await post(
        alice,
        f"/trips/{trip_id}/legs",
        {
            **LEG,
            "stays": [
                {"name": "Ryokan", "checkIn": "2026-07-15T15:00", "lat": 35.6, "lng": 139.7},
                {"name": "Capsule", "checkIn": "2026-07-17T18:00"},
            ],
            "flights": [
                {
                    "airline": "JL",
                    "flightNumber": "JL44",
                    "from": "LHR",
                    "to": "HND",
                    "departureTime": "2026-07-15T09:30",
                    "arrivalTime": "2026-07-16T05:00",
                }
            ],
            "rentalCar": {"company": "Toyota Rent", "pickupTime": "2026-07-16T10:00"},
        },
    )
    dinner = await commitment(
        alice, trip_id, title="Sushi", startTime="19:00", endTime="21:00", legId=leg["_id"]
    )
    birthday = await commitment(alice, trip_id, title="Kenji's birthday", category="birthday", isAllDay=True)
    response = await alice.http.get(f"/trips/{trip_id}/itinerary")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"trip_id", "revision", "status", "event_count", "events"}
    assert body["trip_id"] == trip_id and body["revision"] == 4 and body["status"] == "draft"
    ids = [e["id"] for e in body["events"]]
    assert ids == [
        f"{leg['_id']}.flight.0",
        f"{leg['_id']}.accommodation.0",
        birthday["_id"],
        f"{leg['_id']}.rental_car",
        dinner["_id"],
        f"{leg['_id']}.accommodation.1",
    ]
    assert body["event_count"] == 6
    flight = body["events"][0]
    assert flight["type"] == "flight" and flight["title"] == "LHR → HND" and flight["time"] == "09:30"
    # Each end of a flight in its airport's zone: 09:30 in London (BST), 05:00 in Tokyo.
    assert (flight["end_date"], flight["end_time"], flight["timezone"]) == (
        "2026-07-16",
        "05:00",
        "Europe/London",
    )
    assert (flight["starts_at"], flight["ends_at"]) == (
        "2026-07-15T09:30:00+01:00",
        "2026-07-16T05:00:00+09:00",
    )
    assert flight["end_timezone"] == "Asia/Tokyo"
    assert body["events"][2]["type"] == "birthday" and body["events"][2]["time"] is None
    assert body["events"][4]["leg_id"] == leg["_id"]


async def test_viewer_reads_and_outsiders_do_not(alice, bob, trip):
    assert (await bob.http.get(f"/trips/{trip['_id']}/itinerary")).status_code == 403
    add = await alice.http.post(f"/trips/{trip['_id']}/members", json={"email": bob.email, "role": "viewer"})
    assert add.status_code == 201, add.text
    for path in ("itinerary", "itinerary/summary", "itinerary/diff?since_revision=1"):
        assert (await bob.http.get(f"/trips/{trip['_id']}/{path}")).status_code == 200
    assert (await alice.http.get("/trips/nope/itinerary")).status_code == 404


async def test_diff_nets_changes_per_event(alice, trip):
    trip_id = trip["_id"]
    kept = await commitment(alice, trip_id, title="Kept")
    gone = await commitment(alice, trip_id, title="Short-lived")  # revision 3
    assert (
        await alice.http.patch(f"/trips/{trip_id}/commitments/{kept['_id']}", json={"title": "Kept!"})
    ).status_code == 200
    assert (await alice.http.delete(f"/trips/{trip_id}/commitments/{gone['_id']}")).status_code == 204
    added = await commitment(alice, trip_id, title="New")  # revision 6
    assert (await alice.http.patch(f"/trips/{trip_id}", json={"title": "Renamed"})).status_code == 200  # 7

    diff = (await alice.http.get(f"/trips/{trip_id}/itinerary/diff", params={"since_revision": 2})).json()
    assert diff["since_revision"] == 2 and diff["current_revision"] == 7
    assert [op["result_revision"] for op in diff["operations"]] == [3, 4, 5, 6, 7]
    assert [op["operation_type"] for op in diff["operations"]] == [
        "create_commitment",
        "update_commitment",
        "delete_commitment",
        "create_commitment",
        "update_trip",
    ]
    assert diff["operations"][0]["affected_event_ids"] == [gone["_id"]]
    assert set(diff["operations"][0]) == {"op_id", "operation_type", "result_revision", "affected_event_ids"}
    changes = {d["event_id"]: d["change"] for d in diff["event_diffs"]}
    assert changes == {kept["_id"]: "updated", added["_id"]: "added"}  # gone: added, then removed

    since_one = (await alice.http.get(f"/trips/{trip_id}/itinerary/diff?since_revision=1")).json()
    assert {d["event_id"]: d["change"] for d in since_one["event_diffs"]} == {
        kept["_id"]: "added",
        added["_id"]: "added",
    }
    since_three = (await alice.http.get(f"/trips/{trip_id}/itinerary/diff?since_revision=3")).json()
    assert {d["event_id"]: d["change"] for d in since_three["event_diffs"]} == {
        kept["_id"]: "updated",
        gone["_id"]: "removed",
        added["_id"]: "added",
    }
    current = (await alice.http.get(f"/trips/{trip_id}/itinerary/diff?since_revision=7")).json()
    assert current["operations"] == [] and current["event_diffs"] == []


async def test_diff_rejects_revisions_outside_the_log(alice, trip):
    for bad in ("0", "2", "-1", "x"):
        response = await alice.http.get(f"/trips/{trip['_id']}/itinerary/diff?since_revision={bad}")
        assert response.status_code == 400, bad
        assert response.json()["error"]["details"][0]["path"] == "since_revision"
    missing = await alice.http.get(f"/trips/{trip['_id']}/itinerary/diff")
    assert missing.status_code == 400
    assert missing.json()["error"]["details"] == [{"path": "since_revision", "reason": "required"}]


async def test_summary_shape_counts_and_bounds(alice, trip):
    trip_id = trip["_id"]
    empty = await summary(alice, trip_id)
    assert (
        empty["trip_bounds"] is None
        and scheduling(empty) == []
        and empty["conflict_count"] == len(empty["conflicts"])
    )
    assert set(empty) == {
        "trip_id",
        "revision",
        "status",
        "event_count",
        "events_by_type",
        "trip_bounds",
        "conflicts",
        "conflict_count",
        "compact_events",
    }
    await post(
        alice,
        f"/trips/{trip_id}/legs",
        {
            **LEG,
            "accommodation": {"name": "Ryokan", "lat": 35.0, "lng": 135.7, "checkIn": "2026-07-15T15:00"},
            "flights": [{"from": "LHR", "to": "HND", "departureTime": "2026-07-15T09:30"}],
        },
    )
    await post(alice, f"/trips/{trip_id}/map-pins", {"name": "Shrine", "lat": 35.7, "lng": 139.8})
    await commitment(alice, trip_id, title="Sushi", startTime="19:00")
    body = await summary(alice, trip_id)
    assert body["events_by_type"] == {"flight": 1, "accommodation": 1, "dinner": 1}
    assert body["event_count"] == 3 and body["revision"] == 4
    assert body["trip_bounds"] == {"min_lat": 35.0, "max_lat": 35.7, "min_lng": 135.7, "max_lng": 139.8}
    assert body["compact_events"][0]["type"] == "flight" and body["compact_events"][0]["date"] == "2026-07-15"
    assert scheduling(body) == []


async def test_overlapping_commitments_same_zone_and_all_day_never(alice, trip):
    trip_id = trip["_id"]
    a = await commitment(
        alice, trip_id, title="Dinner", startTime="19:00", endTime="21:00", timezone="Europe/London"
    )
    b = await commitment(
        alice, trip_id, title="Show", startTime="20:30", endTime="22:00", timezone="Europe/London"
    )
    await commitment(
        alice, trip_id, title="After", startTime="22:00", endTime="23:00", timezone="Europe/London"
    )  # touches only
    await commitment(
        alice, trip_id, title="Other day", startDate="2026-07-17", startTime="19:00", endTime="21:00"
    )
    await commitment(alice, trip_id, title="All day 1", isAllDay=True)
    await commitment(alice, trip_id, title="All day 2", isAllDay=True, category="birthday")
    body = await summary(alice, trip_id)
    found = conflicts_of(body, "overlapping_commitments")
    assert [set(c["event_ids"]) for c in found] == [{a["_id"], b["_id"]}]
    assert "Dinner" in found[0]["message"] and "Show" in found[0]["message"]
    assert body["conflict_count"] == len(body["conflicts"]) and len(scheduling(body)) == 1


async def test_overlapping_commitments_compare_instants_across_zones(alice, trip):
    trip_id = trip["_id"]
    # 09:00-10:00 in Tokyo is 00:00-01:00 UTC; 01:00-02:00 in London (BST) is also 00:00-01:00 UTC.
    tokyo = await commitment(
        alice, trip_id, title="Call Tokyo", startTime="09:00", endTime="10:00", timezone="Asia/Tokyo"
    )
    london = await commitment(
        alice, trip_id, title="Call London", startTime="01:00", endTime="02:00", timezone="Europe/London"
    )
    # Same wall-clock hours as Tokyo, in London: eight hours apart, no conflict.
    await commitment(
        alice, trip_id, title="Breakfast", startTime="09:00", endTime="10:00", timezone="Europe/London"
    )
    # The day before in New York, 20:30 EDT = 00:30 UTC on the 16th: overlaps both calls.
    ny = await commitment(
        alice,
        trip_id,
        title="NY drinks",
        startDate="2026-07-15",
        startTime="20:30",
        endTime="21:00",
        timezone="America/New_York",
    )
    body = await summary(alice, trip_id)
    found = conflicts_of(body, "overlapping_commitments")
    # The three calls overlap each other: one conflict for the group, naming all three.
    assert [set(c["event_ids"]) for c in found] == [{tokyo["_id"], london["_id"], ny["_id"]}]
    assert found[0]["message"].startswith("3 commitments overlap: ")
    assert all(title in found[0]["message"] for title in ("Call Tokyo", "Call London", "NY drinks"))
    assert "Breakfast" not in found[0]["message"] and len(scheduling(body)) == 1


async def test_commitment_without_zone_uses_its_legs_zone(alice, trip):
    trip_id = trip["_id"]
    leg = await post(alice, f"/trips/{trip_id}/legs", LEG)
    linked = await commitment(
        alice, trip_id, title="Temple", startTime="09:30", endTime="10:30", legId=leg["_id"]
    )
    london = await commitment(
        alice, trip_id, title="Call", startTime="01:00", endTime="02:00", timezone="Europe/London"
    )
    found = conflicts_of(await summary(alice, trip_id), "overlapping_commitments")
    assert [set(c["event_ids"]) for c in found] == [{linked["_id"], london["_id"]}]


async def test_overlapping_legs_but_not_handover_days(alice, trip):
    trip_id = trip["_id"]
    a = await post(
        alice,
        f"/trips/{trip_id}/legs",
        {**LEG, "title": "A", "startDate": "2026-07-15", "endDate": "2026-07-18"},
    )
    await post(
        alice,
        f"/trips/{trip_id}/legs",
        {**LEG, "title": "B", "startDate": "2026-07-18", "endDate": "2026-07-20"},
    )
    c = await post(
        alice,
        f"/trips/{trip_id}/legs",
        {**LEG, "title": "C", "startDate": "2026-07-16", "endDate": "2026-07-17"},
    )
    found = conflicts_of(await summary(alice, trip_id), "overlapping_legs")
    assert [set(x["event_ids"]) for x in found] == [{a["_id"], c["_id"]}]
    assert "A" in found[0]["message"] and "C" in found[0]["message"]


async def test_a_chain_of_overlapping_legs_is_one_conflict(alice, trip):
    trip_id = trip["_id"]
    # A overlaps B, B overlaps C, A and C do not overlap: one run of three legs; D is a handover.
    ids = [
        (
            await post(
                alice, f"/trips/{trip_id}/legs", {**LEG, "title": title, "startDate": start, "endDate": end}
            )
        )["_id"]
        for title, start, end in (
            ("A", "2026-07-15", "2026-07-17"),
            ("B", "2026-07-16", "2026-07-19"),
            ("C", "2026-07-18", "2026-07-20"),
            ("D", "2026-07-20", "2026-07-22"),
        )
    ]
    body = await summary(alice, trip_id)
    found = conflicts_of(body, "overlapping_legs")
    assert [x["event_ids"] for x in found] == [ids[:3]] and len(scheduling(body)) == 1
    assert found[0]["message"].startswith("3 legs overlap between 2026-07-15 and 2026-07-20: ")


async def test_a_thousand_mutually_overlapping_legs_give_a_bounded_answer(alice):
    """1,000 legs that all overlap (499,500 pairs) are one conflict naming the 1,000 legs, with a
    message that names a few of them: the answer grows with the trip, not with its pairs."""
    trip = await new_trip(alice)
    trip_id = trip["_id"]
    for first in range(0, 1000, 50):
        items = [
            {
                **LEG,
                "title": f"Leg {i}",
                "startDate": "2026-07-15",
                "endDate": "2026-07-22",
                "clientRef": f"leg-{i}",
            }
            for i in range(first, first + 50)
        ]
        response = await alice.http.post(f"/trips/{trip_id}/legs:batch", json={"items": items})
        assert response.status_code == 200, response.text
    response = await alice.http.get(f"/trips/{trip_id}/itinerary/summary")
    assert response.status_code == 200
    body = response.json()
    found = conflicts_of(body, "overlapping_legs")
    assert len(found) == 1 and len(set(found[0]["event_ids"])) == 1000
    assert body["conflict_count"] == len(body["conflicts"]) <= 2
    assert found[0]["message"].endswith("and 995 more") and len(found[0]["message"]) < 1000
    # Bounded by the trip's size: about the size of the compact event list, not 500k conflicts.
    assert len(response.content) < 200_000


async def test_outside_trip_and_outside_leg(alice, trip):
    trip_id = trip["_id"]  # 2026-07-15 .. 2026-07-22
    leg = await post(
        alice,
        f"/trips/{trip_id}/legs",
        {
            **LEG,
            "flights": [{"from": "LHR", "to": "HND", "departureTime": "2026-07-14T21:00"}],
            "accommodation": {"name": "Late", "checkIn": "2026-07-21T15:00", "checkOut": "2026-07-23T10:00"},
        },
    )
    early = await commitment(alice, trip_id, title="Too early", startDate="2026-07-10")
    stray = await commitment(alice, trip_id, title="Stray", startDate="2026-07-20", legId=leg["_id"])
    inside = await commitment(alice, trip_id, title="Fine", startDate="2026-07-16", legId=leg["_id"])
    body = await summary(alice, trip_id)
    outside = {c["event_ids"][0]: c["message"] for c in conflicts_of(body, "outside_trip")}
    assert set(outside) == {f"{leg['_id']}.flight.0", f"{leg['_id']}.accommodation.0", early["_id"]}
    assert "2026-07-23" in outside[f"{leg['_id']}.accommodation.0"]
    assert [c["event_ids"] for c in conflicts_of(body, "outside_leg")] == [[stray["_id"]]]
    assert inside["_id"] not in {i for c in body["conflicts"] for i in c["event_ids"]}
    # Moving the trip's start covers the early flight; the count follows.
    assert (await alice.http.patch(f"/trips/{trip_id}", json={"startDate": "2026-07-10"})).status_code == 200
    after = await summary(alice, trip_id)
    assert {c["event_ids"][0] for c in conflicts_of(after, "outside_trip")} == {
        f"{leg['_id']}.accommodation.0"
    }
    assert len(scheduling(after)) == 2 and after["conflict_count"] == len(after["conflicts"])


async def test_user_text_in_titles_is_kept_literally(alice, trip):
    title = '<b>Dîner</b> \u202e"quoted" {}'
    made = await commitment(alice, trip["_id"], title=title, startTime="19:00", endTime="20:00")
    await commitment(alice, trip["_id"], title="x", startTime="19:30")
    events = (await alice.http.get(f"/trips/{trip['_id']}/itinerary")).json()["events"]
    assert next(e for e in events if e["id"] == made["_id"])["title"] == title
    assert title in scheduling(await summary(alice, trip["_id"]))[0]["message"]


async def test_second_trip_is_separate(alice):
    one, two = await new_trip(alice, "One"), await new_trip(alice, "Two")
    await commitment(alice, one["_id"], title="Only here")
    assert (await alice.http.get(f"/trips/{two['_id']}/itinerary")).json()["events"] == []
