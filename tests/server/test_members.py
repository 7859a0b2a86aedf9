"""Members: list with roles and contact details; add by email, change role, remove (owner or
planner; only an owner touches the owner role; the last owner stays)."""

from __future__ import annotations

import pytest

from tests.server.support import assert_error, created


def members_path(trip) -> str:
    return f"/trips/{trip['_id']}/members"


async def add(actor, trip, email: str, role: str) -> dict:
    return await created(actor.http, members_path(trip), {"email": email, "role": role})


async def test_list_members_with_contact_details(alice, bob, trip):
    member = await add(alice, trip, bob.email, "editor")
    assert member == {
        "userId": bob.user_id,
        "name": "Bob",
        "email": "bob@example.com",
        "phone": None,
        "role": "editor",
    }
    listed = (await alice.http.get(members_path(trip))).json()
    assert [(m["userId"], m["role"]) for m in listed["items"]] == [
        (alice.user_id, "owner"),
        (bob.user_id, "editor"),
    ]
    assert (await alice.http.get(members_path(trip), params={"limit": 1})).json()["nextCursor"]
    assert_error(
        await alice.http.get(members_path(trip), params={"limit": 201}),
        400,
        "VALIDATION_ERROR",
        {"limit": "out_of_range"},
    )
    # A member sees the trip now, with its member count.
    assert (await bob.http.get(f"/trips/{trip['_id']}")).json()["memberCount"] == 2


async def test_add_member_errors(alice, bob, trip):
    assert_error(
        await alice.http.post(members_path(trip), json={"email": "ghost@example.com", "role": "viewer"}),
        400,
        "VALIDATION_ERROR",
        {"email": "not_found"},
    )
    assert_error(
        await alice.http.post(members_path(trip), json={"email": "not-an-email", "role": "boss"}),
        400,
        "VALIDATION_ERROR",
        {"email": "invalid", "role": "invalid"},
    )
    assert_error(
        await alice.http.post(members_path(trip), json={}),
        400,
        "VALIDATION_ERROR",
        {"email": "required", "role": "required"},
    )
    await add(alice, trip, bob.email, "viewer")
    assert_error(
        await alice.http.post(members_path(trip), json={"email": bob.email, "role": "editor"}),
        409,
        "CONFLICT",
    )
    assert_error(
        await alice.http.post(members_path(trip), json={"email": alice.email, "role": "viewer"}),
        409,
        "CONFLICT",
    )


@pytest.mark.parametrize("role", ["editor", "viewer"])
async def test_only_owner_or_planner_manage_members(alice, bob, make_actor, trip, role):
    carol = await make_actor("carol@example.com")
    await add(alice, trip, bob.email, role)
    assert_error(
        await bob.http.post(members_path(trip), json={"email": carol.email, "role": "viewer"}),
        403,
        "FORBIDDEN",
    )
    assert_error(
        await bob.http.patch(f"{members_path(trip)}/{alice.user_id}", json={"role": "viewer"}),
        403,
        "FORBIDDEN",
    )
    assert_error(await bob.http.delete(f"{members_path(trip)}/{alice.user_id}"), 403, "FORBIDDEN")
    # Anyone may leave.
    assert (await bob.http.delete(f"{members_path(trip)}/{bob.user_id}")).status_code == 204
    assert_error(await bob.http.get(f"/trips/{trip['_id']}"), 403, "FORBIDDEN")


async def test_planner_manages_everyone_but_owners(alice, bob, make_actor, trip):
    carol = await make_actor("carol@example.com", "Carol")
    await add(alice, trip, bob.email, "planner")
    assert (await add(bob, trip, carol.email, "viewer"))["role"] == "viewer"
    changed = await bob.http.patch(f"{members_path(trip)}/{carol.user_id}", json={"role": "editor"})
    assert changed.status_code == 200 and changed.json()["role"] == "editor"
    assert_error(
        await bob.http.patch(f"{members_path(trip)}/{carol.user_id}", json={"role": "owner"}),
        403,
        "FORBIDDEN",
    )
    assert_error(
        await bob.http.patch(f"{members_path(trip)}/{alice.user_id}", json={"role": "viewer"}),
        403,
        "FORBIDDEN",
    )
    assert_error(await bob.http.delete(f"{members_path(trip)}/{alice.user_id}"), 403, "FORBIDDEN")
    dave = await make_actor("dave@example.com")
    assert_error(
        await bob.http.post(members_path(trip), json={"email": dave.email, "role": "owner"}), 403, "FORBIDDEN"
    )
    assert (await bob.http.delete(f"{members_path(trip)}/{carol.user_id}")).status_code == 204


async def test_last_owner_cannot_be_removed_or_demoted(alice, bob, trip):
    me = f"{members_path(trip)}/{alice.user_id}"
    assert_error(await alice.http.delete(me), 409, "CONFLICT")
    assert_error(await alice.http.patch(me, json={"role": "planner"}), 409, "CONFLICT")
    await add(alice, trip, bob.email, "owner")
    # With a second owner, the first may step down or leave.
    assert (await alice.http.patch(me, json={"role": "planner"})).json()["role"] == "planner"
    assert_error(await bob.http.delete(f"{members_path(trip)}/{bob.user_id}"), 409, "CONFLICT")
    assert (await bob.http.delete(me)).status_code == 204
    listed = (await bob.http.get(members_path(trip))).json()["items"]
    assert [(m["userId"], m["role"]) for m in listed] == [(bob.user_id, "owner")]


async def test_unknown_member_is_404_and_role_is_validated(alice, bob, trip):
    assert_error(
        await alice.http.patch(f"{members_path(trip)}/{bob.user_id}", json={"role": "viewer"}),
        404,
        "NOT_FOUND",
    )
    assert_error(await alice.http.delete(f"{members_path(trip)}/{bob.user_id}"), 404, "NOT_FOUND")
    await add(alice, trip, bob.email, "viewer")
    assert_error(
        await alice.http.patch(f"{members_path(trip)}/{bob.user_id}", json={"role": "admin", "x": 1}),
        400,
        "VALIDATION_ERROR",
        {"role": "invalid", "x": "unknown_field"},
    )
    assert_error(
        await alice.http.patch(f"{members_path(trip)}/{bob.user_id}", json={}),
        400,
        "VALIDATION_ERROR",
        {"role": "required"},
    )


async def test_member_roles_decide_content_writes(alice, bob, make_actor, trip):
    carol = await make_actor("carol@example.com")
    await add(alice, trip, bob.email, "editor")
    await add(alice, trip, carol.email, "viewer")
    pin = {"name": "x", "lat": 0, "lng": 0}
    assert (await bob.http.post(f"/trips/{trip['_id']}/map-pins", json=pin)).status_code == 201
    assert_error(await carol.http.post(f"/trips/{trip['_id']}/map-pins", json=pin), 403, "FORBIDDEN")
    assert (await carol.http.get(f"/trips/{trip['_id']}/map-pins")).status_code == 200
    await alice.http.patch(f"{members_path(trip)}/{carol.user_id}", json={"role": "editor"})
    assert (await carol.http.post(f"/trips/{trip['_id']}/map-pins", json=pin)).status_code == 201
