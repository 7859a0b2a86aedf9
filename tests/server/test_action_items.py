"""Action items: the checklist. Owner must be a member of the trip; clientRef diff-merges."""

from __future__ import annotations

import pytest

from tests.conftest import new_trip
from tests.server.support import assert_error, created, item_body, walk


def items_path(trip) -> str:
    return f"/trips/{trip['_id']}/action-items"


async def test_create_get_and_list(alice, trip):
    item = await created(alice.http, items_path(trip), item_body(owner=alice.user_id))
    assert item["text"] == "Book the ryokan" and item["urgency"] == "before_trip"
    assert item["owner"] == alice.user_id and item["done"] is False and item["clientRef"] is None
    assert item["tripId"] == trip["_id"]
    assert (await alice.http.get(f"{items_path(trip)}/{item['_id']}")).json() == item
    assert (await alice.http.get(items_path(trip))).json() == {"items": [item], "nextCursor": None}


async def test_owner_must_be_a_member(alice, bob, trip):
    assert_error(
        await alice.http.post(items_path(trip), json=item_body(owner=bob.user_id)),
        400,
        "VALIDATION_ERROR",
        {"owner": "not_found"},
    )
    await alice.http.post(f"/trips/{trip['_id']}/members", json={"email": bob.email, "role": "viewer"})
    assert (await created(alice.http, items_path(trip), item_body(owner=bob.user_id)))["owner"] == bob.user_id


async def test_validation(alice, trip):
    assert_error(
        await alice.http.post(items_path(trip), json={}),
        400,
        "VALIDATION_ERROR",
        {"text": "required", "urgency": "required"},
    )
    assert_error(
        await alice.http.post(
            items_path(trip),
            json={"text": "x" * 2001, "urgency": "later", "done": "yes", "owner": 5, "due": "2026-07-01"},
        ),
        400,
        "VALIDATION_ERROR",
        {
            "text": "too_long",
            "urgency": "invalid",
            "done": "invalid",
            "owner": "invalid",
            "due": "unknown_field",
        },
    )
    assert_error(
        await alice.http.post(items_path(trip), json=item_body(done=None)),
        400,
        "VALIDATION_ERROR",
        {"done": "invalid"},
    )


async def test_client_ref_merges_only_sent_fields(alice, trip):
    first = await alice.http.post(items_path(trip), json=item_body(clientRef="ryokan", owner=alice.user_id))
    assert first.status_code == 201
    again = await alice.http.post(
        items_path(trip),
        json={"text": "Book the ryokan!", "urgency": "now", "clientRef": "ryokan", "done": True},
    )
    assert again.status_code == 200, again.text
    merged = again.json()
    assert merged["_id"] == first.json()["_id"] and merged["owner"] == alice.user_id
    assert (merged["text"], merged["urgency"], merged["done"]) == ("Book the ryokan!", "now", True)
    assert len((await alice.http.get(items_path(trip))).json()["items"]) == 1


async def test_patch_marks_done_and_unassigns(alice, trip):
    item = await created(alice.http, items_path(trip), item_body(owner=alice.user_id))
    patched = (await alice.http.patch(f"{items_path(trip)}/{item['_id']}", json={"done": True})).json()
    assert patched == {**item, "done": True}
    patched = (await alice.http.patch(f"{items_path(trip)}/{item['_id']}", json={"owner": None})).json()
    assert patched["owner"] is None and patched["done"] is True
    assert_error(
        await alice.http.patch(
            f"{items_path(trip)}/{item['_id']}", json={"text": None, "urgency": None, "done": 1}
        ),
        400,
        "VALIDATION_ERROR",
        {"text": "invalid", "urgency": "invalid", "done": "invalid"},
    )
    assert_error(
        await alice.http.patch(f"{items_path(trip)}/{item['_id']}", json={"owner": "nobody"}),
        400,
        "VALIDATION_ERROR",
        {"owner": "not_found"},
    )
    assert_error(await alice.http.patch(f"{items_path(trip)}/missing", json={"done": True}), 404, "NOT_FOUND")


async def test_delete(alice, trip):
    item = await created(alice.http, items_path(trip), item_body())
    assert (await alice.http.delete(f"{items_path(trip)}/{item['_id']}")).status_code == 204
    assert_error(await alice.http.get(f"{items_path(trip)}/{item['_id']}"), 404, "NOT_FOUND")
    assert_error(await alice.http.delete(f"{items_path(trip)}/{item['_id']}"), 404, "NOT_FOUND")


async def test_pagination_in_creation_order(alice, trip):
    made = [(await created(alice.http, items_path(trip), item_body(text=f"#{i}")))["_id"] for i in range(5)]
    items, pages = await walk(alice.http, items_path(trip), limit=2)
    assert [i["_id"] for i in items] == made and pages == 3
    assert_error(
        await alice.http.get(items_path(trip), params={"limit": 201}),
        400,
        "VALIDATION_ERROR",
        {"limit": "out_of_range"},
    )


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_item_of_another_trip_is_not_found_here(alice, trip, method):
    other = await new_trip(alice, "Other")
    item = await created(alice.http, items_path(other), item_body())
    body = {"done": True} if method == "PATCH" else None
    assert_error(
        await alice.http.request(method, f"{items_path(trip)}/{item['_id']}", json=body), 404, "NOT_FOUND"
    )
    assert (await alice.http.get(f"{items_path(other)}/{item['_id']}")).json() == item
