"""`GET /me`: the caller, their groups and the default group for new trips."""

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import bindparam, select

from app.domain import models as m
from app.server.auth import ApiKey, CurrentKey, MeCache
from app.server.deps import database_of
from app.server.errors import ErrorResponses, dumps, unauthorized
from app.server.responses import JSON, RenderedJSON
from app.server.storage import tables as t

router = APIRouter(tags=["me"], responses=ErrorResponses)


_me = (
    select(
        t.users.c.id,
        t.users.c.name,
        t.users.c.email,
        t.groups.c.id.label("group_id"),
        t.groups.c.name.label("group_name"),
        t.groups.c.personal_of,
        t.group_members.c.role,
    )
    .select_from(t.users)
    .outerjoin(t.group_members, t.group_members.c.user_id == t.users.c.id)
    .outerjoin(t.groups, t.groups.c.id == t.group_members.c.group_id)
    .where(t.users.c.id == bindparam("user_id"))
    .order_by(t.groups.c.created_at, t.groups.c.id)
)
"""The user and their groups in one statement (one row per group; one row with no group)."""


@router.get("/me", response_model=m.Me, summary="The authenticated user and their groups")
async def me(request: Request, key: CurrentKey) -> Any:
    return await answer_me(request, key)


async def answer_me(request: Request, key: ApiKey) -> JSON:
    """The answer of `GET /me` for an authenticated key (also served by app/server/hot_paths.py),
    from the process's `MeCache` while users and groups are heard to be unchanged."""
    cache: MeCache | None = getattr(request.app.state, "me_cache", None)
    if cache is not None and (body := cache.get(key.user_id)) is not None:
        return RenderedJSON(body)
    generation = cache.generation if cache is not None else 0
    rows = await database_of(request).fetch(_me, {"user_id": key.user_id})
    if not rows:  # the user was deleted after the key was read
        raise unauthorized()
    user = rows[0]
    groups = [row for row in rows if row["group_id"] is not None]
    personal = next((g["group_id"] for g in groups if g["personal_of"] == key.user_id), None)
    body = dumps(
        {
            "_id": user["id"],
            "name": user["name"],
            "email": user["email"],
            "groups": [{"_id": g["group_id"], "name": g["group_name"], "role": g["role"]} for g in groups],
            "defaultGroupId": personal or (groups[0]["group_id"] if groups else None),
        }
    )
    if cache is not None:
        cache.put(key.user_id, body, generation)
    return RenderedJSON(body)
