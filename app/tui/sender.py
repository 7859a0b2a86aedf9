"""Sends what waits in the outbox: the signed-in user's items, oldest first, one at a time, each
with its own idempotency key, while holding the outbox's send lock (one sender per file across
processes, each item taken fresh from the file: none is sent twice)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.client import TripClient, TripConnectionError, TripError
from app.tui import editing
from app.tui.notices import describe
from app.tui.outbox import Item, Outbox, PendingWrite

Sent = Callable[[Item, Any], None]
"""Told of each item the service took, with its answer: the row (wire JSON, None after a
delete) for a write, the `Message` for a chat message."""
Failed = Callable[[Item, str], None]
"""Told of each item the service refused, with the reason (the item stays, marked failed)."""


async def send_one(client: TripClient, item: Item) -> Any:
    if isinstance(item, PendingWrite):
        return await editing.send_queued(client, item)
    return await client.send_message(
        item.trip_id,
        item.channel_id,
        item.content,
        parent_id=item.parent_id,
        idempotency_key=item.idempotency_key,
    )


async def send_waiting(
    client: TripClient,
    outbox: Outbox,
    *,
    trip_id: str | None = None,
    sent: Sent | None = None,
    failed: Failed | None = None,
) -> bool:
    """Send the owner's waiting items (of `trip_id`, or of every trip). Refused, or an edit of a
    row someone changed since: marked failed (kept for retry or discard), and on to the next.
    Returns False when the service could not be reached (the rest waits), else True."""
    async with outbox.sending():
        while (item := outbox.next_unsent(trip_id)) is not None:
            try:
                answer = await send_one(client, item)
            except TripConnectionError:
                return False
            except (TripError, editing.ChangedSince) as error:
                reason = describe(error) if isinstance(error, TripError) else str(error)
                outbox.fail(item.id, reason)
                if failed is not None:
                    failed(item, reason)
                continue
            if isinstance(item, PendingWrite) and answer is not None and item.action == "update":
                outbox.rebase(item, answer)
            outbox.remove(item.id)
            if sent is not None:
                sent(item, answer)
    return True
