from tests.conftest import new_trip


async def test_me_and_trip_roundtrip(alice):
    me = (await alice.http.get("/me")).json()
    assert me["email"] == "alice@example.com"
    trip = await new_trip(alice)
    assert trip["status"] == "draft" and trip["revision"] == 1
    leg = await alice.http.post(f"/trips/{trip['_id']}/legs", json={
        "order": 0, "title": "Tokyo", "destination": "Tokyo", "startDate": "2026-07-15",
        "endDate": "2026-07-20", "timezone": "Asia/Tokyo", "clientRef": "leg-tok-1",
        "accommodation": {"name": "Hotel", "checkIn": "2026-07-15T15:00", "wifiPassword": "s3cret"},
        "flights": [{"airline": "JL", "flightNumber": "JL44", "from": "LHR", "to": "HND", "departureTime": "2026-07-14T19:00"}],
    })
    assert leg.status_code == 201, leg.text
    again = await alice.http.post(f"/trips/{trip['_id']}/legs", json={
        "order": 0, "title": "Tokyo!", "destination": "Tokyo", "startDate": "2026-07-15",
        "endDate": "2026-07-20", "timezone": "Asia/Tokyo", "clientRef": "leg-tok-1"})
    assert again.status_code == 200, again.text
    assert again.json()["_id"] == leg.json()["_id"]
    assert again.json()["accommodation"]["name"] == "Hotel"
    bad = await alice.http.post(f"/trips/{trip['_id']}/legs", json={"order": 0, "startDate": "2026-02-30", "timezone": "Mars/Base", "bogus": 1})
    assert bad.status_code == 400
    print(bad.json())
    legs = (await alice.http.get(f"/trips/{trip['_id']}/legs")).json()
    assert len(legs["items"]) == 1
    t2 = (await alice.http.get(f"/trips/{trip['_id']}")).json()
    assert t2["revision"] == 3
