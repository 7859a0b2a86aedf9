"""Every read the TUI makes, through the SDK: a trip's first screenful, one more page of a list,
one page of a channel's history. Each returns plain `app.tui.data` values."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from app.client import NotFoundError, NotSupportedError, SharedTripClient, TripClient
from app.domain.itinerary import ItinerarySummary
from app.domain.models import ActionItem, Leg, MapPin, Member, Message, Trip
from app.tui import kinds
from app.tui.data import MESSAGE_PAGE, PAGE, Paged, TripData


def _paged(page: Any) -> Paged:
    return Paged(list(page.items), page.next_cursor)


async def load_page(
    client: TripClient, trip_id: str, kind: str, *, cursor: str | None = None, limit: int = PAGE
) -> Paged:
    list_page = kinds.KINDS[kind].list_page(client)
    return _paged(await list_page(trip_id, limit=limit, cursor=cursor))


MAX_PAGE = 200
"""The most rows the service returns in one page."""


async def reload_rows(client: TripClient, trip_id: str, kind: str, count: int) -> Paged:
    """The first `count` rows of a list again (at least a page), in pages of up to 200: a live
    refresh keeps every row the user has paged in, and where paging goes on from there."""
    wanted = max(count, PAGE)
    items: list = []
    cursor: str | None = None
    while True:
        page = await load_page(client, trip_id, kind, cursor=cursor, limit=min(wanted - len(items), MAX_PAGE))
        items += page.items
        cursor = page.next_cursor
        if cursor is None or len(items) >= wanted:
            return Paged(items, cursor)


async def load_messages(
    client: TripClient, trip_id: str, channel_id: str, *, cursor: str | None = None
) -> Paged[Message]:
    """One page of a channel, oldest first (the API pages newest first)."""
    page = await client.list_messages(trip_id, channel_id, limit=MESSAGE_PAGE, cursor=cursor)
    return Paged(list(reversed(page.items)), page.next_cursor)


async def load_summary(
    client: TripClient, trip_id: str, data: TripData | None = None
) -> ItinerarySummary | None:
    """The itinerary summary (for conflicts). From a service without the itinerary endpoints it
    is computed here from `data`'s lists (read whole first where only a page is loaded) by the
    service's own code (app/domain/summary.py); None without `data`."""
    try:
        return await client.get_itinerary_summary(trip_id)
    except NotSupportedError:
        if data is None:
            return None
    except NotFoundError:
        return None
    from app.domain.summary import summary_of

    async def every(kind: str) -> list:
        paged = kinds.KINDS[kind].paged(data)
        return (
            list(paged.items) if paged.complete else (await reload_rows(client, trip_id, kind, 10**9)).items
        )

    legs, commitments, pins = await asyncio.gather(every("legs"), every("commitments"), every("pins"))
    return summary_of(data.trip, legs, commitments, pins)


async def load_trip(
    client: TripClient, trip_id: str, *, channel_id: str | None = None, with_cursor: bool = False
) -> tuple[TripData, str | None]:
    """What the trip screen shows first, in two round trips: the live feed's cursor and the
    channels, then a page of each list and the chosen channel's newest page.

    The itinerary summary (conflicts) is not part of it: the service computes it over the whole
    trip, which takes long on a huge one, so the screen asks for it separately, afterwards.

    The cursor is None from a service without the changes feed (it is then polled, see
    app/tui/polling.py). It is read before any content, so that a change made while the rest loads is
    delivered again by the feed (the panes ignore what they already have) and never missed."""

    async def feed_cursor() -> str | None:
        try:
            return (await client.changes(trip_id)).cursor
        except NotSupportedError:
            return None  # a service of the seed's API only: the screen polls instead

    async def no_cursor() -> None:
        return None

    channel_page, cursor = await asyncio.gather(
        client.list_channels(trip_id, limit=200), feed_cursor() if with_cursor else no_cursor()
    )
    channels = list(channel_page.items)
    chosen = (
        channel_id if any(c.id == channel_id for c in channels) else (channels[0].id if channels else None)
    )

    async def newest(channel: str | None) -> Paged[Message] | None:
        return await load_messages(client, trip_id, channel) if channel else None

    (trip, me, members), (legs, pins, items, commitments), messages = await asyncio.gather(
        asyncio.gather(client.get_trip(trip_id), client.me(), client.list_members(trip_id, limit=200)),
        asyncio.gather(
            load_page(client, trip_id, kinds.LEGS.name),
            load_page(client, trip_id, kinds.PINS.name),
            load_page(client, trip_id, kinds.ACTION_ITEMS.name),
            load_page(client, trip_id, kinds.COMMITMENTS.name),
        ),
        newest(chosen),
    )
    data = TripData(
        trip=trip,
        me=me,
        members=list(members.items),
        channels=channels,
        legs=legs,
        pins=pins,
        action_items=items,
        commitments=commitments,
    )
    if chosen is not None and messages is not None:
        data.messages[chosen] = messages
    return data, cursor


async def load_shared(shared: SharedTripClient) -> TripData:
    """A trip as its share link shows it: the whole safe projection in one request (the service
    allows no paging there), as the same `TripData` the panes show. No viewer, no channels, no
    messages: a share link carries none of them."""
    export = await shared.export_trip()

    def convert(model: type[BaseModel], rows: Sequence[BaseModel]) -> list[Any]:
        return [model.model_validate(row.model_dump(by_alias=True, exclude_none=True)) for row in rows]

    return TripData(
        trip=Trip.model_validate(export.trip.model_dump(by_alias=True, exclude_none=True)),
        me=None,
        members=convert(Member, export.members),
        legs=Paged(sorted(convert(Leg, export.legs), key=lambda leg: (leg.order, leg.start_date))),
        pins=Paged(convert(MapPin, export.map_pins)),
        action_items=Paged(convert(ActionItem, export.action_items)),
        commitments=Paged(sorted(export.commitments, key=lambda c: (c.start_date, c.start_time or ""))),
    )
