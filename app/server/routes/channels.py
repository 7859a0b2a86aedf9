"""Channels and messages: the trip's group chat. Messages do not bump the trip revision."""

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from app.domain import models as m
from app.server.auth import ChatReader, ChatWriter
from app.server.clock import new_id, now_ms, plausible_id
from app.server.errors import ApiError, ErrorResponses, not_found, validation_error
from app.server.responses import (
    JSON,
    MESSAGE_PAGE_DEFAULT,
    MESSAGE_PAGE_MAX,
    PAGE_DEFAULT,
    PAGE_MAX,
    limit_query,
    page,
)
from app.server.storage import converters, pagination
from app.server.storage import tables as t
from app.server.storage.revisions import lock_trip, mark_touched

router = APIRouter(prefix="/trips/{trip_id}", tags=["messages"], responses=ErrorResponses)


@router.get("/channels", response_model=m.ChannelPage, summary="List the trip's channels")
async def list_channels(
    request: Request,
    access: ChatReader,
    limit: int = limit_query(PAGE_DEFAULT, PAGE_MAX),
    cursor: str | None = None,
) -> Any:
    query = select(t.channels).where(t.channels.c.trip_id == access.trip_id)
    async with request.app.state.db.read() as conn:
        rows, next_cursor = await pagination.page(
            conn, query, [t.channels.c.created_at, t.channels.c.id], limit=limit, cursor=cursor
        )
    return page([converters.channel(r) for r in rows], next_cursor)


@router.post("/channels", response_model=m.Channel, status_code=201, summary="Create a channel")
async def create_channel(request: Request, access: ChatWriter, body: m.ChannelCreate) -> Any:
    row = {"id": new_id(), "trip_id": access.trip_id, "name": body.name, "created_at": now_ms()}
    try:
        async with request.app.state.db.write() as conn:
            taken = await conn.execute(
                select(t.channels.c.id).where(
                    t.channels.c.trip_id == access.trip_id, t.channels.c.name == body.name
                )
            )
            if taken.first() is not None:
                raise ApiError(409, "CONFLICT", f"A channel named {body.name!r} already exists")
            await conn.execute(insert(t.channels).values(**row))
            mark_touched(conn, access.trip_id)
    except IntegrityError:
        raise ApiError(409, "CONFLICT", f"A channel named {body.name!r} already exists") from None
    return JSON(converters.channel(row), status_code=201)


# Statements of the hot paths (a message sent) are built once: building one per request cost more
# than running it (SQLAlchemy derives each new statement's cache key before it finds the compiled SQL).
_channel_of_trip = select(t.channels.c.id).where(
    t.channels.c.id == bindparam("channel_id"), t.channels.c.trip_id == bindparam("trip_id")
)
_message_of_channel = select(t.messages.c.id).where(
    t.messages.c.id == bindparam("message_id"), t.messages.c.channel_id == bindparam("channel_id")
)
_insert_message = insert(t.messages)


async def _channel(conn, trip_id: str, channel_id: str) -> None:
    if not plausible_id(channel_id):
        raise not_found("Channel")
    found = await conn.execute(_channel_of_trip, {"channel_id": channel_id, "trip_id": trip_id})
    if found.first() is None:
        raise not_found("Channel")


@router.get(
    "/channels/{channel_id}/messages", response_model=m.MessagePage, summary="List messages, newest first"
)
async def list_messages(
    request: Request,
    channel_id: str,
    access: ChatReader,
    limit: int = limit_query(MESSAGE_PAGE_DEFAULT, MESSAGE_PAGE_MAX),
    cursor: str | None = None,
) -> Any:
    async with request.app.state.db.read() as conn:
        await _channel(conn, access.trip_id, channel_id)
        query = select(t.messages).where(t.messages.c.channel_id == channel_id)
        rows, next_cursor = await pagination.page(
            conn, query, [t.messages.c.seq], limit=limit, cursor=cursor, descending=True
        )
    return page([converters.message(r) for r in rows], next_cursor)


@router.post(
    "/channels/{channel_id}/messages", response_model=m.Message, status_code=201, summary="Send a message"
)
async def send_message(request: Request, channel_id: str, access: ChatWriter, body: m.MessageCreate) -> Any:
    async with request.app.state.db.write() as conn:
        await lock_trip(conn, access.trip_id)  # seq order = commit order, for the changes feed
        await _channel(conn, access.trip_id, channel_id)
        if body.parent_id:
            parent = await conn.execute(
                _message_of_channel, {"message_id": body.parent_id, "channel_id": channel_id}
            )
            if parent.first() is None:
                raise validation_error(
                    [{"path": "parentId", "reason": "not_found"}], "parentId is not a message of this channel"
                )
        row = {
            "id": new_id(),
            "trip_id": access.trip_id,
            "channel_id": channel_id,
            "author_id": access.key.user_id,
            "author_name": access.key.user_name,
            "content": body.content,
            "parent_id": body.parent_id,
            "created_at": now_ms(),
        }
        await conn.execute(_insert_message, row)
        mark_touched(conn, access.trip_id)
    return JSON(converters.message(row), status_code=201)
