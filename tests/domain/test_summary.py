"""The summary of a trip's models (app/domain/summary.py), as a client of a service without the
itinerary endpoints computes it, equals the service's own summary of the same trip."""

from __future__ import annotations

import httpx

from app.client import TripClient
from app.domain.summary import summary_of
from tests.conftest import BASE


async def test_the_same_conflicts_as_the_service(server, alice, trip):
    trip_id = trip["_id"]
    post = alice.http.post
    leg = (
        await post(
            f"/trips/{trip_id}/legs",
            json={
                "title": "Bath",
                "destination": "Bath",
                "startDate": "2026-07-15",
                "endDate": "2026-07-18",
                "timezone": "Europe/London",
                "order": 1,
                "stays": [
                    {
                        "name": "The Royal",
                        "checkIn": "2026-07-15T15:00",
                        "checkOut": "2026-07-17T11:00",
                        "lat": 51.38,
                        "lng": -2.36,
                    }
                ],
                "flights": [
                    {
                        "airline": "BA",
                        "flightNumber": "1",
                        "from": "LHR",
                        "to": "JFK",
                        "departureTime": "2026-07-18T10:00",
                        "arrivalTime": "2026-07-18T04:00",
                    }
                ],
            },
        )
    ).json()
    await post(
        f"/trips/{trip_id}/legs",
        json={
            "title": "Oxford",
            "destination": "Oxford",
            "startDate": "2026-07-17",
            "endDate": "2026-07-25",
            "timezone": "Europe/London",
            "order": 2,
        },
    )
    for title, time, end in (("Tea", "15:00", "16:00"), ("Spa", "15:30", "17:00")):
        await post(
            f"/trips/{trip_id}/commitments",
            json={
                "title": title,
                "startDate": "2026-07-16",
                "startTime": time,
                "endTime": end,
                "category": "activity",
                "legId": leg["_id"],
            },
        )
    await post(
        f"/trips/{trip_id}/commitments",
        json={"title": "Late", "startDate": "2026-07-20", "category": "other", "legId": leg["_id"]},
    )
    await post(
        f"/trips/{trip_id}/map-pins", json={"name": "Abbey", "lat": 51.38, "lng": -2.35, "category": "sight"}
    )
    async with TripClient(
        api_key=alice.key, base_url=BASE, transport=httpx.ASGITransport(app=server.app)
    ) as client:
        served = await client.get_itinerary_summary(trip_id)
        computed = summary_of(
            await client.get_trip(trip_id),
            [leg async for leg in client.iterate_legs(trip_id)],
            [c async for c in client.iterate_commitments(trip_id)],
            [p async for p in client.iterate_map_pins(trip_id)],
        )
    assert {c.type for c in served.conflicts} >= {
        "overlapping_commitments",
        "overlapping_legs",
        "outside_leg",
        "night_without_stay",
        "impossible_transfer",
    }
    assert computed == served
