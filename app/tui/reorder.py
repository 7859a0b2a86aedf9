"""Moving a leg on a service without ops (the seed's API only): PATCH the `order` of the legs
that move, after re-reading them, as an edit re-reads its row before saving."""

from __future__ import annotations

from collections.abc import Sequence

from app.client import TripClient
from app.domain.models import Leg


def new_orders(legs: Sequence[Leg], new_order: Sequence[str]) -> dict[str, int | float]:
    """{leg id: order} for the legs whose `order` must change so that sorting by it gives
    `new_order`. The legs' own values are dealt out again in the new sequence, so a move of one
    place changes two legs; values that tie (older data) are numbered afresh, 1, 2, 3..."""
    by_id = {leg.id: leg for leg in legs}
    values = sorted(leg.order for leg in legs)
    if len(set(values)) != len(values):
        values = list(range(1, len(legs) + 1))
    return {
        leg_id: value
        for leg_id, value in zip(new_order, values, strict=False)
        if by_id[leg_id].order != value
    }


async def reorder_by_patch(
    client: TripClient, trip_id: str, shown: Sequence[Leg], new_order: Sequence[str]
) -> list[Leg] | None:
    """Give the trip's legs `new_order`. Returns the legs in their new order, or None (nothing
    written) when the legs on the service are not those `shown`, in that order with those
    values: someone moved, added or deleted one meanwhile."""
    fresh = [leg async for leg in client.iterate_legs(trip_id, page_size=200)]
    if [(leg.id, leg.order) for leg in fresh] != [(leg.id, leg.order) for leg in shown]:
        return None
    by_id = {leg.id: leg for leg in fresh}
    for leg_id, order in new_orders(fresh, new_order).items():
        by_id[leg_id] = await client.update_leg(trip_id, leg_id, {"order": order})
    return [by_id[leg_id] for leg_id in new_order]
