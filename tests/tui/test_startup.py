"""What makes opening a trip fast: the collector paused during start-up and resumed after it,
panes that wait undrawn for the first answer, lists that keep their drawn rows, one-line
widgets that repaint only for new text."""

from __future__ import annotations

import gc

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from app.tui import startup
from app.tui.widgets.pane import KeptRowsOptionList, OneLine, RowList
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
    assert not gc.isenabled()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, gc.isenabled, what="the collector back on")
        await wait_for(pilot, lambda: app.screen.data is not None, what="the trip")


async def test_panes_wait_undrawn_for_the_first_answer_then_show_focused(tui, alice):
    trip = await new_trip(alice)
    app, transport = tui(alice.key, trip_id=trip["_id"])
    transport.offline = True
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.screen.query("#waiting"), what="the trip screen")
        panes = app.screen.query_one("#panes")
        assert not panes.visible
        assert "╭" not in app.export_screenshot()  # no pane border drawn
        waiting = lambda: str(app.screen.query_one("#waiting").render())  # noqa: E731
        await wait_for(
            pilot, lambda: "Cannot reach" in waiting(), what="what is wrong, where the trip will be"
        )
        transport.offline = False
        await wait_for(pilot, lambda: app.screen.data is not None, what="the trip")
        await pilot.pause()
        assert panes.visible and not app.screen.query("#waiting")
        assert "╭" in app.export_screenshot()
        assert isinstance(app.focused, RowList) and app.focused.id == "leg-list"


class Drawn:
    """Counts the rows a list draws (its render cache missing), by row id."""

    def __init__(self, base: type[OptionList]) -> None:
        counter = self

        class Counted(base):  # type: ignore[misc, valid-type]
            def _get_option_render(self, option, style):
                padding = self.get_component_styles("option-list--option").padding
                if self._option_render_cache.get((option, style, padding)) is None:
                    counter.ids.append(option.id)
                return super()._get_option_render(option, style)

        self.widget_class = Counted
        self.ids: list[str | None] = []


@pytest.mark.parametrize("base, redraws_old_rows", [(OptionList, True), (KeptRowsOptionList, False)])
async def test_adding_rows_draws_only_the_new_ones(base, redraws_old_rows):
    drawn = Drawn(base)

    class Lists(App):
        def compose(self) -> ComposeResult:
            yield drawn.widget_class(*(Option(f"row {n}", id=f"old{n}") for n in range(5)))

    app = Lists()
    async with app.run_test(size=(40, 20)) as pilot:
        await pilot.pause()
        assert set(drawn.ids) == {f"old{n}" for n in range(5)}
        drawn.ids.clear()
        app.query_one(base).add_options(
            [Option(f"new {n}", id=f"new{n}") for n in range(5)]
        )  # a Resize follows
        await pilot.pause()
        await pilot.pause()
        assert {f"new{n}" for n in range(5)} <= set(drawn.ids)
        assert any(row.startswith("old") for row in drawn.ids) is redraws_old_rows
        drawn.ids.clear()
        await pilot.resize_terminal(30, 20)  # a new width: every row is drawn again
        await pilot.pause()
        assert {f"old{n}" for n in range(5)} <= set(drawn.ids)


async def test_a_one_line_repaints_only_for_new_text_and_never_lays_out():
    refreshes: list[bool] = []

    class Counted(OneLine):
        def refresh(self, *args, layout: bool = False, **kwargs):
            refreshes.append(layout)
            return super().refresh(*args, layout=layout, **kwargs)

    class Lines(App):
        def compose(self) -> ComposeResult:
            yield Counted()

    app = Lines()
    async with app.run_test(size=(40, 5)) as pilot:
        line = app.query_one(Counted)
        refreshes.clear()
        line.update(Text("tabs", style="bold"))
        line.update(Text("tabs", style="bold"))  # the same again: nothing to do
        assert refreshes == [False]
        line.update(Text("tabs", style="italic"))  # same words, another look: shown
        line.update("tabs")
        assert refreshes == [False, False, False]
        await pilot.pause()
        assert "tabs" in str(line.render())
