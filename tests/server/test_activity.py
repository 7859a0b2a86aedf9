"""The activity feed and revert (API-CONTRACT section 13) against the real server: who changed
what, in one sentence and field by field; a revert undoes a change as a new operation, refuses
when a later change touched the same fields, and can itself be reverted (redo)."""

from __future__ import annotations

from tests.conftest import new_trip


async def add_member(owner, trip_id: str, actor, role: str = "editor") -> None:
    response = await owner.http.post(f"/trips/{trip_id}/members", json={"email": actor.email, "role": role})
    assert response.status_code == 201, response.text


async def revision(actor, trip_id: str) -> int:
    return (await actor.http.get(f"/trips/{trip_id}")).json()["revision"]


async def feed(actor, trip_id: str, **params) -> dict:
    response = await actor.http.get(f"/trips/{trip_id}/operations", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def revert(actor, trip_id: str, op_id: str, base: int | None = None, **headers):
    base = base if base is not None else await revision(actor, trip_id)
    return await actor.http.post(
        f"/trips/{trip_id}/operations/{op_id}/revert", json={"base_revision": base}, headers=headers
    )


async def flamenco(actor, trip_id: str) -> dict:
    response = await actor.http.post(
        f"/trips/{trip_id}/commitments",
        json={
            "title": "Flamenco class",
            "startDate": "2026-07-16",
            "category": "activity",
            "startTime": "15:30",
            "endTime": "16:30",
            "timezone": "Europe/Madrid",
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_the_feed_says_who_moved_what_newest_first(make_actor):
    maya = await make_actor("maya@example.com", "Maya")
    trip = await new_trip(maya)
    trip_id = trip["_id"]
    class_ = await flamenco(maya, trip_id)
    base = await revision(maya, trip_id)
    moved = await maya.http.post(
        f"/trips/{trip_id}/ops",
        json={
            "base_revision": base,
            "type": "move_event",
            "payload": {"event_id": class_["_id"], "date": "2026-07-16", "time": "17:30"},
        },
    )
    assert moved.status_code == 200, moved.text

    items = (await feed(maya, trip_id))["items"]
    assert [op["summary"] for op in items] == [
        "Maya moved “Flamenco class” from 15:30 to 17:30",
        "Maya added the commitment “Flamenco class”",
    ]
    newest = items[0]
    assert newest["operation_type"] == "move_event" and newest["result_revision"] == base + 1
    assert newest["actor"]["userId"] == maya.user_id and newest["actor"]["name"] == "Maya"
    assert newest["reverted_by"] is None and isinstance(newest["created_at"], int)
    assert newest["changes"] == [
        {
            "id": class_["_id"],
            "kind": "commitment",
            "change": "updated",
            "label": "Flamenco class",
            "fields": {
                "startTime": {"before": "15:30", "after": "17:30"},
                "endTime": {"before": "16:30", "after": "18:30"},
            },
        }
    ]
    created = items[1]["changes"][0]
    assert created["change"] == "created" and created["fields"]["title"] == {
        "before": None,
        "after": "Flamenco class",
    }
    assert "_id" not in created["fields"] and "id" not in created["fields"]


async def test_the_key_name_is_kept_with_each_change(server, make_actor):
    from app.server.storage.accounts import create_key

    maya = await make_actor("maya@example.com", "Maya")
    trip = await new_trip(maya)
    async with server.db.write() as conn:
        agent_key = await create_key(conn, maya.user_id, None, name="planning agent")
    agent = server.client(agent_key)
    try:
        assert (
            await agent.post(
                f"/trips/{trip['_id']}/map-pins", json={"name": "Alcázar", "lat": 37.38, "lng": -5.99}
            )
        ).status_code == 201
    finally:
        await agent.aclose()
    newest = (await feed(maya, trip["_id"]))["items"][0]
    assert newest["actor"] == {"userId": maya.user_id, "name": "Maya", "keyName": "planning agent"}


async def test_reverting_an_edit_that_someone_changed_again_names_their_operation(alice, bob):
    trip = await new_trip(alice)
    trip_id = trip["_id"]
    await add_member(alice, trip_id, bob)
    leg = (
        await alice.http.post(
            f"/trips/{trip_id}/legs",
            json={
                "order": 1,
                "title": "Lisbon",
                "destination": "Lisbon",
                "startDate": "2026-07-15",
                "endDate": "2026-07-18",
                "timezone": "Europe/Lisbon",
            },
        )
    ).json()
    assert (
        await alice.http.patch(f"/trips/{trip_id}/legs/{leg['_id']}", json={"title": "Lisboa"})
    ).status_code == 200
    alice_edit = (await feed(alice, trip_id))["items"][0]
    assert (
        await bob.http.patch(f"/trips/{trip_id}/legs/{leg['_id']}", json={"title": "Lisbon old town"})
    ).status_code == 200
    bob_edit = (await feed(alice, trip_id))["items"][0]
    assert bob_edit["summary"] == "Bob renamed the leg “Lisboa” to “Lisbon old town”"
    before = await revision(alice, trip_id)

    response = await revert(alice, trip_id, alice_edit["op_id"])
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["error"]["code"] == "REVERT_CONFLICT"
    assert body["error"]["details"] == [{"path": bob_edit["op_id"], "reason": "changed_later"}]
    assert [op["op_id"] for op in body["conflicting_operations"]] == [bob_edit["op_id"]]
    assert "Bob renamed" in body["error"]["message"]
    assert await revision(alice, trip_id) == before  # nothing applied
    assert (await alice.http.get(f"/trips/{trip_id}/legs/{leg['_id']}")).json()["title"] == "Lisbon old town"

    # A later change of another field of the same row is no conflict.
    assert (
        await bob.http.patch(f"/trips/{trip_id}/legs/{leg['_id']}", json={"destination": "Lisboa"})
    ).status_code == 200
    response = await revert(alice, trip_id, bob_edit["op_id"])
    assert response.status_code == 200, response.text
    assert (await alice.http.get(f"/trips/{trip_id}/legs/{leg['_id']}")).json()["title"] == "Lisboa"


async def test_revert_of_a_delete_recreates_the_row_with_its_id_and_a_revert_can_be_reverted(alice):
    trip = await new_trip(alice)
    trip_id = trip["_id"]
    leg = (
        await alice.http.post(
            f"/trips/{trip_id}/legs",
            json={
                "order": 1,
                "title": "Lisbon",
                "destination": "Lisbon",
                "startDate": "2026-07-15",
                "endDate": "2026-07-18",
                "timezone": "Europe/Lisbon",
                "accommodation": {"name": "Flat", "doorCode": "4711"},
            },
        )
    ).json()
    linked = (
        await alice.http.post(
            f"/trips/{trip_id}/commitments",
            json={
                "title": "Fado",
                "startDate": "2026-07-16",
                "category": "activity",
                "startTime": "20:00",
                "legId": leg["_id"],
            },
        )
    ).json()
    assert (await alice.http.delete(f"/trips/{trip_id}/legs/{leg['_id']}")).status_code == 204
    deleted = (await feed(alice, trip_id))["items"][0]
    assert deleted["summary"] == "Alice removed the leg “Lisbon” (and unlinked 1 commitment)"
    # Secrets are kept (members may read them anyway), so the revert restores them.
    gone = next(c for c in deleted["changes"] if c["kind"] == "leg")
    assert gone["fields"]["stays"]["before"][0]["doorCode"] == "4711"

    undo = await revert(alice, trip_id, deleted["op_id"])
    assert undo.status_code == 200, undo.text
    undone = undo.json()["operation"]
    assert undone["operation_type"] == "revert" and undone["reverts"] == deleted["op_id"]
    assert undone["summary"].startswith("Alice undid their own change: ")
    restored = (await alice.http.get(f"/trips/{trip_id}/legs/{leg['_id']}")).json()
    assert restored == leg
    assert (await alice.http.get(f"/trips/{trip_id}/commitments/{linked['_id']}")).json()["legId"] == leg[
        "_id"
    ]
    assert (await feed(alice, trip_id))["items"][1]["reverted_by"] == undone["op_id"]

    # Reverting it again is a conflict (the revert changed those rows since); reverting the revert redoes.
    assert (await revert(alice, trip_id, deleted["op_id"])).json()["error"]["code"] == "REVERT_CONFLICT"
    redo = await revert(alice, trip_id, undone["op_id"])
    assert redo.status_code == 200, redo.text
    # Each revert's sentence says what the change it undid had done.
    assert undone["summary"] == "Alice undid their own change: " + deleted["summary"].removeprefix("Alice ")
    assert redo.json()["operation"]["summary"].startswith("Alice undid their own undo: added 1 leg")
    assert (await alice.http.get(f"/trips/{trip_id}/legs/{leg['_id']}")).status_code == 404
    # And undoing the redo puts the leg back: the sentence says so, not "redid".
    again = await revert(alice, trip_id, redo.json()["operation"]["op_id"])
    assert again.status_code == 200, again.text
    assert again.json()["operation"]["summary"].startswith(
        "Alice undid their own undo: removed the leg “Lisbon”"
    ), again.text
    assert (await alice.http.get(f"/trips/{trip_id}/legs/{leg['_id']}")).json() == leg


async def test_revert_of_a_create_deletes_the_row(alice):
    trip = await new_trip(alice)
    pin = (
        await alice.http.post(
            f"/trips/{trip['_id']}/map-pins", json={"name": "Belém", "lat": 38.69, "lng": -9.2}
        )
    ).json()
    created = (await feed(alice, trip["_id"]))["items"][0]
    assert (await revert(alice, trip["_id"], created["op_id"])).status_code == 200
    assert (await alice.http.get(f"/trips/{trip['_id']}/map-pins/{pin['_id']}")).status_code == 404


async def test_a_stale_base_revision_and_an_unknown_operation(alice):
    trip = await new_trip(alice)
    await flamenco(alice, trip["_id"])
    op = (await feed(alice, trip["_id"]))["items"][0]
    stale = await revert(alice, trip["_id"], op["op_id"], base=1)
    assert stale.status_code == 409
    assert stale.json()["code"] == "STALE_REVISION" and stale.json()["current_revision"] == 2
    assert (await revert(alice, trip["_id"], "nosuchoperation0000000")).status_code == 404
    assert (
        await alice.http.post(f"/trips/{trip['_id']}/operations/{op['op_id']}/revert", json={})
    ).status_code == 400


async def test_viewers_read_the_feed_but_may_not_revert_and_archiving_needs_an_owner_or_planner(
    alice, bob, make_actor
):
    carol = await make_actor("carol@example.com", "Carol")
    trip = await new_trip(alice)
    trip_id = trip["_id"]
    await add_member(alice, trip_id, bob, "viewer")
    await add_member(alice, trip_id, carol, "editor")
    await flamenco(alice, trip_id)
    op = (await feed(bob, trip_id))["items"][0]
    assert (await revert(bob, trip_id, op["op_id"])).status_code == 403
    assert (await alice.http.delete(f"/trips/{trip_id}")).status_code == 200
    archived = (await feed(carol, trip_id))["items"][0]
    assert archived["summary"] == "Alice archived the trip"
    assert (await revert(carol, trip_id, archived["op_id"])).status_code == 403
    assert (await revert(alice, trip_id, archived["op_id"])).status_code == 200
    assert (await alice.http.get(f"/trips/{trip_id}")).json()["status"] == "draft"


async def test_an_idempotency_key_reverts_once(alice):
    trip = await new_trip(alice)
    await flamenco(alice, trip["_id"])
    op = (await feed(alice, trip["_id"]))["items"][0]
    base = await revision(alice, trip["_id"])
    first = await revert(alice, trip["_id"], op["op_id"], base, **{"Idempotency-Key": "undo-1"})
    again = await revert(alice, trip["_id"], op["op_id"], base, **{"Idempotency-Key": "undo-1"})
    assert first.status_code == again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json() == first.json()
    assert await revision(alice, trip["_id"]) == base + 1


async def test_the_changes_feed_carries_the_revert(alice):
    trip = await new_trip(alice)
    await flamenco(alice, trip["_id"])
    cursor = (await alice.http.get(f"/trips/{trip['_id']}/changes")).json()["cursor"]
    op = (await feed(alice, trip["_id"]))["items"][0]
    undo = (await revert(alice, trip["_id"], op["op_id"])).json()["operation"]
    news = (await alice.http.get(f"/trips/{trip['_id']}/changes", params={"since": cursor})).json()
    assert [(o["op_id"], o["operation_type"]) for o in news["operations"]] == [(undo["op_id"], "revert")]
    assert news["operations"][0]["affected_event_ids"] == [op["changes"][0]["id"]]


async def test_the_feed_pages_newest_first_and_leaves_out_messages(alice):
    trip = await new_trip(alice)
    trip_id = trip["_id"]
    channel = (await alice.http.get(f"/trips/{trip_id}/channels")).json()["items"][0]["_id"]
    for index in range(5):
        await alice.http.post(
            f"/trips/{trip_id}/action-items", json={"text": f"Task {index}", "urgency": "now"}
        )
        await alice.http.post(f"/trips/{trip_id}/channels/{channel}/messages", json={"content": "hi"})
    first = await feed(alice, trip_id, limit=2)
    second = await feed(alice, trip_id, limit=2, cursor=first["nextCursor"])
    third = await feed(alice, trip_id, limit=2, cursor=second["nextCursor"])
    revisions = [op["result_revision"] for page in (first, second, third) for op in page["items"]]
    assert revisions == [6, 5, 4, 3, 2] and third["nextCursor"] is None
    assert [op["summary"] for op in first["items"]] == [
        "Alice added the checklist item “Task 4”",
        "Alice added the checklist item “Task 3”",
    ]
    assert (
        await alice.http.get(f"/trips/{trip_id}/operations", params={"cursor": "bogus"})
    ).status_code == 400


async def test_the_share_view_shows_no_activity_and_no_door_code(server, alice):
    trip = await new_trip(alice)
    trip_id = trip["_id"]
    leg = (
        await alice.http.post(
            f"/trips/{trip_id}/legs",
            json={
                "order": 1,
                "title": "Lisbon",
                "destination": "Lisbon",
                "startDate": "2026-07-15",
                "endDate": "2026-07-18",
                "timezone": "Europe/Lisbon",
                "accommodation": {"name": "Flat", "doorCode": "4711"},
            },
        )
    ).json()
    assert (
        await alice.http.patch(
            f"/trips/{trip_id}/legs/{leg['_id']}", json={"accommodation": {"doorCode": "9999"}}
        )
    ).status_code == 200
    changed = (await feed(alice, trip_id))["items"][0]
    stays = changed["changes"][0]["fields"]["stays"]
    assert (stays["before"][0]["doorCode"], stays["after"][0]["doorCode"]) == ("4711", "9999")
    token = (await alice.http.post(f"/trips/{trip_id}/share-token")).json()["token"]
    anonymous = server.client(None)
    try:
        assert (await anonymous.get(f"/shared/trips/{token}/operations")).status_code == 404
        shared = (await anonymous.get(f"/shared/trips/{token}/export")).text
        assert "9999" not in shared and "4711" not in shared
    finally:
        await anonymous.aclose()


async def test_an_operation_logged_before_the_feed_kept_rows_reads_generically_and_cannot_be_reverted(
    server, alice
):
    from sqlalchemy import insert, update

    from app.server.storage import tables as t

    trip = await new_trip(alice)
    async with server.db.write() as conn:  # as migration 0005 leaves an older operation
        await conn.execute(
            insert(t.operations).values(
                trip_id=trip["_id"],
                result_revision=2,
                op_id="olderoperation00000000",
                operation_type="update_leg",
                affected_event_ids=[],
                event_changes=[],
                created_at=1,
                actor_id=None,
                actor_key_name=None,
                row_changes=None,
            )
        )
        await conn.execute(update(t.trips).where(t.trips.c.id == trip["_id"]).values(revision=2))
    (older,) = (await feed(alice, trip["_id"]))["items"]
    assert older["summary"] == "Someone made a change (update leg)"
    assert older["actor"] == {"userId": None, "name": None, "keyName": None} and older["changes"] == []
    response = await revert(alice, trip["_id"], "olderoperation00000000")
    assert response.status_code == 409 and response.json()["error"]["code"] == "OPERATION_REJECTED"


async def test_batch_and_sync_say_how_many_rows_of_each_kind_they_changed(alice):
    trip = await new_trip(alice)
    trip_id = trip["_id"]
    pins = [{"clientRef": f"p{i}", "name": f"Pin {i}", "lat": 1.0, "lng": 2.0} for i in range(3)]
    assert (
        await alice.http.post(f"/trips/{trip_id}/map-pins:batch", json={"items": pins})
    ).status_code == 200
    body = {
        "mapPins": [
            {**pins[0], "name": "Renamed"},
            {"clientRef": "p9", "name": "New", "lat": 1.0, "lng": 2.0},
        ],
        "actionItems": [{"clientRef": "a", "text": "Pack", "urgency": "now"}],
    }
    assert (await alice.http.post(f"/trips/{trip_id}/sync", json=body)).status_code == 200
    synced, batched = (await feed(alice, trip_id))["items"][:2]
    assert batched["summary"] == "Alice added 3 map pins"
    assert synced["summary"] == "Alice added 1 checklist item and 1 map pin; changed 1 map pin"
    assert (await revert(alice, trip_id, synced["op_id"])).status_code == 200
    names = sorted(
        pin["name"] for pin in (await alice.http.get(f"/trips/{trip_id}/map-pins")).json()["items"]
    )
    assert names == ["Pin 0", "Pin 1", "Pin 2"]
    assert (await alice.http.get(f"/trips/{trip_id}/action-items")).json()["items"] == []


async def test_an_item_lists_the_first_50_rows_of_a_big_import_and_counts_them_all(alice):
    trip = await new_trip(alice)
    pins = [{"clientRef": f"p{i}", "name": f"Pin {i}", "lat": 1.0, "lng": 2.0} for i in range(60)]
    assert (await alice.http.post(f"/trips/{trip['_id']}/sync", json={"mapPins": pins})).status_code == 200
    (synced,) = (await feed(alice, trip["_id"]))["items"]
    assert synced["summary"] == "Alice added 60 map pins"
    assert len(synced["changes"]) == 50 and synced["changes_total"] == 60
    assert (await revert(alice, trip["_id"], synced["op_id"])).status_code == 200  # all 60 go
    assert (await alice.http.get(f"/trips/{trip['_id']}/map-pins")).json()["items"] == []


async def test_archiving_or_unarchiving_needs_an_owner_or_planner_by_any_road(alice, make_actor):
    """An editor may not archive by PATCHing the status, nor by reverting a revert of an archive
    (a revert's type is `revert`; what it does to the trip's status decides)."""
    carol = await make_actor("carol@example.com", "Carol")
    trip = await new_trip(alice)
    trip_id = trip["_id"]
    await add_member(alice, trip_id, carol, "editor")
    refused = await carol.http.patch(f"/trips/{trip_id}", json={"status": "completed"})
    assert refused.status_code == 403, refused.text
    assert (await carol.http.patch(f"/trips/{trip_id}", json={"status": "active"})).status_code == 200
    assert (await alice.http.delete(f"/trips/{trip_id}")).status_code == 200
    assert (await carol.http.patch(f"/trips/{trip_id}", json={"status": "active"})).status_code == 403
    archived = (await feed(alice, trip_id))["items"][0]
    undone = await revert(alice, trip_id, archived["op_id"])
    assert undone.status_code == 200
    redo = await revert(carol, trip_id, undone.json()["operation"]["op_id"])
    assert redo.status_code == 403, redo.text
    assert (await alice.http.get(f"/trips/{trip_id}")).json()["status"] == "active"


async def test_a_revert_does_not_bring_back_an_owner_who_left_the_trip(alice, make_actor):
    carol = await make_actor("carol@example.com", "Carol")
    trip = await new_trip(alice)
    trip_id = trip["_id"]
    await add_member(alice, trip_id, carol, "editor")
    item = await carol.http.post(
        f"/trips/{trip_id}/action-items",
        json={"text": "Book the ferry", "urgency": "before_trip", "owner": carol.user_id},
    )
    assert item.status_code == 201, item.text
    assert (await carol.http.delete(f"/trips/{trip_id}/action-items/{item.json()['_id']}")).status_code == 204
    deleted = (await feed(alice, trip_id))["items"][0]
    assert (await alice.http.delete(f"/trips/{trip_id}/members/{carol.user_id}")).status_code == 204
    back = await revert(alice, trip_id, deleted["op_id"])
    assert back.status_code == 200, back.text
    restored = (await alice.http.get(f"/trips/{trip_id}/action-items/{item.json()['_id']}")).json()
    assert restored["text"] == "Book the ferry" and restored.get("owner") is None


async def test_base_revision_is_a_whole_number(alice):
    trip = await new_trip(alice)
    await flamenco(alice, trip["_id"])
    op = (await feed(alice, trip["_id"]))["items"][0]
    base = await revision(alice, trip["_id"])
    for wrong in (str(base), True, float(base) + 0.5, None):
        answer = await alice.http.post(
            f"/trips/{trip['_id']}/operations/{op['op_id']}/revert", json={"base_revision": wrong}
        )
        assert answer.status_code == 400, (wrong, answer.text)
