from tests.conftest import new_trip


async def test_me_and_trip_roundtrip(alice):
    me = (await alice.http.get("/me")).json()
    assert me["email"] == "alice@example.com"
    trip = await new_trip(alice)
    assert trip["status"] == "draft" and trip["revision"] == 1
    leg = await alice.http.post(
        f"/trips/{trip['_id']}/legs",
        json={
            "order": 0,
            "title": "Tokyo",
            "destination": "Tokyo",
            "startDate": "2026-07-15",
            "endDate": "2026-07-20",
            "timezone": "Asia/Tokyo",
            "clientRef": "leg-tok-1",
            "accommodation": {"name": "Hotel", "checkIn": "2026-07-15T15:00", "wifiPassword": "s3cret"},
            "flights": [
                {
                    "airline": "JL",
                    "flightNumber": "JL44",
                    "from": "LHR",
                    "to": "HND",
                    "departureTime": "2026-07-14T19:00",
                }
            ],
        },
    )
    assert leg.status_code == 201, leg.text
    again = await alice.http.post(
        f"/trips/{trip['_id']}/legs",
        json={
            "order": 0,
            "title": "Tokyo!",
            "destination": "Tokyo",
            "startDate": "2026-07-15",
            "endDate": "2026-07-20",
            "timezone": "Asia/Tokyo",
            "clientRef": "leg-tok-1",
        },
    )
    assert again.status_code == 200, again.text
    assert again.json()["_id"] == leg.json()["_id"]
    assert again.json()["accommodation"]["name"] == "Hotel"
    bad = await alice.http.post(
        f"/trips/{trip['_id']}/legs",
        json={"order": 0, "startDate": "2026-02-30", "timezone": "Mars/Base", "bogus": 1},
    )
    assert bad.status_code == 400
    print(bad.json())
    legs = (await alice.http.get(f"/trips/{trip['_id']}/legs")).json()
    assert len(legs["items"]) == 1
    t2 = (await alice.http.get(f"/trips/{trip['_id']}")).json()
    assert t2["revision"] == 3


def test_ids_never_start_with_a_dash_so_a_command_line_reads_them_as_values():
    from app.server.clock import new_id

    ids = [new_id() for _ in range(20_000)]  # about 300 would start with "-" if drawn freely
    assert not any(value.startswith("-") for value in ids)
    assert len(set(ids)) == len(ids) and all(len(value) == 22 for value in ids)
