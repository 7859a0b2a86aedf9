"""How the trip screen looks: every pane at 80x24 and the whole screen at 160x48, from the fixed
demo data with a fixed "now" (so the snapshots are the same every day, on every machine)."""

import pytest

from app.tui.screenshots import demo_app


@pytest.mark.parametrize(
    "keys",
    [["1"], ["2", "down", "down", "down", "down"], ["3"], ["4"], ["5"]],
    ids=["legs", "map", "checklist", "agenda", "chat"],
)
def test_each_pane_at_80x24(snap_compare, keys):
    assert snap_compare(demo_app(), terminal_size=(80, 24), press=keys)


def test_trip_screen_at_160x48(snap_compare):
    assert snap_compare(demo_app(), terminal_size=(160, 48), press=["5"])


def test_trip_screen_at_120x36_shows_the_chosen_pane_beside_the_chat(snap_compare):
    assert snap_compare(demo_app(), terminal_size=(120, 36), press=["4"])


def test_help_screen(snap_compare):
    assert snap_compare(demo_app(), terminal_size=(80, 24), press=["question_mark"])


@pytest.mark.parametrize(
    "keys",
    [["1", "e"], ["2", "n"], ["3", "e"], ["4", "e"], ["E"], ["5", "escape", "C"]],
    ids=["leg-edit", "pin-new", "action-item-edit", "commitment-edit", "trip-edit", "channel-new"],
)
def test_each_item_form_at_80x24(snap_compare, keys):
    assert snap_compare(demo_app(), terminal_size=(80, 24), press=keys)


@pytest.mark.parametrize(
    "keys",
    [["m"], ["m", "a"], ["m", "down", "r"]],
    ids=["members", "member-add", "member-role"],
)
def test_the_members_screen_and_its_forms(snap_compare, keys):
    assert snap_compare(demo_app(), terminal_size=(80, 24), press=keys)


def test_a_form_with_validation_errors(snap_compare):
    async def reject(pilot):
        await pilot.press("1", "e")
        # The details as the API words them (tests/tui/test_editing.py gets them from the server).
        pilot.app.screen.show_errors(
            [{"path": "startDate", "reason": "invalid"}, {"path": "timezone", "reason": "invalid"}],
            "Invalid fields: startDate, timezone",
        )
        await pilot.pause()

    assert snap_compare(demo_app(), terminal_size=(80, 24), run_before=reject)


def test_the_conflict_dialog(snap_compare):
    async def conflict(pilot):
        from app.tui.screens.conflict import ItemConflictScreen

        pilot.app.push_screen(
            ItemConflictScreen(
                "Edit map pin: Belém",
                [("Name", "Belem", "Bob's [b]Belem[/b]"), ("Notes", "—", "closed Mondays")],
            )
        )
        await pilot.pause()

    assert snap_compare(demo_app(), terminal_size=(80, 24), run_before=conflict)


def _japan_app():
    from app.tui.app import TripdeckApp
    from app.tui.clock import Clock
    from tests.tui.test_legs_timeline import japan_data

    # Two days into the trip, seen from London: Zurich is an hour ahead, Tokyo nine.
    return TripdeckApp(
        initial=japan_data(), clock=Clock.frozen("2027-01-12T09:00", "Europe/London"), cursor_blink=False
    )


@pytest.mark.parametrize(
    "make, keys",
    [
        (_japan_app, ["1", "down"]),
        (demo_app, ["1"]),
        (_japan_app, ["4"]),
        (demo_app, ["4", "down", "down", "down", "down", "down"]),  # past the pickup: it and its flight
    ],
    ids=["flight-line", "night-without-stay", "impossible-transfer-japan", "impossible-transfer-demo"],
)
def test_time_truth_at_80x24(snap_compare, make, keys):
    """Issue 17: a flight on its airports' clocks and the viewer's, the night without a stay in
    its gap between the legs, and a commitment set before its flight lands, in the legs pane
    and in the agenda."""
    assert snap_compare(make(), terminal_size=(80, 24), press=keys)
