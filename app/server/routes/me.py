"""`GET /me`: the caller, their groups and the default group for new trips."""

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select

from app.domain import models as m
from app.server.auth import CurrentKey
from app.server.errors import ErrorResponses
from app.server.responses import JSON
from app.server.storage import tables as t

router = APIRouter(tags=["me"], responses=ErrorResponses)


@router.get("/me", response_model=m.Me, summary="The authenticated user and their groups")
async def me(request: Request, key: CurrentKey) -> Any:
    async with request.app.state.db.read() as conn:
        user = (await conn.execute(select(t.users).where(t.users.c.id == key.user_id))).mappings().one()
        groups = (
            await conn.execute(
                select(t.groups.c.id, t.groups.c.name, t.groups.c.personal_of, t.group_members.c.role)
                .join(t.group_members, t.group_members.c.group_id == t.groups.c.id)
                .where(t.group_members.c.user_id == key.user_id)
                .order_by(t.groups.c.created_at, t.groups.c.id)
            )
        ).mappings().all()
    personal = next((g["id"] for g in groups if g["personal_of"] == key.user_id), None)
    return JSON(
        {
            "_id": user["id"],
            "name": user["name"],
            "email": user["email"],
            "groups": [{"_id": g["id"], "name": g["name"], "role": g["role"]} for g in groups],
            "defaultGroupId": personal or (groups[0]["id"] if groups else None),
        }
    )
