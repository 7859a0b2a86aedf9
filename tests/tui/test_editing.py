"""Keyboard-only editing against the real server in-process: create, edit and delete one of each
kind of item, field errors from the API's details, and an edit that someone changed first."""

from __future__ import annotations

from textual.widgets import Input, Select
from textual.widgets._select import SelectOverlay

from app.tui.screens.conflict import ItemConflictScreen
from app.tui.screens.form import FormScreen
from app.tui.screens.modals import ConfirmScreen
from app.tui.screens.trip import TripScreen
from app.tui.widgets.agenda import Agenda
from app.tui.widgets.checklist import Checklist
from app.tui.widgets.legs_timeline import LegsTimeline
from app.tui.widgets.map_pins import MapPins
from tests.conftest import new_trip
from tests.tui.conftest import wait_for


async def open_trip(pilot, app) -> TripScreen:
    await wait_for(
        pilot, lambda: isinstance(app.screen, TripScreen) and app.screen.data is not None, what="trip"
    )
    return app.screen


async def replace(pilot, field_id: str, text: str) -> None:
    """Focus a form field by its wire path, clear it and type `text`."""
    app = pilot.app
    app.screen.query_one(f"#field-{field_id}", Input).focus()
    await pilot.press("end", "ctrl+u", *text)


async def pick(pilot, field_id: str, value: str) -> None:
    """Choose `value` in a form's choice list by keys alone: tab to it, enter opens the list,
    down walks it, enter takes the highlighted choice."""
    app = pilot.app
    select = app.screen.query_one(f"#field-{field_id}", Select)
    for _ in range(40):
        if app.focused is select:
            break
        await pilot.press("tab")
    assert app.focused is select, f"tab never reached {field_id}"
    await pilot.press("enter")
    overlay = select.query_one(SelectOverlay)
    await wait_for(pilot, lambda: app.focused is overlay, what="the open list")
    for _ in range(overlay.option_count + 1):
        option = overlay.highlighted_option
        if (
            option is not None
            and overlay.highlighted is not None
            and select._options[overlay.highlighted][1] == value
        ):
            break
        await pilot.press("down")
    await pilot.press("enter")
    await wait_for(pilot, lambda: select.value == value, what=f"{field_id} = {value}")


async def form_opened(pilot, *keys: str) -> FormScreen:
    """Press `keys` (the last one opens a form) and wait until its first field has the keyboard."""
    await pilot.press(*keys)
    await wait_for(
        pilot,
        lambda: (
            isinstance(pilot.app.screen, FormScreen)
            and pilot.app.focused is not None
            and pilot.app.focused.screen is pilot.app.screen
        ),
        what="the form",
    )
    return pilot.app.screen


async def form_closed(pilot) -> None:
    await wait_for(pilot, lambda: not isinstance(pilot.app.screen, FormScreen), what="the form to close")


async def rows(alice, trip_id: str, path: str) -> list[dict]:
    return (await alice.http.get(f"/trips/{trip_id}/{path}")).json()["items"]


async def test_action_item_create_edit_tick_and_delete_by_keys(server, tui, alice):
    trip = await new_trip(alice)
    app, _ = tui(alice.key, trip_id=trip["_id"])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_trip(pilot, app)
        await form_opened(pilot, "3", "n")
        await pilot.press(*"Buy [b]adapters[/b]", "enter")
        await form_closed(pilot)
        checklist = screen.query_one(Checklist)
        await wait_for(
            pilot, lambda: [i.text for i in checklist.items] == ["Buy [b]adapters[/b]"], what="new item"
        )
        (item,) = await rows(alice, trip["_id"], "action-items")
        assert item["urgency"] == "before_trip" and item["owner"] is None if "owner" in item else True

        await form_opened(pilot, "e")
        await replace(pilot, "text", "Buy two adapters")
        await pilot.press("enter")
        await form_closed(pilot)
        await wait_for(
            pilot, lambda: [i.text for i in checklist.items] == ["Buy two adapters"], what="edited item"
        )

        await pilot.press("space")
        await wait_for(pilot, lambda: checklist.items and checklist.items[0].done, what="ticked")
        assert (await rows(alice, trip["_id"], "action-items"))[0]["done"] is True

        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_for(pilot, lambda: checklist.items == [], what="deleted")
        assert await rows(alice, trip["_id"], "action-items") == []


async def test_leg_pin_and_commitment_by_keys(server, tui, alice):
    trip = await new_trip(alice)
    app, _ = tui(alice.key, trip_id=trip["_id"])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_trip(pilot, app)
        # A leg, with a stay and a flight.
        await form_opened(pilot, "1", "n")
        await pilot.press(*"Lisbon")
        await replace(pilot, "destination", "Lisbon, Portugal")
        await replace(pilot, "timezone", "Europe/Lisbon")
        await replace(pilot, "accommodation-name", "Casa [Azul]")
        await replace(pilot, "flights-0-flightNumber", "TP1351")
        await pilot.press("enter")
        await form_closed(pilot)
        await wait_for(
            pilot,
            lambda: [leg.title for leg in screen.query_one(LegsTimeline).legs] == ["Lisbon"],
            what="new leg",
        )
        (leg,) = await rows(alice, trip["_id"], "legs")
        assert leg["accommodation"]["name"] == "Casa [Azul]"
        assert leg["flights"][0]["flightNumber"] == "TP1351"
        await form_opened(pilot, "e")
        await replace(pilot, "accommodation-name", "")
        await pilot.press("enter")
        await form_closed(pilot)
        await wait_for(
            pilot, lambda: screen.query_one(LegsTimeline).legs[0].accommodation is None, what="stay gone"
        )
        assert (await rows(alice, trip["_id"], "legs"))[0]["flights"][0]["flightNumber"] == "TP1351"

        # A map pin.
        await form_opened(pilot, "2", "n")
        await pilot.press(*"Time Out Market")
        await replace(pilot, "lat", "38.7069")
        await replace(pilot, "lng", "-9.1459")
        await pilot.press("enter")
        await form_closed(pilot)
        await wait_for(
            pilot, lambda: [p.name for p in screen.query_one(MapPins).pins] == ["Time Out Market"], what="pin"
        )
        assert (await rows(alice, trip["_id"], "map-pins"))[0]["lat"] == 38.7069

        # A commitment linked to the leg, picked from the list.
        await form_opened(pilot, "4", "n")
        await pilot.press(*"Fado night")
        await replace(pilot, "startTime", "21:00")
        await pick(pilot, "legId", leg["_id"])
        await pilot.press("ctrl+s")  # on a choice list, enter opens the list: ctrl+s saves from anywhere
        await form_closed(pilot)
        await wait_for(
            pilot,
            lambda: [c.title for c in screen.query_one(Agenda).commitments] == ["Fado night"],
            what="commitment",
        )
        (commitment,) = await rows(alice, trip["_id"], "commitments")
        assert commitment["legId"] == leg["_id"] and commitment["startTime"] == "21:00"

        # Delete each, confirming.
        for pane, path in [("4", "commitments"), ("2", "map-pins"), ("1", "legs")]:
            await pilot.press(pane, "d", "y")
            await wait_for(pilot, lambda: isinstance(app.screen, TripScreen), what="confirm closed")
            for _ in range(100):
                if not await rows(alice, trip["_id"], path):
                    break
                await pilot.pause(0.05)
            assert await rows(alice, trip["_id"], path) == []


async def test_a_bad_field_is_marked_and_the_form_keeps_the_input(server, tui, alice):
    trip = await new_trip(alice)
    app, _ = tui(alice.key, trip_id=trip["_id"])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_trip(pilot, app)
        await form_opened(pilot, "1", "n")
        await pilot.press(*"Porto")
        await replace(pilot, "startDate", "2026-02-30")
        await replace(pilot, "timezone", "Mars/Olympus")
        await pilot.press("enter")
        form = app.screen
        await wait_for(pilot, lambda: form.errors, what="validation errors")
        assert isinstance(app.screen, FormScreen)
        assert set(form.errors) == {"startDate", "timezone", "destination"}
        assert form.query_one("#field-startDate").has_class("-invalid")
        assert not form.query_one("#field-title").has_class("-invalid")
        assert form.query_one("#field-title", Input).value == "Porto"
        assert form.query_one("#field-startDate", Input).value == "2026-02-30"
        assert await rows(alice, trip["_id"], "legs") == []
        await replace(pilot, "startDate", "2026-07-16")
        await replace(pilot, "timezone", "Europe/Lisbon")
        await replace(pilot, "destination", "Porto")
        await pilot.press("enter")
        await form_closed(pilot)
        assert [leg["title"] for leg in await rows(alice, trip["_id"], "legs")] == ["Porto"]


async def test_an_edit_someone_else_made_first_is_shown_not_overwritten(server, tui, alice, bob):
    trip = await new_trip(alice)
    await alice.http.post(f"/trips/{trip['_id']}/members", json={"email": bob.email, "role": "editor"})
    pin = (
        await alice.http.post(
            f"/trips/{trip['_id']}/map-pins", json={"name": "Belem", "lat": 38.69, "lng": -9.21}
        )
    ).json()
    app, _ = tui(alice.key, trip_id=trip["_id"])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_trip(pilot, app)
        await form_opened(pilot, "2", "e")
        await replace(pilot, "name", "Belém tower")
        await bob.http.patch(
            f"/trips/{trip['_id']}/map-pins/{pin['_id']}", json={"name": "Bob's Belem", "notes": "x"}
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ItemConflictScreen), what="the conflict dialog")
        assert ("Name", "Belem", "Bob's Belem") in app.screen.changes
        await pilot.press("d")  # drop mine: Bob's stays
        await form_closed(pilot)
        stored = (await alice.http.get(f"/trips/{trip['_id']}/map-pins/{pin['_id']}")).json()
        assert stored["name"] == "Bob's Belem"

        await form_opened(pilot, "e")
        await replace(pilot, "name", "Belém tower")
        await bob.http.patch(f"/trips/{trip['_id']}/map-pins/{pin['_id']}", json={"name": "Bob again"})
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ItemConflictScreen), what="the conflict dialog")
        await pilot.press("o")  # overwrite: mine wins, on every field of the form
        await form_closed(pilot)
        stored = (await alice.http.get(f"/trips/{trip['_id']}/map-pins/{pin['_id']}")).json()
        assert stored["name"] == "Belém tower"


async def make_legs(alice, trip_id: str, titles: list[str]) -> list[str]:
    ids = []
    for order, title in enumerate(titles):
        leg = (
            await alice.http.post(
                f"/trips/{trip_id}/legs",
                json={
                    "order": order,
                    "title": title,
                    "destination": title,
                    "startDate": "2026-07-15",
                    "endDate": "2026-07-16",
                    "timezone": "Europe/London",
                },
            )
        ).json()
        ids.append(leg["_id"])
    return ids


async def leg_titles(alice, trip_id: str) -> list[str]:
    return [leg["title"] for leg in await rows(alice, trip_id, "legs")]


async def test_move_legs_with_shift_k_and_shift_j(server, tui, alice):
    trip = await new_trip(alice)
    await make_legs(alice, trip["_id"], ["A", "B", "C"])
    app, _ = tui(alice.key, trip_id=trip["_id"])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_trip(pilot, app)
        await pilot.press("1", "down", "K")  # B up
        await wait_for(
            pilot,
            lambda: [leg.title for leg in screen.query_one(LegsTimeline).legs] == ["B", "A", "C"],
            what="B first",
        )
        assert await leg_titles(alice, trip["_id"]) == ["B", "A", "C"]
        await pilot.press("J", "J")  # B to the end, straight after each other: no stale revision
        await wait_for(
            pilot,
            lambda: [leg.title for leg in screen.query_one(LegsTimeline).legs] == ["A", "C", "B"],
            what="B last",
        )
        await pilot.pause(0.3)
        assert await leg_titles(alice, trip["_id"]) == ["A", "C", "B"]


async def test_a_reorder_on_a_stale_revision_shows_what_changed_then_reapplies_or_drops(
    server, tui, alice, bob
):
    from app.tui.screens.conflict import StaleRevisionScreen

    trip = await new_trip(alice)
    await alice.http.post(f"/trips/{trip['_id']}/members", json={"email": bob.email, "role": "editor"})
    ids = await make_legs(alice, trip["_id"], ["A", "B", "C"])
    app, _ = tui(alice.key, trip_id=trip["_id"])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_trip(pilot, app)
        screen.workers.cancel_group(screen, "changes")  # the live feed has not delivered Bob's change yet
        await bob.http.post(
            f"/trips/{trip['_id']}/ops",
            json={
                "base_revision": trip["revision"] + 3,
                "type": "reorder",
                "payload": {"leg_ids": [ids[2], ids[0], ids[1]]},
            },
        )
        assert await leg_titles(alice, trip["_id"]) == ["C", "A", "B"]
        await pilot.press("1", "down", "down", "K")  # C up, on the list as it was: A C B
        await wait_for(
            pilot, lambda: isinstance(app.screen, StaleRevisionScreen), what="the stale revision dialog"
        )
        assert [op.operation_type for op in app.screen.diff.operations] == ["reorder"]
        await pilot.press("d")  # drop mine: Bob's order stays
        await wait_for(
            pilot,
            lambda: [leg.title for leg in screen.query_one(LegsTimeline).legs] == ["C", "A", "B"],
            what="Bob's order shown",
        )
        assert await leg_titles(alice, trip["_id"]) == ["C", "A", "B"]

        await bob.http.delete(f"/trips/{trip['_id']}/legs/{ids[1]}")  # B gone, and the screen does not know
        await pilot.press("end", "K")  # B up (B is last on screen)
        await wait_for(
            pilot, lambda: isinstance(app.screen, StaleRevisionScreen), what="the stale revision dialog"
        )
        await pilot.press("r")
        await wait_for(
            pilot,
            lambda: [leg.title for leg in screen.query_one(LegsTimeline).legs] == ["C", "A"],
            what="the fresh list",
        )
        assert await leg_titles(alice, trip["_id"]) == ["C", "A"]


async def test_edit_the_trip_title_and_dates(server, tui, alice):
    trip = await new_trip(alice)
    app, _ = tui(alice.key, trip_id=trip["_id"])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_trip(pilot, app)
        await form_opened(pilot, "E")
        await replace(pilot, "endDate", "2026-07-01")  # before the start: the API refuses
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: app.screen.errors or app.screen.query_one("#form-error").display,
            what="the refusal",
        )
        assert isinstance(app.screen, FormScreen)
        await replace(pilot, "endDate", "2026-07-30")
        await replace(pilot, "title", "Cotswolds, longer")
        await pilot.press("enter")
        await form_closed(pilot)
        assert screen.data.trip.title == "Cotswolds, longer"
    stored = (await alice.http.get(f"/trips/{trip['_id']}")).json()
    assert (stored["title"], stored["endDate"]) == ("Cotswolds, longer", "2026-07-30")


async def test_new_channel_from_the_chat_pane(server, tui, alice):

    trip = await new_trip(alice)
    app, _ = tui(alice.key, trip_id=trip["_id"])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_trip(pilot, app)
        await pilot.press("5", "escape")  # leave the input: single keys are commands again
        await form_opened(pilot, "C")
        await pilot.press("enter")  # empty: refused, the field is marked
        await wait_for(pilot, lambda: app.screen.errors, what="the refusal")
        await pilot.press(*"[b]planning[/b]", "enter")
        await form_closed(pilot)
        await wait_for(
            pilot, lambda: any(c.name == "[b]planning[/b]" for c in screen.data.channels), what="channel"
        )
    channels = (await alice.http.get(f"/trips/{trip['_id']}/channels")).json()["items"]
    assert "[b]planning[/b]" in [channel["name"] for channel in channels]


async def test_a_new_row_gets_the_cursor_when_it_arrives(server, tui, alice):
    """A new checklist item landed somewhere below the view with the cursor left where it was."""
    trip = await new_trip(alice)
    for text in ("Pack", "Book taxi", "Buy adapters"):
        await alice.http.post(f"/trips/{trip['_id']}/action-items", json={"text": text, "urgency": "now"})
    app, _ = tui(alice.key, trip_id=trip["_id"])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_trip(pilot, app)
        await pilot.press("3", "home")
        await form_opened(pilot, "n")
        await pilot.press(*"Renew passports", "enter")
        await form_closed(pilot)
        await wait_for(
            pilot,
            lambda: (
                (row := app.screen.highlighted_row("action_items")) is not None
                and row.text == "Renew passports"
            ),
            what="the cursor on the new item",
            state=lambda: getattr(app.screen.highlighted_row("action_items"), "text", None),
        )
