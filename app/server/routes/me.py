"""`GET /me`: the caller, their groups and the default group for new trips."""

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import bindparam, select

from app.domain import models as m
from app.server.auth import ApiKey, CurrentKey
from app.server.deps import database_of
from app.server.errors import ErrorResponses, unauthorized
from app.server.responses import JSON
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
    """The answer of `GET /me` for an authenticated key (also served by app/server/hot_paths.py)."""
    rows = await database_of(request).fetch(_me, {"user_id": key.user_id})
    if not rows:  # the user was deleted after the key was read
        raise unauthorized()
    user = rows[0]
    groups = [row for row in rows if row["group_id"] is not None]
    personal = next((g["group_id"] for g in groups if g["personal_of"] == key.user_id), None)
    return JSON(
        {
            "_id": user["id"],
            "name": user["name"],
            "email": user["email"],
            "groups": [{"_id": g["group_id"], "name": g["group_name"], "role": g["role"]} for g in groups],
            "defaultGroupId": personal or (groups[0]["group_id"] if groups else None),
        }
    )
