"""GET /me: any valid key; the user, their groups and the default group for new trips."""

from __future__ import annotations

import pytest

from tests.server.support import assert_error


async def test_me_returns_user_groups_and_default_group(alice):
    response = await alice.http.get("/me")
    assert response.status_code == 200
    me = response.json()
    assert set(me) == {"_id", "name", "email", "groups", "defaultGroupId"}
    assert me["_id"] == alice.user_id and me["name"] == "Alice" and me["email"] == "alice@example.com"
    assert len(me["groups"]) == 1
    group = me["groups"][0]
    assert set(group) == {"_id", "name", "role"} and group["role"] == "owner"
    assert me["defaultGroupId"] == group["_id"]


@pytest.mark.parametrize("scope", ["trips:read", "messages:write", "messages:read:sometrip"])
async def test_me_needs_any_valid_key(make_actor, scope):
    actor = await make_actor(scopes=[scope])
    assert (await actor.http.get("/me")).status_code == 200


async def test_users_see_only_themselves(alice, bob):
    assert (await bob.http.get("/me")).json()["_id"] == bob.user_id
    assert (await alice.http.get("/me")).json()["defaultGroupId"] != (await bob.http.get("/me")).json()[
        "defaultGroupId"
    ]


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer osk_not-a-real-key",
        "Basic osk_x",
        "osk_x",
        "Bearer sk_live_abc",
    ],
)
async def test_missing_or_unknown_key_is_401(server, alice, header):
    headers = {"Authorization": header} if header is not None else {}
    async with server.client() as http:
        assert_error(await http.get("/me", headers=headers), 401, "UNAUTHORIZED")


async def test_key_is_case_sensitive_and_scheme_is_not(server, alice):
    async with server.client() as http:
        assert (await http.get("/me", headers={"Authorization": f"bearer {alice.key}"})).status_code == 200
        assert_error(
            await http.get("/me", headers={"Authorization": f"Bearer {alice.key.upper()}"}),
            401,
            "UNAUTHORIZED",
        )
        assert_error(
            await http.get("/me", headers={"Authorization": f"Bearer {alice.key[:-1]}"}), 401, "UNAUTHORIZED"
        )
