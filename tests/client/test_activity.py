"""The activity feed and revert through the SDK, against the real server: the feed as an async
iterator, a revert and its redo, and the typed conflict naming the later change."""

from __future__ import annotations

import pytest

from app.client import RevertConflictError, StaleRevisionError
from app.domain import Activity, RevertResult
from tests.client.test_client import LEG, make_trip


async def test_iterate_the_feed_and_revert_then_redo(client):
    trip = await make_trip(client)
    leg = await client.create_leg(trip.id, **LEG)
    for title in ("Kyoto", "Osaka", "Nara"):
        await client.update_leg(trip.id, leg.id, title=title)
    feed = [op async for op in client.iterate_operations(trip.id, page_size=2)]
    assert all(isinstance(op, Activity) for op in feed)
    assert [op.summary for op in feed] == [
        "Alice renamed the leg “Osaka” to “Nara”",
        "Alice renamed the leg “Kyoto” to “Osaka”",
        "Alice renamed the leg “Tokyo” to “Kyoto”",
        "Alice added the leg “Tokyo”",
    ]
    assert feed[0].changes[0].fields["title"].before == "Osaka"
    assert feed[0].actor.user_id == (await client.me()).id

    revision = (await client.get_trip(trip.id)).revision
    undone = await client.revert_operation(trip.id, feed[0].op_id, base_revision=revision)
    assert isinstance(undone, RevertResult) and undone.revision == revision + 1
    assert (await client.get_leg(trip.id, leg.id)).title == "Osaka"
    redone = await client.revert_operation(trip.id, undone.operation.op_id, base_revision=undone.revision)
    assert redone.operation.reverts == undone.operation.op_id
    assert (await client.get_leg(trip.id, leg.id)).title == "Nara"

    with pytest.raises(StaleRevisionError):
        await client.revert_operation(trip.id, feed[1].op_id, base_revision=revision)
    with pytest.raises(RevertConflictError) as raised:
        await client.revert_operation(trip.id, feed[1].op_id, base_revision=redone.revision)
    assert [op.op_id for op in raised.value.conflicting_operations] == [redone.operation.op_id]
