"""Sync (with dry runs) and export."""

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

LEG = {
    "order": 0,
    "title": "Tokyo",
    "destination": "Tokyo",
    "startDate": "2026-07-15",
    "endDate": "2026-07-18",
    "timezone": "Asia/Tokyo",
}


def counts(body: dict) -> dict:
    return {
        c: (body[c]["created"], body[c]["updated"], body[c]["errors"])
        for c in ("legs", "actionItems", "mapPins")
    }


def statuses(body: dict) -> dict:
    return {
        c: [(i["index"], i["status"], i.get("clientRef")) for i in body[c]["items"]]
        for c in ("legs", "actionItems", "mapPins")
    }


async def snapshot(alice, trip) -> dict:
    return (await alice.http.get(f"/trips/{trip['_id']}/export")).json()


async def test_sync_creates_merges_and_reports_per_category(alice, trip):
    path = f"/trips/{trip['_id']}/sync"
    body = {
        "legs": [{**LEG, "clientRef": "leg-tok-1"}],
        "mapPins": [{"name": "Sensoji", "lat": 35.7148, "lng": 139.7967, "clientRef": "pin-sensoji"}],
    }
    first = await alice.http.post(path, json=body)
    assert first.status_code == 200, first.text
    answer = first.json()
    assert answer["dryRun"] is False
    assert counts(answer) == {"legs": (1, 0, 0), "actionItems": (0, 0, 0), "mapPins": (1, 0, 0)}
    assert answer["legs"]["items"][0]["clientRef"] == "leg-tok-1" and answer["legs"]["items"][0]["_id"]
    again = (
        await alice.http.post(
            path,
            json={
                "mapPins": [{"name": "Sensō-ji", "lat": 35.7148, "lng": 139.7967, "clientRef": "pin-sensoji"}]
            },
        )
    ).json()
    assert counts(again)["mapPins"] == (0, 1, 0)
    pins = (await snapshot(alice, trip))["mapPins"]
    assert [p["name"] for p in pins] == ["Sensō-ji"]


async def test_dry_run_writes_nothing_and_predicts_the_real_run(alice, trip):
    path = f"/trips/{trip['_id']}/sync"
    await alice.http.post(
        path, json={"actionItems": [{"text": "Visa", "urgency": "now", "clientRef": "visa"}]}
    )
    before = await snapshot(alice, trip)
    body = {
        "legs": [
            {**LEG, "clientRef": "a"},
            {**LEG, "title": "Again", "clientRef": "a"},
            {**LEG, "endDate": "2026-07-01"},
            {**LEG, "order": 2},
        ],
        "actionItems": [
            {"text": "Visa!", "urgency": "now", "clientRef": "visa"},
            {"text": "x", "urgency": "soon"},
        ],
        "mapPins": [
            {"name": "P", "lat": 0, "lng": 0, "clientRef": "p"},
            {"name": "P2", "lat": 0, "lng": 0, "clientRef": "p"},
        ],
    }
    dry = await alice.http.post(path, params={"dryRun": "true"}, json=body)
    assert dry.json()["dryRun"] is True
    assert await snapshot(alice, trip) == before
    real = await alice.http.post(path, json=body)
    assert dry.status_code == real.status_code == 207
    assert (
        counts(dry.json())
        == counts(real.json())
        == {"legs": (2, 1, 1), "actionItems": (0, 1, 1), "mapPins": (1, 1, 0)}
    )
    assert statuses(dry.json()) == statuses(real.json())
    assert "_id" not in dry.json()["legs"]["items"][0]  # a dry run has no ids for rows it would create
    assert dry.json()["actionItems"]["items"][0]["_id"] == real.json()["actionItems"]["items"][0]["_id"]


async def test_sync_is_one_revision_with_every_affected_event(alice, trip):
    start = (await alice.http.get(f"/trips/{trip['_id']}")).json()["revision"]
    legs = [
        {
            **LEG,
            "order": i,
            "clientRef": f"l{i}",
            "flights": [{"airline": "JL", "departureTime": "2026-07-15T09:00"}],
        }
        for i in range(3)
    ]
    answer = (await alice.http.post(f"/trips/{trip['_id']}/sync", json={"legs": legs})).json()
    trip_after = (await alice.http.get(f"/trips/{trip['_id']}")).json()
    assert trip_after["revision"] == start + 1
    diff = await alice.http.get(f"/trips/{trip['_id']}/itinerary/diff", params={"since_revision": start})
    if diff.status_code == 200:  # the itinerary endpoints belong to another branch
        ops = diff.json()["operations"]
        assert len(ops) == 1
        assert sorted(ops[0]["affected_event_ids"]) == sorted(
            f"{i['_id']}.flight.0" for i in answer["legs"]["items"]
        )


async def test_sync_limits_and_shape(alice, trip):
    path = f"/trips/{trip['_id']}/sync"
    too_many = await alice.http.post(path, json={"mapPins": [{"name": "p", "lat": 0, "lng": 0}] * 501})
    assert too_many.status_code == 400
    unknown = await alice.http.post(path, json={"commitments": []})
    assert unknown.json()["error"]["details"] == [{"path": "commitments", "reason": "unknown_field"}]
    empty = await alice.http.post(path, json={})
    assert empty.status_code == 200 and counts(empty.json())["legs"] == (0, 0, 0)


PIN = st.fixed_dictionaries(
    {"name": st.sampled_from(["A", "B", ""]), "lat": st.sampled_from([0, 45.5, 91]), "lng": st.just(1)},
    optional={"clientRef": st.sampled_from(["r1", "r2", "r3"]), "notes": st.text(max_size=5)},
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.lists(PIN, max_size=6), second=st.lists(PIN, max_size=6))
async def test_property_dry_run_counts_equal_the_real_runs(alice, trip, first, second):
    path = f"/trips/{trip['_id']}/sync"
    for body in ({"mapPins": first}, {"mapPins": second}):
        dry = (await alice.http.post(path, params={"dryRun": "true"}, json=body)).json()
        real = (await alice.http.post(path, json=body)).json()
        assert counts(dry) == counts(real)
        assert statuses(dry) == statuses(real)


async def test_export_has_everything_in_one_snapshot(alice, trip):
    tid = trip["_id"]
    await alice.http.post(
        f"/trips/{tid}/legs", json={**LEG, "accommodation": {"name": "H", "doorCode": "1234"}}
    )
    await alice.http.post(f"/trips/{tid}/map-pins", json={"name": "P", "lat": 1, "lng": 1})
    await alice.http.post(f"/trips/{tid}/action-items", json={"text": "T", "urgency": "now"})
    await alice.http.post(
        f"/trips/{tid}/commitments", json={"title": "Dinner", "startDate": "2026-07-16", "category": "dinner"}
    )
    export = await alice.http.get(f"/trips/{tid}/export")
    assert export.status_code == 200
    body = export.json()
    assert set(body) == {"trip", "legs", "mapPins", "actionItems", "commitments", "members"}
    assert body["trip"]["_id"] == tid
    assert body["legs"][0]["accommodation"]["doorCode"] == "1234"  # members see everything
    assert [len(body[k]) for k in ("legs", "mapPins", "actionItems", "commitments", "members")] == [
        1,
        1,
        1,
        1,
        1,
    ]
    assert body["members"][0]["email"] == alice.email


async def test_export_is_consistent_while_a_sync_writes(alice, trip):
    """Every export sees either none or all of a sync's pins, and a revision to match."""
    tid = trip["_id"]
    pins = [{"name": f"P{i}", "lat": 0, "lng": 0, "clientRef": f"p{i}"} for i in range(300)]

    async def exports():
        seen = []
        for _ in range(15):
            body = (await alice.http.get(f"/trips/{tid}/export")).json()
            seen.append((body["trip"]["revision"], len(body["mapPins"])))
            await asyncio.sleep(0)
        return seen

    results = await asyncio.gather(exports(), alice.http.post(f"/trips/{tid}/sync", json={"mapPins": pins}))
    for revision, count in results[0]:
        assert count in (0, 300)
        assert (count == 300) == (revision > trip["revision"])


async def test_viewer_may_export_but_not_sync(alice, bob, trip):
    await alice.http.post(f"/trips/{trip['_id']}/members", json={"email": bob.email, "role": "viewer"})
    assert (await bob.http.get(f"/trips/{trip['_id']}/export")).status_code == 200
    assert (await bob.http.post(f"/trips/{trip['_id']}/sync", json={})).status_code == 403


async def test_an_answer_full_of_failing_fields_stays_small(alice, trip):
    """500 items of each category, each with 60 unknown fields (633 KB), answered 3.5 MB that an
    Idempotency-Key kept for a day (an outside probe's finding): the details are capped per call."""
    from app.server.storage.bulk import DETAILS_PER_CALL

    junk = {f"x{i}": 1 for i in range(60)}
    body = {"legs": [dict(junk)] * 500, "actionItems": [dict(junk)] * 500, "mapPins": [dict(junk)] * 500}
    answer = await alice.http.post(
        f"/trips/{trip['_id']}/sync", json=body, headers={"Idempotency-Key": "junk"}
    )
    assert answer.status_code == 207
    assert len(answer.content) < 400_000, len(answer.content)
    for category in ("legs", "actionItems", "mapPins"):
        items = answer.json()[category]["items"]
        assert [i["status"] for i in items] == ["error"] * 500
        assert sum(len(i["error"]["details"]) for i in items) == DETAILS_PER_CALL
