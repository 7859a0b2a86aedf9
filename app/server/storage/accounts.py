"""Users, their personal groups and API keys (used by `trip keys create` and the demo)."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.server.auth import ALL_SCOPES, generate_key, hash_key, parse_scope
from app.server.clock import new_id, now_ms
from app.server.storage import tables as t


async def ensure_user(conn: AsyncConnection, email: str, name: str | None = None, phone: str | None = None) -> str:
    """The id of the user with this email, created with a personal group if missing."""
    found = (await conn.execute(select(t.users.c.id).where(t.users.c.email == email))).scalar()
    if found:
        return found
    user_id, now = new_id(), now_ms()
    display = name or email.split("@", 1)[0]
    await conn.execute(insert(t.users).values(id=user_id, name=display, email=email, phone=phone, created_at=now))
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
            id=new_id(), user_id=user_id, key_hash=hash_key(key), prefix=key[:8], name=name,
            scopes=scopes, created_at=now_ms(),
        )
    )
    return key
