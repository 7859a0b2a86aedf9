"""Users, their personal groups and API keys (used by `trip keys create`, `list`, `revoke` and the demo)."""

from __future__ import annotations

from sqlalchemy import delete, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.server.auth import ALL_SCOPES, generate_key, hash_key, parse_scope
from app.server.clock import new_id, now_ms
from app.server.storage import tables as t


async def ensure_user(
    conn: AsyncConnection, email: str, name: str | None = None, phone: str | None = None
) -> str:
    """The id of the user with this email, created with a personal group if missing."""
    found = (await conn.execute(select(t.users.c.id).where(t.users.c.email == email))).scalar()
    if found:
        return found
    user_id, now = new_id(), now_ms()
    display = name or email.split("@", 1)[0]
    await conn.execute(
        insert(t.users).values(id=user_id, name=display, email=email, phone=phone, created_at=now)
    )
    group_id = new_id()
    await conn.execute(
        insert(t.groups).values(id=group_id, name=f"{display}'s trips", personal_of=user_id, created_at=now)
    )
    await conn.execute(insert(t.group_members).values(group_id=group_id, user_id=user_id, role="owner"))
    return user_id


async def create_key(
    conn: AsyncConnection, user_id: str, scopes: list[str] | None = None, name: str | None = None
) -> str:
    """Store a new key's hash and return the key itself (the only time it is seen)."""
    scopes = scopes or list(ALL_SCOPES)
    for scope in scopes:
        parse_scope(scope)  # raises ValueError on an unknown scope
    key = generate_key()
    await conn.execute(
        insert(t.api_keys).values(
            id=new_id(),
            user_id=user_id,
            key_hash=hash_key(key),
            prefix=key[:8],
            name=name,
            scopes=scopes,
            created_at=now_ms(),
        )
    )
    return key


async def list_keys(conn: AsyncConnection, email: str) -> list[dict] | None:
    """The keys of the user with this email, oldest first (None if there is no such user): id,
    name, scopes, created and last used (ms, or None) -- never the key or its hash."""
    user_id = (await conn.execute(select(t.users.c.id).where(t.users.c.email == email))).scalar()
    if user_id is None:
        return None
    rows = await conn.execute(
        select(
            t.api_keys.c.id,
            t.api_keys.c.name,
            t.api_keys.c.scopes,
            t.api_keys.c.created_at,
            t.api_keys.c.last_used_at,
        )
        .where(t.api_keys.c.user_id == user_id)
        .order_by(t.api_keys.c.created_at, t.api_keys.c.id)
    )
    return [dict(row._mapping) for row in rows]


async def revoke_key(conn: AsyncConnection, key_or_id: str) -> dict | None:
    """Delete a key, given the key itself (`osk_...`) or its id; returns its id and its user's
    email, or None when there is no such key. The database's triggers on api_keys tell every
    server process to forget the key (migration 0002)."""
    match = or_(t.api_keys.c.id == key_or_id, t.api_keys.c.key_hash == hash_key(key_or_id))
    found = (
        await conn.execute(
            select(t.api_keys.c.id, t.users.c.email)
            .join(t.users, t.users.c.id == t.api_keys.c.user_id)
            .where(match)
        )
    ).first()
    if found is None:
        return None
    await conn.execute(delete(t.api_keys).where(t.api_keys.c.id == found.id))
    return {"id": found.id, "email": found.email}


async def key_changes(conn: AsyncConnection) -> int:
    """How many times a key was deleted or changed (kept by triggers on api_keys): a server
    process that sees it move forgets its cached keys."""
    return (
        await conn.execute(select(t.api_key_changes.c.count).where(t.api_key_changes.c.id == 1))
    ).scalar() or 0
