"""The demo trip shows what Tripdeck catches, and the fixed copy of it (screenshots, snapshots)
shows exactly the conflicts the service finds in the seeded one."""

from __future__ import annotations

import datetime as dt

import pytest

from app.client import TripClient
from app.demo import frozen, story
from app.demo.seed import seed
from app.tui.formatting import flight_line, flight_times
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
    async with TripClient(
        api_key=keys["you"], base_url=BASE, transport=httpx.ASGITransport(app=server.app)
    ) as client:
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


@pytest.mark.parametrize("start", [dt.date(2027, 1, 10), dt.date(2027, 2, 10)], ids=["winter", "ramadan"])
async def test_the_demo_catches_the_same_mistakes_in_every_season(server, start):
    """Madrid's and Morocco's offsets differ by one hour in summer, none in winter, two during
    Ramadan (Morocco goes back to UTC): the flights still take as long, the pickup is still early."""
    import httpx

    keys = {person.ref: (await server.user_key(person.email, person.name))[1] for person in story.PEOPLE}
    clients = {
        ref: TripClient(api_key=key, base_url=BASE, transport=httpx.ASGITransport(app=server.app))
        for ref, key in keys.items()
    }
    try:
        seeded = await seed(clients, start)
        summary = await clients["you"].get_itinerary_summary(seeded.trip_id)
        [marrakech] = [
            leg async for leg in clients["you"].iterate_legs(seeded.trip_id) if leg.title == "Marrakech"
        ]
    finally:
        for client in clients.values():
            await client.aclose()
    assert sorted(c.type for c in summary.conflicts) == [
        "impossible_transfer",
        "night_without_stay",
        "overlapping_commitments",
    ]
    assert [flight_line(flight_times(f, marrakech.timezone)).split(" · ")[-1] for f in marrakech.flights] == [
        "1h20",
        "3h35",
    ]


async def test_trip_demo_keeps_its_outbox_with_its_service_and_ends_it_saying_what_was_unsent(
    tmp_path, monkeypatch, capsys
):
    """The demo's service lives on a loopback port that changes every run and its database is
    thrown away: an item queued in the demo could never be sent again. So it never reaches the
    user's own outbox (TRIP_OUTBOX_FILE here), and what was still unsent when the demo ends is
    named, not kept."""
    import asyncio

    from app.cli import demo_app, end_demo
    from app.demo_server import DemoServer
    from tests.tui.conftest import wait_for

    real = tmp_path / "mine" / "outbox.jsonl"
    monkeypatch.setenv("TRIP_OUTBOX_FILE", str(real))
    monkeypatch.setenv("TRIP_CONFIG_FILE", str(tmp_path / "config.json"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    server = DemoServer(companions=False)
    server.begin()
    app = None
    try:
        app = await asyncio.to_thread(demo_app, server)
        assert app is not None and server.trip is not None
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: getattr(app.screen, "data", None) is not None, what="the trip")
            leg = app.screen.data.legs.items[0]
            # An edit the demo's service refused: it stays, NOT SENT, until retried or discarded.
            item = app.outbox.add_write(
                server.trip.trip_id,
                "legs",
                "update",
                leg.id,
                body={"title": "Lisboa"},
                label="edit leg Lisbon",
            )
            app.outbox.fail(item.id, "changed on the server since (Maya)")
            demo_outbox = app.outbox.path
            assert demo_outbox.exists()
            # A terminal joined with `j` shares the demo's outbox, not its user's own.
            assert server.join_command().startswith(f"TRIP_OUTBOX_FILE={demo_outbox} trip ui ")
    finally:
        end_demo(server, app)
    assert not real.exists() and not real.parent.exists()
    assert not demo_outbox.exists()
    said = capsys.readouterr().err
    assert "edit leg Lisbon" in said and "never sent" in said, said
