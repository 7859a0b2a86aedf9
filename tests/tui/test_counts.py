"""Counts read as English: "1 leg", "1 commitment", "1 pin" (not "1 legs"), "2+ legs" while more
wait to be paged in."""

from __future__ import annotations

from app.tui.formatting import counted
from app.tui.widgets.agenda import Agenda
from app.tui.widgets.legs_timeline import LegsTimeline
from app.tui.widgets.map_pins import MapPins
from tests.conftest import new_trip
from tests.tui.conftest import wait_for
from tests.tui.test_editing import open_trip


def test_counted():
    assert counted(1, "leg") == "1 leg"
    assert counted(0, "leg") == "0 legs"
    assert counted(2, "commitment") == "2 commitments"
    assert counted(1, "leg", more=True) == "1+ legs"  # at least one, maybe many


async def test_one_of_each_is_counted_in_the_singular(server, tui, alice):
    trip = await new_trip(alice)
    trip_id = trip["_id"]
    leg = {
        "title": "Cotswolds",
        "destination": "Bibury",
        "startDate": "2026-07-15",
        "endDate": "2026-07-22",
        "timezone": "Europe/London",
        "order": 1,
    }
    leg_id = (await alice.http.post(f"/trips/{trip_id}/legs", json=leg)).json()["_id"]
    pin = {"name": "Arlington Row", "lat": 51.76, "lng": -1.83}
    assert (await alice.http.post(f"/trips/{trip_id}/map-pins", json=pin)).status_code == 201
    commitment = {
        "title": "Walk",
        "startDate": "2026-07-16",
        "isAllDay": True,
        "category": "activity",
        "legId": leg_id,
    }
    assert (await alice.http.post(f"/trips/{trip_id}/commitments", json=commitment)).status_code == 201
    app, _ = tui(alice.key, trip_id=trip_id)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_trip(pilot, app)

        def subtitles() -> list[str]:
            return [str(screen.query_one(pane).border_subtitle) for pane in (LegsTimeline, MapPins, Agenda)]

        await wait_for(pilot, lambda: all(subtitles()), what="the panes", state=subtitles)
        legs, pins, agenda = subtitles()
        assert " 1 leg" in legs and "1 legs" not in legs, legs
        assert pins.startswith("1 pin ") or pins == "1 pin", pins
        assert agenda.startswith("1 commitment") and "1 commitments" not in agenda, agenda
