"""GET /me: any valid key; the user, their groups and the default group for new trips."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from sqlalchemy import delete, insert, select, update

from app.server.app import create_app
from app.server.storage import tables as t
from app.server.storage.database import Database
from tests.conftest import BASE, Actor
from tests.server.support import assert_error
from tests.server.test_auth import REVOKED_WITHIN, heard


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


async def write(server, statement) -> None:
    async with server.db.write() as conn:
        await conn.execute(statement)


async def group_of(server, user_id: str) -> str:
    async with server.db.read() as conn:
        return (
            await conn.execute(select(t.group_members.c.group_id).where(t.group_members.c.user_id == user_id))
        ).scalar_one()


async def rename_user(server, alice: Actor, bob: Actor) -> None:
    await write(server, update(t.users).where(t.users.c.id == alice.user_id).values(name="Alicia"))


async def rename_group(server, alice: Actor, bob: Actor) -> None:
    group = await group_of(server, alice.user_id)
    await write(server, update(t.groups).where(t.groups.c.id == group).values(name="Renamed"))


async def join_group(server, alice: Actor, bob: Actor) -> None:
    group = await group_of(server, bob.user_id)
    await write(server, insert(t.group_members).values(group_id=group, user_id=alice.user_id, role="editor"))


async def change_role(server, alice: Actor, bob: Actor) -> None:
    group = await group_of(server, alice.user_id)
    await write(
        server,
        update(t.group_members)
        .where(t.group_members.c.group_id == group, t.group_members.c.user_id == alice.user_id)
        .values(role="editor"),
    )


async def leave_group(server, alice: Actor, bob: Actor) -> None:
    await write(server, delete(t.group_members).where(t.group_members.c.user_id == alice.user_id))


@pytest.mark.parametrize("change", [rename_user, rename_group, join_group, change_role, leave_group])
async def test_me_shows_a_change_made_in_sql_within_a_second(server, alice, bob, change):
    """Users and groups change only outside the API (`trip keys create`, an operator's SQL): the
    database's triggers must tell this process, as they would tell another one, although it keeps
    the answer of `GET /me` per user."""
    await heard(server.app.state.key_cache)  # the answer cache listens with it
    before = (await alice.http.get("/me")).json()
    for _ in range(3):  # from here answered from this process's cache
        assert (await alice.http.get("/me")).json() == before
    await change(server, alice, bob)
    since = time.perf_counter()
    while (answer := (await alice.http.get("/me")).json()) == before:
        assert time.perf_counter() - since < 5 * REVOKED_WITHIN, "GET /me still answers as before the change"
        await asyncio.sleep(0.01)
    assert time.perf_counter() - since < REVOKED_WITHIN
    assert answer == await read_afresh(server, alice.key)


async def read_afresh(server, key: str) -> dict:
    """`GET /me` from an app on the same database that has never cached anything (its waker never
    started)."""
    db = Database(server.db.url)
    try:
        fresh = create_app(server.app.state.settings, db)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fresh), base_url=BASE) as http:
            answer = await http.get("/me", headers={"Authorization": f"Bearer {key}"})
        assert answer.status_code == 200, answer.text
        return answer.json()
    finally:
        await db.dispose()
