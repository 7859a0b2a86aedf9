"""Channels and messages: the trip's group chat, as stored. Messages do not bump the trip revision;
a message's `seq` orders the changes feed."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from app.server.clock import new_id, now_ms
from app.server.errors import ApiError, not_found, validation_error
from app.server.storage import pagination
from app.server.storage import tables as t
from app.server.storage.database import Database, Step

Row = dict[str, Any]


async def list_channels(
    conn: AsyncConnection, trip_id: str, *, limit: int, cursor: str | None
) -> tuple[list[Any], str | None]:
    query = select(t.channels).where(t.channels.c.trip_id == trip_id)
    return await pagination.page(
        conn, query, [t.channels.c.created_at, t.channels.c.id], limit=limit, cursor=cursor
    )


def channel_taken(name: str) -> ApiError:
    return ApiError(409, "CONFLICT", f"A channel named {name!r} already exists")


async def create_channel(conn: AsyncConnection, trip_id: str, name: str) -> Row:
    """Insert a channel named `name` (409 CONFLICT when the trip has one by that name)."""
    row = {"id": new_id(), "trip_id": trip_id, "name": name, "created_at": now_ms()}
    taken = await conn.execute(
        select(t.channels.c.id).where(t.channels.c.trip_id == trip_id, t.channels.c.name == name)
    )
    if taken.first() is not None:
        raise channel_taken(name)
    try:
        await conn.execute(insert(t.channels).values(**row))
    except IntegrityError:  # a concurrent create of the same name won
        raise channel_taken(name) from None
    return row


# The hot path's statements (a message sent) are built once: `Database.transact` compiles each once.
_channel_of_trip = select(t.channels.c.id).where(
    t.channels.c.id == bindparam("channel_id"), t.channels.c.trip_id == bindparam("trip_id")
)
_message_of_channel = select(t.messages.c.id).where(
    t.messages.c.id == bindparam("message_id"), t.messages.c.channel_id == bindparam("channel_id")
)
_channel_of_locked_trip = _channel_of_trip.join_from(
    t.channels, t.trips, t.trips.c.id == t.channels.c.trip_id
).with_for_update(of=t.trips, key_share=True)
"""PostgreSQL: `_channel_of_trip` that takes the trip's lock (revisions.lock_trip) in the same
round trip; a channel that is not the trip's takes no lock, and its request writes nothing. The
channel is read from the statement's snapshot, before any wait for the lock: sound because a
channel, once committed, is never changed or deleted."""
_insert_message = insert(t.messages).values(
    id=bindparam("id"),
    trip_id=bindparam("trip_id"),
    channel_id=bindparam("channel_id"),
    author_id=bindparam("author_id"),
    author_name=bindparam("author_name"),
    content=bindparam("content"),
    parent_id=bindparam("parent_id"),
    created_at=bindparam("created_at"),
)


async def check_channel(conn: AsyncConnection, trip_id: str, channel_id: str) -> None:
    """404 unless `channel_id` is a channel of the trip."""
    found = await conn.execute(_channel_of_trip, {"channel_id": channel_id, "trip_id": trip_id})
    if found.first() is None:
        raise not_found("Channel")


async def list_messages(
    conn: AsyncConnection, channel_id: str, *, limit: int, cursor: str | None
) -> tuple[list[Any], str | None]:
    """A page of a channel's messages, newest first."""
    query = select(t.messages).where(t.messages.c.channel_id == channel_id)
    return await pagination.page(conn, query, [t.messages.c.seq], limit=limit, cursor=cursor, descending=True)


async def send_message(db: Database, row: Row) -> Row:
    """Insert the message `row` (every column but `seq`): 404 when its channel is not one of its
    trip's, 422 when its parent is not a message of that channel. One write transaction at the
    driver (`Database.transact`); the caller names the trip it touches."""
    sqlite = db.is_sqlite

    def body() -> Generator[Step, list[Row], Row]:
        # PostgreSQL takes the trip's lock with the check: seq order = commit order, for the
        # changes feed (see revisions.lock_trip). SQLite runs one writer at a time already.
        check = _channel_of_trip if sqlite else _channel_of_locked_trip
        if not (yield check, {"channel_id": row["channel_id"], "trip_id": row["trip_id"]}):
            raise not_found("Channel")
        if row["parent_id"] and not (
            yield _message_of_channel, {"message_id": row["parent_id"], "channel_id": row["channel_id"]}
        ):
            raise validation_error(
                [{"path": "parentId", "reason": "not_found"}], "parentId is not a message of this channel"
            )
        yield _insert_message, row
        return row

    return await db.transact(body, touches=(row["trip_id"],))
