"""What makes opening a trip fast: the collector paused during start-up and resumed after it."""

from __future__ import annotations

import gc

import pytest

from app.tui import startup
from tests.conftest import new_trip
from tests.tui.conftest import wait_for


@pytest.fixture
def collector():
    """Leaves the collector running and nothing frozen, whatever the test did."""
    yield
    startup._held = False
    gc.enable()
    gc.unfreeze()


def test_hold_then_release_resumes_the_collector_once(collector):
    startup.hold_collector()
    assert not gc.isenabled() and startup.collector_held()
    startup.release_collector()
    assert gc.isenabled() and not startup.collector_held()
    assert gc.get_freeze_count() > 0  # what start-up built is out of later collections' way
    gc.disable()
    startup.release_collector()  # a second release is not a second resume
    assert not gc.isenabled()


def test_a_collector_paused_by_someone_else_stays_paused(collector):
    gc.disable()
    startup.hold_collector()
    startup.release_collector()
    assert not gc.isenabled()


async def test_the_app_resumes_the_collector_after_its_hold(collector, monkeypatch, tui, alice):
    monkeypatch.setattr(startup, "HOLD_SECONDS", 0.2)
    trip = await new_trip(alice)
    startup.hold_collector()
    app, _ = tui(alice.key, trip_id=trip["_id"])
    async with app.run_test(size=(80, 24)) as pilot:
        assert not gc.isenabled()
        await wait_for(pilot, gc.isenabled, what="the collector back on")
        await wait_for(pilot, lambda: app.screen.data is not None, what="the trip")
