"""Every screen that loads says in place what went wrong (the service unreachable, the key
refused, the trip not found) and what to do, shows the offline banner, recovers by itself when
the service answers again, and never shows "● live" before it has a live view."""

from __future__ import annotations

from app.tui.screens.picker import TripPickerScreen
from app.tui.screens.trip import TripScreen
from app.tui.widgets.status import OfflineBanner, TripHeader
from tests.conftest import new_trip
from tests.tui.conftest import wait_for


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


async def test_picker_with_the_service_down_says_so_and_recovers_by_itself(server, tui, alice):
    await new_trip(alice, title="Andes")
    app, transport = tui(alice.key)
    transport.offline = True
    async with app.run_test(size=(100, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TripPickerScreen), what="the picker")
        screen = app.screen
        await wait_for(pilot, lambda: "Cannot reach" in text_of(screen, "#picker-hint"), what="what is wrong")
        assert screen.query_one(OfflineBanner).display
        transport.offline = False
        await wait_for(pilot, lambda: [trip.title for trip in screen.trips] == ["Andes"], what="the trips")
        assert not screen.query_one(OfflineBanner).display and "Cannot reach" not in text_of(
            screen, "#picker-hint"
        )


async def test_picker_with_a_wrong_key_says_the_key_was_refused(server, tui, alice):
    app, _ = tui("osk_wrong")
    async with app.run_test(size=(100, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TripPickerScreen), what="the picker")
        await wait_for(
            pilot, lambda: "refused the key" in text_of(app.screen, "#picker-hint"), what="the refusal"
        )
        assert app.screen.query_one(OfflineBanner).display


async def test_trip_screen_for_a_trip_that_does_not_exist_says_so_and_is_not_live(server, tui, alice):
    app, _ = tui(alice.key, trip_id="nosuchtrip")
    async with app.run_test(size=(100, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TripScreen), what="the trip screen")
        await wait_for(pilot, lambda: "not found" in text_of(app.screen, "#waiting"), what="not found")
        assert "press t" in text_of(app.screen, "#waiting").lower()
        assert "live" not in str(app.screen.query_one(TripHeader).render())
        assert app.screen.query_one(OfflineBanner).display


async def test_trip_screen_with_a_wrong_key_says_the_key_was_refused(server, tui, alice):
    trip = await new_trip(alice)
    app, _ = tui("osk_wrong", trip_id=trip["_id"])
    async with app.run_test(size=(100, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TripScreen), what="the trip screen")
        await wait_for(
            pilot, lambda: "refused the key" in text_of(app.screen, "#waiting"), what="the refusal"
        )
        assert "live" not in str(app.screen.query_one(TripHeader).render())


async def test_trip_screen_started_with_the_service_down_is_not_live_until_it_is(server, tui, alice):
    trip = await new_trip(alice)
    app, transport = tui(alice.key, trip_id=trip["_id"])
    transport.offline = True
    async with app.run_test(size=(100, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TripScreen), what="the trip screen")
        header = lambda: str(app.screen.query_one(TripHeader).render())  # noqa: E731
        await wait_for(pilot, lambda: "Cannot reach" in text_of(app.screen, "#waiting"), what="what is wrong")
        assert "live" not in header()
        transport.offline = False
        await wait_for(pilot, lambda: app.screen.data is not None, what="the trip")
        await wait_for(pilot, lambda: "● live" in header(), what="live")


async def test_picker_new_trip_with_a_wrong_key_says_the_key_was_refused(server, tui, alice):
    from app.tui.screens.modals import NewTripScreen

    app, _ = tui("osk_wrong")
    async with app.run_test(size=(100, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TripPickerScreen), what="the picker")
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, NewTripScreen), what="the new trip dialog")
        await pilot.press(*"Andes", "enter")
        # Said in the dialog, which stays open with what was typed (issue 22).
        dialog = app.screen
        error = lambda: str(dialog.query_one("#new-error").render())  # noqa: E731
        await wait_for(
            pilot,
            lambda: "Not created" in error() and "key was refused" in error(),
            what="the refusal",
            state=error,
        )
        assert app.screen is dialog and dialog.query_one("#new-title").value == "Andes"
