"""Writes that race each other: the unique rules (clientRef per trip, one membership per user)
answer 200/409, never 500, on SQLite and on PostgreSQL (TRIP_TEST_DATABASE_URL)."""

from __future__ import annotations

import asyncio

import pytest

from tests.server.support import created, item_body, leg_body, pin_body

RACERS = 8


@pytest.mark.parametrize(
    "collection,body", [("legs", leg_body), ("action-items", item_body), ("map-pins", pin_body)]
)
async def test_racing_creates_with_one_client_ref_make_one_row(alice, trip, collection, body):
    path = f"/trips/{trip['_id']}/{collection}"
    responses = await asyncio.gather(
        *(alice.http.post(path, json=body(clientRef="same")) for _ in range(RACERS))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * (RACERS - 1) + [201], [r.text for r in responses]
    assert len({r.json()["_id"] for r in responses}) == 1
    assert len((await alice.http.get(path)).json()["items"]) == 1


async def test_racing_patches_to_one_client_ref_conflict(alice, trip):
    path = f"/trips/{trip['_id']}/map-pins"
    pins = [await created(alice.http, path, pin_body(clientRef=f"p{i}")) for i in range(RACERS)]
    responses = await asyncio.gather(
        *(alice.http.patch(f"{path}/{p['_id']}", json={"clientRef": "taken"}) for p in pins)
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * (RACERS - 1), [r.text for r in responses]


async def test_racing_member_adds_conflict(alice, bob, trip):
    path = f"/trips/{trip['_id']}/members"
    responses = await asyncio.gather(
        *(alice.http.post(path, json={"email": bob.email, "role": "viewer"}) for _ in range(RACERS))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (RACERS - 1), [r.text for r in responses]


async def test_racing_channel_creates_conflict(alice, trip):
    path = f"/trips/{trip['_id']}/channels"
    responses = await asyncio.gather(*(alice.http.post(path, json={"name": "food"}) for _ in range(RACERS)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (RACERS - 1), [r.text for r in responses]
