"""Batch upserts: legs:batch, action-items:batch, map-pins:batch."""

import pytest

LEG = {
    "order": 0,
    "title": "Tokyo",
    "destination": "Tokyo",
    "startDate": "2026-07-15",
    "endDate": "2026-07-18",
    "timezone": "Asia/Tokyo",
}


async def test_leg_batch_creates_then_diff_merges_by_client_ref(alice, trip):
    path = f"/trips/{trip['_id']}/legs:batch"
    items = [
        {**LEG, "clientRef": "tok", "accommodation": {"name": "Hotel", "wifiPassword": "pw"}},
        {**LEG, "order": 1, "title": "Kyoto", "clientRef": "kyo"},
    ]
    first = await alice.http.post(path, json={"items": items})
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["created"], body["updated"], body["errors"]) == (2, 0, 0)
    assert [r["status"] for r in body["results"]] == ["created", "created"]
    assert [r["clientRef"] for r in body["results"]] == ["tok", "kyo"]
    merged = await alice.http.post(path, json={"items": [{**LEG, "title": "Tōkyō", "clientRef": "tok"}]})
    result = merged.json()["results"][0]
    assert result == {"index": 0, "status": "updated", "_id": body["results"][0]["_id"], "clientRef": "tok"}
    leg = (await alice.http.get(f"/trips/{trip['_id']}/legs/{result['_id']}")).json()
    assert leg["title"] == "Tōkyō"
    assert leg["accommodation"]["wifiPassword"] == "pw"  # not sent, so not changed
    assert len((await alice.http.get(f"/trips/{trip['_id']}/legs")).json()["items"]) == 2


async def test_each_item_fails_alone_with_207(alice, trip):
    path = f"/trips/{trip['_id']}/map-pins:batch"
    items = [
        {"name": "Ok", "lat": 1, "lng": 2, "clientRef": "a"},
        {"name": "Bad", "lat": 91, "lng": 2, "clientRef": "b"},
        "not an object",
        {"name": "Also ok", "lat": 3, "lng": 4, "surprise": 1},
    ]
    response = await alice.http.post(path, json={"items": items})
    assert response.status_code == 207
    body = response.json()
    assert (body["created"], body["updated"], body["errors"]) == (1, 0, 3)
    bad = body["results"][1]
    assert bad["status"] == "error" and bad["clientRef"] == "b"
    assert bad["error"]["code"] == "VALIDATION_ERROR"
    assert bad["error"]["details"] == [{"path": "lat", "reason": "out_of_range"}]
    assert body["results"][3]["error"]["details"] == [{"path": "surprise", "reason": "unknown_field"}]
    pins = (await alice.http.get(f"/trips/{trip['_id']}/map-pins")).json()["items"]
    assert [p["name"] for p in pins] == ["Ok"]


async def test_action_item_batch_checks_owners_once(alice, bob, trip):
    path = f"/trips/{trip['_id']}/action-items:batch"
    items = [
        {"text": "Book", "urgency": "now", "owner": alice.user_id, "clientRef": "book"},
        {"text": "Pack", "urgency": "before_trip", "owner": bob.user_id},
    ]
    body = (await alice.http.post(path, json={"items": items})).json()
    assert body["results"][0]["status"] == "created"
    assert body["results"][1]["error"]["details"] == [{"path": "owner", "reason": "not_found"}]


@pytest.mark.parametrize("count", [0, 51])
async def test_batch_size_is_one_to_fifty(alice, trip, count):
    items = [{"name": f"P{i}", "lat": 0, "lng": 0} for i in range(count)]
    response = await alice.http.post(f"/trips/{trip['_id']}/map-pins:batch", json={"items": items})
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["path"] == "items"


async def test_fifty_items_are_accepted(alice, trip):
    items = [{"name": f"P{i}", "lat": 0, "lng": 0} for i in range(50)]
    response = await alice.http.post(f"/trips/{trip['_id']}/map-pins:batch", json={"items": items})
    assert response.status_code == 200 and response.json()["created"] == 50


async def test_one_revision_per_batch_and_repeated_client_refs_merge(alice, trip):
    before = (await alice.http.get(f"/trips/{trip['_id']}")).json()["revision"]
    items = [
        {**LEG, "clientRef": "x", "flights": [{"airline": "JL", "departureTime": "2026-07-15T09:00"}]},
        {**LEG, "title": "Renamed", "clientRef": "x"},
    ]
    body = (await alice.http.post(f"/trips/{trip['_id']}/legs:batch", json={"items": items})).json()
    assert [r["status"] for r in body["results"]] == ["created", "updated"]
    assert body["results"][0]["_id"] == body["results"][1]["_id"]
    after = (await alice.http.get(f"/trips/{trip['_id']}")).json()
    assert after["revision"] == before + 1
    legs = (await alice.http.get(f"/trips/{trip['_id']}/legs")).json()["items"]
    assert len(legs) == 1 and legs[0]["title"] == "Renamed" and legs[0]["flights"][0]["airline"] == "JL"


async def test_viewer_may_not_batch(alice, bob, trip):
    await alice.http.post(f"/trips/{trip['_id']}/members", json={"email": bob.email, "role": "viewer"})
    response = await bob.http.post(f"/trips/{trip['_id']}/legs:batch", json={"items": [LEG]})
    assert response.status_code == 403


async def test_batch_route_is_not_taken_for_an_item_id(alice, trip):
    """`/legs:batch` is its own route: GET on it is not 'the leg with id :batch'."""
    response = await alice.http.get(f"/trips/{trip['_id']}/legs:batch")
    assert response.status_code == 405
