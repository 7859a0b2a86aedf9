"""Channels and messages: the trip's group chat. Messages do not bump the trip revision."""

from typing import Any

from fastapi import APIRouter, Request

from app.domain import models as m
from app.server.auth import ChatAccess, ChatReader, ChatWriter
from app.server.clock import new_id, now_ms, plausible_id
from app.server.deps import database_of
from app.server.errors import ErrorResponses, not_found
from app.server.responses import (
    JSON,
    MESSAGE_PAGE_DEFAULT,
    MESSAGE_PAGE_MAX,
    PAGE_DEFAULT,
    PAGE_MAX,
    limit_query,
    page,
)
from app.server.storage import channels as storage
from app.server.storage import converters
from app.server.storage.revisions import mark_touched

router = APIRouter(prefix="/trips/{trip_id}", tags=["messages"], responses=ErrorResponses)


@router.get("/channels", response_model=m.ChannelPage, summary="List the trip's channels")
async def list_channels(
    request: Request,
    access: ChatReader,
    limit: int = limit_query(PAGE_DEFAULT, PAGE_MAX),
    cursor: str | None = None,
) -> Any:
    async with database_of(request).read() as conn:
        rows, next_cursor = await storage.list_channels(conn, access.trip_id, limit=limit, cursor=cursor)
    return page([converters.channel(r) for r in rows], next_cursor)


@router.post("/channels", response_model=m.Channel, status_code=201, summary="Create a channel")
async def create_channel(request: Request, access: ChatWriter, body: m.ChannelCreate) -> Any:
    async with database_of(request).write() as conn:
        row = await storage.create_channel(conn, access.trip_id, body.name)
        mark_touched(conn, access.trip_id)
    return JSON(converters.channel(row), status_code=201)


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
    if not plausible_id(channel_id):
        raise not_found("Channel")
    async with database_of(request).read() as conn:
        await storage.check_channel(conn, access.trip_id, channel_id)
        rows, next_cursor = await storage.list_messages(conn, channel_id, limit=limit, cursor=cursor)
    return page([converters.message(r) for r in rows], next_cursor)


@router.post(
    "/channels/{channel_id}/messages", response_model=m.Message, status_code=201, summary="Send a message"
)
async def send_message(request: Request, channel_id: str, access: ChatWriter, body: m.MessageCreate) -> Any:
    return await answer_send_message(request, access, channel_id, body)


async def answer_send_message(
    request: Request, access: ChatAccess, channel_id: str, body: m.MessageCreate
) -> JSON:
    """The answer of `POST .../messages` once the caller may write to the trip's chat (also served
    by app/server/hot_paths.py)."""
    if not plausible_id(channel_id):
        raise not_found("Channel")
    row = await storage.send_message(
        database_of(request),
        {
            "id": new_id(),
            "trip_id": access.trip_id,
            "channel_id": channel_id,
            "author_id": access.key.user_id,
            "author_name": access.key.user_name,
            "content": body.content,
            "parent_id": body.parent_id,
            "created_at": now_ms(),
        },
    )
    return JSON(converters.message(row), status_code=201)
