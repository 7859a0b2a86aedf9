"""Itinerary, diff, summary, ops and the live changes feed through the SDK, against the real server."""

from __future__ import annotations

import asyncio
import time

import pytest

from app.client import OperationRejectedError, StaleRevisionError, ValidationError
from app.domain import Changes, Itinerary, ItineraryDiff, ItinerarySummary, OpResult
from tests.client.conftest import poll_held
from tests.client.test_client import LEG, make_trip


async def planned_trip(client):
    trip = await make_trip(client)
    leg = await client.create_leg(
        trip.id,
        **{**LEG, "start_date": "2026-07-15", "end_date": "2026-07-18"},
        flights=[
            {
                "airline": "JL",
                "flight_number": "JL44",
                "departure_time": "2026-07-15T09:00",
                "arrival_time": "2026-07-15T13:00",
            }
        ],
        accommodation={"name": "Ryokan", "check_in": "2026-07-15T15:00", "lat": 35.0, "lng": 135.7},
    )
    dinner = await client.create_commitment(
        trip.id,
        title="Dinner",
        start_date="2026-07-16",
        category="dinner",
        start_time="19:00",
        end_time="21:00",
        leg_id=leg.id,
    )
    return trip, leg, dinner


async def test_itinerary_and_summary(client):
    trip, leg, dinner = await planned_trip(client)
    itinerary = await client.get_itinerary(trip.id)
    assert isinstance(itinerary, Itinerary)
    assert [(e.id, e.type) for e in itinerary.events] == [
        (f"{leg.id}.flight.0", "flight"),
        (f"{leg.id}.accommodation.0", "accommodation"),
        (dinner.id, "dinner"),
    ]
    assert itinerary.revision == 3 and itinerary.event_count == 3
    # The SDK's events carry their instants; a flight without airports is in its leg's zone.
    flight = itinerary.events[0]
    assert (flight.timezone, flight.starts_at, flight.ends_at, flight.end_timezone) == (
        "Asia/Tokyo",
        "2026-07-15T09:00:00+09:00",
        "2026-07-15T13:00:00+09:00",
        None,
    )
    assert (leg.flights[0].departure_timezone, leg.flights[0].departure_timezone_source) == (
        "Asia/Tokyo",
        "leg",
    )

    await client.create_commitment(
        trip.id,
        title="Karaoke",
        start_date="2026-07-16",
        category="activity",
        start_time="20:00",
        end_time="22:00",
    )
    summary = await client.get_itinerary_summary(trip.id)
    assert isinstance(summary, ItinerarySummary)
    assert summary.events_by_type["dinner"] == 1 and summary.conflict_count == len(summary.conflicts) == 2
    assert summary.conflicts[0].type == "overlapping_commitments"
    # The stay's check-out defaults to the leg's last day: the trip's later nights have no bed.
    night = summary.conflicts[1]
    assert night.type == "night_without_stay" and night.dates == [
        "2026-07-18",
        "2026-07-19",
        "2026-07-20",
        "2026-07-21",
    ]
    assert summary.trip_bounds is not None and summary.trip_bounds.min_lat == 35.0
    assert trip.min_connection_minutes == 45
    assert (await client.update_trip(trip.id, min_connection_minutes=60)).min_connection_minutes == 60


async def test_diff_since_a_revision(client):
    trip, _leg, dinner = await planned_trip(client)
    await client.update_commitment(trip.id, dinner.id, start_time="19:30")
    diff = await client.get_itinerary_diff(trip.id, since_revision=3)
    assert isinstance(diff, ItineraryDiff)
    assert (diff.since_revision, diff.current_revision) == (3, 4)
    assert [op.result_revision for op in diff.operations] == [4]
    assert [(d.event_id, d.change) for d in diff.event_diffs] == [(dinner.id, "updated")]


async def test_ops_compare_and_set(client):
    trip, _leg, dinner = await planned_trip(client)
    result = await client.apply_op(
        trip.id,
        base_revision=3,
        type="move_event",
        payload={"event_id": dinner.id, "date": "2026-07-17", "time": "20:00"},
    )
    assert isinstance(result, OpResult)
    assert (result.new_revision, result.operation, result.result.affected_event_ids) == (
        4,
        "move_event",
        [dinner.id],
    )
    moved = await client.get_commitment(trip.id, dinner.id)
    assert (moved.start_date, moved.start_time, moved.end_time) == ("2026-07-17", "20:00", "22:00")

    with pytest.raises(StaleRevisionError) as stale:
        await client.apply_op(trip.id, base_revision=3, type="remove_event", payload={"event_id": dinner.id})
    assert (stale.value.status, stale.value.code) == (409, "STALE_REVISION")
    assert (stale.value.current_revision, stale.value.base_revision) == (4, 3)

    with pytest.raises(OperationRejectedError) as rejected:
        await client.apply_op(
            trip.id, base_revision=4, type="move_event", payload={"event_id": dinner.id, "date": "2027-01-01"}
        )
    assert rejected.value.code == "OPERATION_REJECTED" and rejected.value.message
    with pytest.raises(ValidationError):
        await client.apply_op(trip.id, base_revision=4, type="teleport", payload={})

    added = await client.apply_op(
        trip.id,
        base_revision=4,
        type="add_event",
        payload={"title": "Onsen", "startDate": "2026-07-16", "category": "activity"},
    )
    assert added.new_revision == 5
    assert "Onsen" in [e.title for e in (await client.get_itinerary(trip.id)).events]


async def test_changes_follow_a_cursor(client):
    trip, leg, _dinner = await planned_trip(client)
    now = await client.changes(trip.id)
    assert isinstance(now, Changes) and now.revision == 3 and now.operations == [] and now.messages == []
    general = (await client.list_channels(trip.id)).items[0]
    await client.update_leg(trip.id, leg.id, title="Tokyo!")
    await client.send_message(trip.id, general.id, "leg renamed")
    news = await client.changes(trip.id, since=now.cursor)
    assert [op.result_revision for op in news.operations] == [4]
    assert [m.content for m in news.messages] == ["leg renamed"]
    quiet = await client.changes(trip.id, since=news.cursor)
    assert quiet.operations == [] and quiet.messages == [] and quiet.cursor == news.cursor


async def test_long_poll_wakes_on_news_and_returns_empty_when_quiet(client, server):
    trip, _leg, dinner = await planned_trip(client)
    cursor = (await client.changes(trip.id)).cursor
    started = time.monotonic()
    quiet = await client.changes(trip.id, since=cursor, wait=1)
    assert 0.9 <= time.monotonic() - started < 10
    assert quiet.operations == [] and quiet.cursor == cursor

    waiting = asyncio.create_task(client.changes(trip.id, since=cursor, wait=20))
    await poll_held(server)
    assert not waiting.done()
    started = time.monotonic()
    await client.delete_commitment(trip.id, dinner.id)
    news = await asyncio.wait_for(waiting, 10)
    assert time.monotonic() - started < 10
    assert [op.operation_type for op in news.operations] == ["delete_commitment"]


async def test_watch_changes_yields_only_news(client, server):
    trip, _leg, _dinner = await planned_trip(client)
    general = (await client.list_channels(trip.id)).items[0]
    seen: list[Changes] = []

    async def watch() -> None:
        async for news in client.watch_changes(trip.id, wait=5):
            seen.append(news)
            if sum(len(n.messages) for n in seen) >= 2:
                return

    watcher = asyncio.create_task(watch())
    await poll_held(server)
    await client.send_message(trip.id, general.id, "one")
    await asyncio.sleep(0.1)
    await client.send_message(trip.id, general.id, "two")
    await asyncio.wait_for(watcher, 15)
    assert [m.content for n in seen for m in n.messages] == ["one", "two"]
    assert all(n.operations or n.messages for n in seen)
