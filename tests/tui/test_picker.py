"""The trip picker's new-trip dialog by keys alone, against the in-process server: a refusal
keeps the dialog and what was typed, and the new trip is the one highlighted."""

from __future__ import annotations

from textual.widgets import Input

from app.tui.screens.modals import ConfirmScreen, NewTripScreen
from app.tui.screens.picker import TripList, TripPickerScreen
from tests.conftest import new_trip
from tests.tui.conftest import wait_for


async def test_a_refused_trip_keeps_the_dialog_open_with_the_field_marked_and_the_new_trip_is_highlighted(
    server, tui, alice
):
    await new_trip(alice, title="Earlier trip", start="2026-07-01", end="2026-07-05")
    app, _ = tui(alice.key)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(
            pilot, lambda: isinstance(app.screen, TripPickerScreen) and app.screen.trips, what="trips"
        )
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, NewTripScreen), what="the dialog")
        dialog = app.screen
        await pilot.press(*"Road trip", "tab", *"2026-09-09", "tab", *"2026-09-01", "enter")
        await wait_for(
            pilot,
            lambda: dialog.query_one("#new-end").has_class("-invalid"),
            what="the end marked",
            state=lambda: str(dialog.query_one("#new-error").render()),
        )
        assert app.screen is dialog
        assert "end" in str(dialog.query_one("#new-error").render()).lower()
        assert dialog.query_one("#new-title", Input).value == "Road trip"
        assert not dialog.query_one("#new-title").has_class("-invalid")
        assert app.focused is dialog.query_one("#new-end")

        await pilot.press(*"2026-09-19", "enter")  # the refused value is selected: typing replaces it
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, TripPickerScreen) and len(app.screen.trips) == 2,
            what="the new trip",
        )
        trip_list = app.screen.query_one(TripList)
        await wait_for(
            pilot,
            lambda: (
                trip_list.highlighted_option is not None
                and trip_list.highlighted_option.id
                == next(t.id for t in app.screen.trips if t.title == "Road trip")
            ),
            what="the new trip highlighted",
            state=lambda: trip_list.highlighted,
        )
        assert trip_list.highlighted == 1  # sorted after the earlier trip


async def test_esc_in_the_new_trip_dialog_asks_before_dropping_what_was_typed(server, tui, alice):
    app, _ = tui(alice.key)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(
            pilot, lambda: isinstance(app.screen, TripPickerScreen) and app.screen.me, what="picker"
        )
        await pilot.press("n", "escape")
        await wait_for(pilot, lambda: isinstance(app.screen, TripPickerScreen), what="closed at once")
        await pilot.press("n", *"Road trip", "escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, NewTripScreen), what="back in the dialog")
        assert app.screen.query_one("#new-title", Input).value == "Road trip"
        await pilot.press("escape", "y")
        await wait_for(pilot, lambda: isinstance(app.screen, TripPickerScreen), what="dropped")


async def test_at_40_columns_the_picker_shows_each_trip_by_its_title(server, tui, alice):
    from tests.tui.test_fit import row_text

    await new_trip(alice, title="Andes by bus", start="2026-07-01", end="2026-07-05")
    app, _ = tui(alice.key)
    async with app.run_test(size=(40, 15)) as pilot:
        await wait_for(
            pilot, lambda: isinstance(app.screen, TripPickerScreen) and app.screen.trips, what="trips"
        )
        await pilot.pause()
        row = next((row_text(app, y) for y in range(15) if "Jul 2026" in row_text(app, y)), "")
        assert "Andes by bus" in row and "1 Jul – 5 Jul 2026" in row, row
        await pilot.resize_terminal(100, 24)
        await pilot.pause(0.2)
        row = next(row_text(app, y) for y in range(24) if "Jul 2026" in row_text(app, y))
        assert "Andes by bus" in row and "draft" in row and "1 member" in row, row
