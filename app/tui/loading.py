"""Every read the TUI makes, through the SDK: a trip's first screenful, one more page of a list,
one page of a channel's history. Each returns plain `app.tui.data` values."""

from __future__ import annotations

import asyncio
from typing import Any

from app.client import NotFoundError, TripClient
from app.domain.itinerary import ItinerarySummary
from app.domain.models import Message
from app.tui.data import MESSAGE_PAGE, PAGE, Paged, TripData

KINDS = ("legs", "pins", "action_items", "commitments")
_LIST = {
    "legs": "list_legs",
    "pins": "list_map_pins",
    "action_items": "list_action_items",
    "commitments": "list_commitments",
}


def _paged(page: Any) -> Paged:
    return Paged(list(page.items), page.next_cursor)


async def load_page(client: TripClient, trip_id: str, kind: str, *, cursor: str | None = None,
                    limit: int = PAGE) -> Paged:
    method = getattr(client, _LIST[kind])
    return _paged(await method(trip_id, limit=limit, cursor=cursor))


async def load_messages(client: TripClient, trip_id: str, channel_id: str, *, cursor: str | None = None) -> Paged[Message]:
    """One page of a channel, oldest first (the API pages newest first)."""
    page = await client.list_messages(trip_id, channel_id, limit=MESSAGE_PAGE, cursor=cursor)
    return Paged(list(reversed(page.items)), page.next_cursor)


async def load_summary(client: TripClient, trip_id: str) -> ItinerarySummary | None:
    """The itinerary summary (for conflicts), or None from a service that has no summary yet."""
    try:
        return await client.get_itinerary_summary(trip_id)
    except NotFoundError:
        return None


async def load_trip(client: TripClient, trip_id: str, *, channel_id: str | None = None) -> TripData:
    """What the trip screen shows first: a page of each list and the first channel's newest page."""
    trip, me, members, channels, summary, legs, pins, items, commitments = await asyncio.gather(
        client.get_trip(trip_id),
        client.me(),
        client.list_members(trip_id, limit=200),
        client.list_channels(trip_id, limit=200),
        load_summary(client, trip_id),
        load_page(client, trip_id, "legs"),
        load_page(client, trip_id, "pins"),
        load_page(client, trip_id, "action_items"),
        load_page(client, trip_id, "commitments"),
    )
    data = TripData(
        trip=trip, me=me, members=list(members.items), channels=list(channels.items), summary=summary,
        legs=legs, pins=pins, action_items=items, commitments=commitments,
    )
    chosen = channel_id if any(c.id == channel_id for c in data.channels) else (
        data.channels[0].id if data.channels else None)
    if chosen is not None:
        data.messages[chosen] = await load_messages(client, trip_id, chosen)
    return data
