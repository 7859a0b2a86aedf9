"""Batch upserts, sync, export and share tokens through the SDK, against the real server."""

from __future__ import annotations

import pytest

from app.client import NotFoundError, SharedTripClient, ValidationError
from app.domain import BatchResult, LegCreate, MapPinCreate, SharedExport, SharedTrip, SyncResult, TripExport
from tests.client.conftest import in_process
from tests.client.test_client import LEG, make_trip
from tests.conftest import BASE


async def test_batch_upsert_legs_reports_each_item(client):
    trip = await make_trip(client)
    result = await client.batch_upsert_legs(
        trip.id,
        [
            LegCreate(**LEG, client_ref="tok"),
            {**LegCreate(**{**LEG, "order": 1, "title": "Kyoto"}).to_wire(), "clientRef": "kyo"},
            {
                "order": 2,
                "title": "Bad",
                "destination": "Nowhere",
                "startDate": "2026-13-01",
                "endDate": "2026-07-20",
                "timezone": "Asia/Tokyo",
            },
        ],
    )
    assert isinstance(result, BatchResult)  # a 207 is a result, not an error
    assert (result.created, result.updated, result.errors) == (2, 0, 1)
    assert [r.status for r in result.results] == ["created", "created", "error"]
    assert result.results[2].error.code == "VALIDATION_ERROR"
    again = await client.batch_upsert_legs(
        trip.id, [LegCreate(**{**LEG, "title": "Tokyo!"}, client_ref="tok")]
    )
    assert (again.created, again.updated) == (0, 1) and again.results[0].id == result.results[0].id
    assert [leg.title async for leg in client.iterate_legs(trip.id)] == ["Tokyo!", "Kyoto"]


async def test_batch_upsert_action_items_and_map_pins(client):
    trip = await make_trip(client)
    items = await client.batch_upsert_action_items(
        trip.id,
        [
            {"text": "Passports", "urgency": "now", "clientRef": "pp"},
            {"text": "Yen", "urgency": "before_trip"},
        ],
    )
    assert (items.created, items.errors) == (2, 0)
    pins = await client.batch_upsert_map_pins(
        trip.id, [MapPinCreate(name="Sensoji", lat=35.7, lng=139.8, client_ref="s")]
    )
    assert pins.created == 1
    assert [p.name async for p in client.iterate_map_pins(trip.id)] == ["Sensoji"]
    with pytest.raises(ValidationError):
        await client.batch_upsert_map_pins(trip.id, [])


async def test_sync_dry_run_predicts_the_real_run(client):
    trip = await make_trip(client)
    await client.create_leg(trip.id, **LEG, client_ref="tok")
    snapshot = dict(
        legs=[
            LegCreate(**{**LEG, "title": "Tokyo 2"}, client_ref="tok"),
            LegCreate(**{**LEG, "order": 1}, client_ref="osa"),
        ],
        map_pins=[{"name": "Sensoji", "lat": 35.7148, "lng": 139.7967, "clientRef": "pin-sensoji"}],
        action_items=[{"text": "Passports", "urgency": "now"}],
    )
    preview = await client.sync_trip(trip.id, **snapshot, dry_run=True)
    assert isinstance(preview, SyncResult) and preview.dry_run is True
    assert [leg.title async for leg in client.iterate_legs(trip.id)] == ["Tokyo"]  # nothing written
    real = await client.sync_trip(trip.id, **snapshot)
    assert real.dry_run is False
    for name in ("legs", "map_pins", "action_items"):
        p, r = getattr(preview, name), getattr(real, name)
        assert (p.created, p.updated, p.errors) == (r.created, r.updated, r.errors), name
    assert (real.legs.created, real.legs.updated, real.map_pins.created) == (1, 1, 1)
    assert [leg.title async for leg in client.iterate_legs(trip.id)] == ["Tokyo 2", "Tokyo"]


async def test_export_and_share_tokens(server, client):
    trip = await make_trip(client)
    await client.create_leg(
        trip.id, **LEG, accommodation={"name": "Ryokan", "door_code": "4711", "wifi_password": "hunter2"}
    )
    export = await client.export_trip(trip.id)
    assert isinstance(export, TripExport)
    assert export.trip.id == trip.id and export.legs[0].accommodation.door_code == "4711"
    assert [m.email for m in export.members] == ["alice@example.com"]

    share = await client.create_share_token(trip.id)
    assert share.token and share.token in share.url
    async with SharedTripClient(share.token, base_url=BASE, transport=in_process(server)) as shared:
        seen = await shared.get_trip()
        assert isinstance(seen, SharedTrip) and seen.title == "Cotswolds"
        safe = await shared.export_trip()
    assert isinstance(safe, SharedExport)
    assert safe.legs[0].accommodation.name == "Ryokan"
    wire = safe.model_dump_json(by_alias=True)
    assert "4711" not in wire and "hunter2" not in wire and "alice@example.com" not in wire

    # The URL the service hands out is enough to read the trip.
    async with SharedTripClient(
        share.url.replace("http://tripdeck.test", "http://elsewhere.test"), transport=in_process(server)
    ) as by_url:
        assert by_url.base_url == "http://elsewhere.test/api/v1"
        assert (await by_url.get_trip()).id == trip.id

    await client.revoke_share_token(trip.id)
    async with SharedTripClient(share.token, base_url=BASE, transport=in_process(server)) as shared:
        with pytest.raises(NotFoundError):
            await shared.get_trip()
        with pytest.raises(NotFoundError):
            await shared.export_trip()


def test_share_client_refuses_what_is_not_a_token():
    with pytest.raises(ValueError):
        SharedTripClient("http://tripdeck.test/api/v1/trips/abc")
    with pytest.raises(ValueError):
        SharedTripClient("")
