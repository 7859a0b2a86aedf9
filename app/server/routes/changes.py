"""`GET /trips/{tripId}/changes`: the live changes feed (long poll) for live clients."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

from fastapi import APIRouter, Query, Request

from app.domain import timeline
from app.domain.itinerary import Changes
from app.server.auth import TripAccess, TripReader, recheck_trip_access
from app.server.deps import Db
from app.server.errors import ErrorResponses, not_found, validation_error
from app.server.responses import JSON
from app.server.storage import converters
from app.server.storage import itinerary as store
from app.server.storage.database import Database

router = APIRouter(prefix="/trips/{trip_id}", tags=["itinerary"], responses=ErrorResponses)

MAX_WAIT = 30
BATCH = 200
"""At most this many operations and this many messages per answer; the cursor then points
inside the backlog and the next call answers at once."""


def encode_cursor(revision: int, seq: int) -> str:
    return base64.urlsafe_b64encode(f"c1:{revision}:{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, int]:
    try:
        text = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
        version, revision, seq = text.split(":")
        if version != "c1" or not all(p.isascii() and p.isdigit() and len(p) <= 15 for p in (revision, seq)):
            raise ValueError
        return int(revision), int(seq)
    except (ValueError, UnicodeDecodeError):
        raise validation_error([{"path": "since", "reason": "invalid"}], "Invalid cursor in since") from None


async def _client_gone(receive) -> None:
    """Returns when the client disconnects (a GET has no body left to read)."""
    while (await receive())["type"] != "http.disconnect":
        pass


@router.get(
    "/changes",
    response_model=Changes,
    summary="Live changes after a cursor: waits up to `wait` seconds for news (long poll)",
    description="Without `since`: the current cursor and nothing else. With `since`: the operations "
    "(as in the itinerary diff) and, for keys with messages:read on this trip, the new messages of "
    "every channel, oldest first, that came after the cursor; if there are none yet, the request is "
    "held until there are or `wait` seconds pass (then an empty answer with the same cursor). Pass "
    "the returned `cursor` as the next `since`. `revision` is the trip revision these operations "
    f"bring the client to. At most {BATCH} operations and {BATCH} messages per answer.",
)
async def get_changes(
    request: Request,
    db: Db,
    access: TripReader,
    since: str | None = Query(None, description="The cursor of the previous answer"),
    wait: float = Query(
        0, ge=0, le=MAX_WAIT, description="Seconds to hold the request when there is no news (0..30)"
    ),
) -> Any:
    trip_id = access.trip_id
    if since is None:
        async with db.read() as conn:
            revision, seq = (await store.latest(conn, [trip_id]))[trip_id]
        return JSON(
            {"cursor": encode_cursor(revision, seq), "revision": revision, "operations": [], "messages": []}
        )

    revision, seq = decode_cursor(since)
    with_messages = access.key.allows("messages:read", trip_id)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    client_gone: asyncio.Task | None = None
    with request.app.state.change_hub.watch(trip_id) as watch:
        try:
            while True:
                signal = watch.signal()
                answer = await watch.read_once(
                    (revision, seq, with_messages), lambda: _read(db, trip_id, revision, seq, with_messages)
                )
                remaining = deadline - loop.time()
                if answer["operations"] or answer["messages"] or remaining <= 0:
                    return await _answer(request, access, answer, held=client_gone is not None)
                if client_gone is None:
                    client_gone = asyncio.ensure_future(_client_gone(request.receive))
                while True:
                    done, _ = await asyncio.wait(
                        {signal, client_gone}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
                    )
                    if client_gone in done:
                        return JSON(answer)  # nobody is listening any more
                    if not done:  # timed out
                        return await _answer(request, access, answer, held=True)
                    state = signal.result()
                    if state is None or state[0] > revision or (with_messages and state[1] > seq):
                        break  # news, or a local write: read again
                    signal = watch.signal()
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        return await _answer(request, access, answer, held=True)
        finally:
            if client_gone is not None:
                client_gone.cancel()


async def _answer(request: Request, access: TripAccess, answer: dict[str, Any], *, held: bool) -> JSON:
    """The answer, to a caller who may still have it: a request that was held may have outlived
    its access (member removed, key revoked), so it is checked again, after the read, as a new
    request would be (401, 404 or 403 instead of what came after the removal); a key that lost
    messages:read meanwhile gets the trip's news without the messages."""
    if held:
        fresh = await recheck_trip_access(request, access, "trips:read")
        if answer["messages"] and not fresh.key.allows("messages:read", access.trip_id):
            answer = {**answer, "messages": []}  # the key lost messages:read while held
    return JSON(answer)


async def _read(db: Database, trip_id: str, revision: int, seq: int, with_messages: bool) -> dict[str, Any]:
    """What came after (revision, seq). One cheap query when nothing did (the common case for a
    poll that is about to wait)."""
    async with db.read() as conn:
        state = (await store.latest(conn, [trip_id])).get(trip_id)
        if state is None:  # deleted while a poll was held
            raise not_found("Trip")
        current, newest = state
        if revision > current:
            raise validation_error(
                [{"path": "since", "reason": "invalid"}],
                f"The cursor is ahead of the trip (revision {current})",
            )
        operations = (
            await store.operations_since(conn, trip_id, revision, limit=BATCH) if current > revision else []
        )
        messages = (
            await store.messages_since(conn, trip_id, seq, limit=BATCH)
            if with_messages and newest > seq
            else []
        )
    operations = [op for op in operations if op["result_revision"] <= current]
    if operations:
        revision = operations[-1]["result_revision"]
    if messages:
        seq = messages[-1]["seq"]
    return {
        "cursor": encode_cursor(revision, seq),
        "revision": revision,
        "operations": [timeline.operation_wire(op) for op in operations],
        "messages": [converters.message(m) for m in messages],
    }
