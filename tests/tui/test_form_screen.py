"""The item form by keys alone: what a field holds is told apart from a hint, flags read right
without colour, Esc asks before typed work is dropped, and Tab walks only the fields."""

from __future__ import annotations

from textual.widgets import Input

from app.tui.screens.form import FormScreen
from app.tui.screens.modals import ConfirmScreen
from app.tui.screenshots import demo_app
from tests.tui.conftest import wait_for
from tests.tui.test_fit import row_segments, row_text


async def test_tab_walks_the_fields_and_comes_back_round_without_an_invisible_stop():
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("1", "e")
        await wait_for(pilot, lambda: isinstance(app.screen, FormScreen), what="the leg form")
        form = app.screen
        fields = [spec.widget_id for spec in form.specs]
        seen = []
        for _ in range(len(fields) + 1):
            seen.append(app.focused.id if app.focused is not None else None)
            await pilot.press("tab")
        assert seen == [*fields, fields[0]]


async def test_a_flag_reads_right_without_colour():
    """Textual's checkbox draws the same "X" on and off (only its colour differs): with NO_COLOR,
    or to a colour-blind eye, an unticked flag read as ticked."""
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3", "n")
        await wait_for(pilot, lambda: isinstance(app.screen, FormScreen), what="the action item form")
        flag = app.screen.query_one("#field-done")
        assert flag.value is False
        row = row_text(app, flag.region.y)
        assert "▐ ▌ no" in row and "X" not in row, row
        flag.focus()
        await pilot.press("space")
        await pilot.pause()
        row = row_text(app, flag.region.y)
        assert flag.value is True and "▐✓▌ yes" in row, row


async def test_enter_on_a_flag_saves_the_form_as_the_footer_says_and_space_ticks_it():
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3", "n")
        await wait_for(pilot, lambda: isinstance(app.screen, FormScreen), what="the action item form")
        form = app.screen
        await pilot.press(*"Buy sunscreen")
        flag = form.query_one("#field-done")
        flag.focus()
        await pilot.press("space")
        assert flag.value is True
        await pilot.press("enter")
        # The fixed demo data has no service: the attempt to save is what shows that Enter saved.
        await wait_for(
            pilot,
            lambda: any("no trip service" in n.message for n in app._notifications),
            what="the save to be tried",
            state=lambda: (type(app.screen).__name__, flag.value),
        )
        assert flag.value is True  # and did not untick the flag


async def test_esc_asks_before_dropping_what_was_typed_and_closes_at_once_when_nothing_changed():
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("1", "e")
        await wait_for(pilot, lambda: isinstance(app.screen, FormScreen), what="the leg form")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, (FormScreen, ConfirmScreen)), what="closed")

        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, FormScreen), what="the leg form")
        form = app.screen
        await pilot.press("end", *" (old town)")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        assert "1 changed field" in row_text(app, app.screen.query_one(".dialog").region.y + 2)
        await pilot.press("escape")  # Esc again keeps the work: the safe answer
        await wait_for(pilot, lambda: app.screen is form, what="back in the form")
        assert form.query_one("#field-title", Input).value == "Lisbon (old town)"
        await pilot.press("escape", "y")
        await wait_for(pilot, lambda: not isinstance(app.screen, (FormScreen, ConfirmScreen)), what="dropped")


async def test_a_hint_is_told_apart_from_a_value_by_its_words_and_its_style_not_only_colour():
    """The pin form showed 38.7223 / -9.1393 and a new leg Europe/Lisbon in empty fields, drawn
    like the real values beside them; saving then said "required" next to the visible number."""
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2", "n")
        await wait_for(pilot, lambda: isinstance(app.screen, FormScreen), what="the pin form")
        form = app.screen
        for path in ("lat", "lng"):
            field = form.query_one(f"#field-{path}", Input)
            assert field.value == ""
            segments = [segment for segment in row_segments(app, field.region.y) if segment.text.strip()]
            hint = next(segment for segment in segments if "e.g." in segment.text)
            assert hint.style is not None and hint.style.italic, segments
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, FormScreen), what="closed")
        await pilot.press("1", "n")
        await wait_for(pilot, lambda: isinstance(app.screen, FormScreen), what="the leg form")
        order = app.screen.query_one("#field-order", Input)
        assert order.value == "5"  # a real default is a value, drawn upright
        segments = [segment for segment in row_segments(app, order.region.y) if "5" in segment.text]
        assert segments and not any(
            segment.style is not None and segment.style.italic for segment in segments
        )


async def test_a_leg_the_service_refuses_keeps_the_form_open_and_says_the_end_is_before_the_start(
    server, tui, alice
):
    from tests.conftest import new_trip
    from tests.tui.test_editing import form_opened, open_trip, replace, rows

    trip = await new_trip(alice)
    app, _ = tui(alice.key, trip_id=trip["_id"])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_trip(pilot, app)
        form = await form_opened(pilot, "1", "n")
        await pilot.press(*"Porto")
        await replace(pilot, "destination", "Porto")
        await replace(pilot, "startDate", "2026-07-20")
        await replace(pilot, "endDate", "2026-07-16")
        await replace(pilot, "timezone", "Europe/Lisbon")
        await pilot.press("enter")
        await wait_for(pilot, lambda: form.errors, what="the refusal")
        assert app.screen is form and form.errors == {"endDate": "before the start date"}
        assert "↑ before the start date" in str(form.query_one("#field-endDate-error").render())
        assert form.query_one("#field-title", Input).value == "Porto"
        assert await rows(alice, trip["_id"], "legs") == []
        # The refused field has the keyboard with its text selected: typing replaces it.
        await pilot.press(*"2026-07-22", "enter")
        await wait_for(pilot, lambda: app.screen is not form, what="saved")
        assert [leg["endDate"] for leg in await rows(alice, trip["_id"], "legs")] == ["2026-07-22"]


async def test_a_field_holding_an_invisible_control_names_it_under_the_input(server, tui, alice):
    """An input draws its text raw: a right-to-left override in a title would sit there unseen."""
    from tests.conftest import new_trip
    from tests.tui.test_editing import form_opened, open_trip

    trip = await new_trip(alice)
    leg = {
        "title": "Ria\u202evine",
        "destination": "Porto",
        "startDate": "2026-07-15",
        "endDate": "2026-07-18",
        "timezone": "Europe/Lisbon",
        "order": 1,
    }
    assert (await alice.http.post(f"/trips/{trip['_id']}/legs", json=leg)).status_code == 201
    app, _ = tui(alice.key, trip_id=trip["_id"])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_trip(pilot, app)
        form = await form_opened(pilot, "1", "e")
        note = form.query_one("#field-title-hidden")
        await pilot.pause()
        assert note.display and "Ria⟨RLO⟩vine" in str(note.render())
        assert not form.query_one("#field-destination-hidden").display
        await pilot.press("end", "backspace", "backspace", "backspace", "backspace", "backspace")  # "Ria"
        await wait_for(pilot, lambda: not note.display, what="the note gone with the character")


async def test_down_at_the_last_row_of_a_pane_stays_there_and_up_at_the_first_too():
    """Holding Down ran off the end back to the first row (then `e` edited the wrong leg)."""
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        for pane in ("1", "2", "3", "4"):
            await pilot.press(pane, "end")
            rows = app.focused
            last = rows.highlighted
            await pilot.press("down", "down")
            assert rows.highlighted == last, (pane, rows.highlighted, last)
            await pilot.press("home")
            first = rows.highlighted
            await pilot.press("up")
            assert rows.highlighted == first, (pane, rows.highlighted, first)


async def test_a_refusal_that_explains_itself_is_shown_beside_the_marked_field(alice, trip):
    """A time in the spring-forward gap: the service says why; the form said only "not valid here"."""
    refused = await alice.http.post(
        f"/trips/{trip['_id']}/commitments",
        json={
            "title": "Late dinner",
            "startDate": "2027-03-14",
            "category": "dinner",
            "startTime": "02:30",
            "endTime": "03:30",
            "timezone": "America/New_York",
        },
    )
    assert refused.status_code == 400
    error = refused.json()["error"]
    app = demo_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("4", "n")
        await wait_for(pilot, lambda: isinstance(app.screen, FormScreen), what="the commitment form")
        app.screen.show_errors(error["details"], error["message"])
        await pilot.pause()
        shown = str(app.screen.query_one("#form-error").render())
        assert "02:30" in shown and "America/New_York" in shown, (error["message"], shown)
        assert app.screen.errors  # the field is marked too
