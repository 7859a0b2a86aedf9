"""The demo trip shows what Tripdeck catches, and the fixed copy of it (screenshots, snapshots)
shows exactly the conflicts the service finds in the seeded one."""

from __future__ import annotations

from app.client import TripClient
from app.tui.demo import frozen, story
from tests.conftest import BASE
from tests.tui.test_trip_screen import seeded_demo


def _frozen_ids(client_legs, commitments) -> dict[str, str]:
    """Service ids -> the fixed data's ids (legs by client ref, commitments by title)."""
    ids = {leg.id: f"leg-{leg.client_ref}" for leg in client_legs}
    fixed = {c.title: c.id for c in frozen.trip_data().commitments.items}
    ids |= {c.id: fixed[c.title] for c in commitments}
    return ids


def _renamed(event_id: str, ids: dict[str, str]) -> str:
    head, dot, tail = event_id.partition(".")
    return ids.get(head, head) + dot + tail


async def test_the_fixed_demo_has_the_conflicts_the_service_finds_in_the_seeded_one(server):
    import httpx

    keys, trip_id, _ = await seeded_demo(server)
    async with TripClient(api_key=keys["you"], base_url=BASE, transport=httpx.ASGITransport(app=server.app)) as client:
        summary = await client.get_itinerary_summary(trip_id)
        legs = [leg async for leg in client.iterate_legs(trip_id)]
        commitments = [c async for c in client.iterate_commitments(trip_id)]
    ids = _frozen_ids(legs, commitments)
    found = [(c.type, [_renamed(i, ids) for i in c.event_ids], c.message, c.dates) for c in summary.conflicts]
    fixed = [(c.type, c.event_ids, c.message, c.dates) for c in frozen.trip_data().summary.conflicts]
    print(found)
    assert fixed == found
    # What a first-time user should see caught: a clash, a night without a bed, a pickup too early.
    assert {"overlapping_commitments", "night_without_stay", "impossible_transfer"} <= {c[0] for c in found}
