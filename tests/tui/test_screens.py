"""First run, the trip picker's create and archive, the help screen, the command palette and
the keymap, against the in-process server."""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import stat

from textual.binding import Binding
from textual.command import CommandPalette

from app.client import TripClient
from app.tui import config
from app.tui.app import TripdeckApp
from app.tui.commands import TripdeckCommands, bindings_of
from app.tui.screens.first_run import FirstRunScreen
from app.tui.screens.modals import HelpScreen, NewTripScreen
from app.tui.screens.picker import TripPickerScreen
from app.tui.screens.trip import TripScreen
from app.tui.screenshots import demo_app
from tests.conftest import BASE, new_trip
from tests.tui.conftest import SwitchableTransport, wait_for


async def test_first_run_checks_the_key_and_saves_it_for_the_owner_only(server, alice, tmp_path):
    path = tmp_path / "config" / "config.json"
    transport = SwitchableTransport(server.app)

    def factory(url: str, key: str) -> TripClient:
        return TripClient(api_key=key, base_url=url, transport=transport, max_retries=0)

    app = TripdeckApp(client_factory=factory, config_path=path, cursor_blink=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, FirstRunScreen), what="first run")
        app.screen.query_one("#setup-url").value = BASE
        app.screen.query_one("#setup-key").value = "osk_wrong"
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: "did not work" in str(app.screen.query_one("#setup-error").render()),
            what="the error",
        )
        assert not path.exists()
        app.screen.query_one("#setup-key").value = alice.key
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TripPickerScreen), what="the picker")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert (config.load(path).url, config.load(path).key) == (BASE, alice.key)


async def test_first_run_says_what_is_wrong_with_a_url_without_http(server, alice, tmp_path):
    transport = SwitchableTransport(server.app)

    def factory(url: str, key: str) -> TripClient:
        return TripClient(api_key=key, base_url=url, transport=transport, max_retries=0)

    app = TripdeckApp(client_factory=factory, config_path=tmp_path / "config.json", cursor_blink=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, FirstRunScreen), what="first run")
        app.screen.query_one("#setup-url").value = "localhost:8000"
        app.screen.query_one("#setup-key").value = alice.key
        await pilot.press("enter")
        error = lambda: str(app.screen.query_one("#setup-error").render())  # noqa: E731
        await wait_for(pilot, lambda: "http://" in error(), what="what is wrong with the URL")
        assert "not a service URL" in error() and "Checking" not in error()
        assert app.screen.query_one("#setup-url").has_focus
        app.screen.query_one("#setup-url").value = BASE
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TripPickerScreen), what="the picker")


async def test_picker_creates_opens_and_archives(server, tui, alice):
    await new_trip(alice, title="Old trip")
    app, _ = tui(alice.key)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(
            pilot, lambda: isinstance(app.screen, TripPickerScreen) and app.screen.trips, what="trips"
        )
        await pilot.press("n")
        assert isinstance(app.screen, NewTripScreen)
        await pilot.press(*"Road trip", "tab", *"2026-09-01", "tab", *"2026-09-09", "enter")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, TripPickerScreen) and len(app.screen.trips) == 2,
            what="the new trip",
        )
        titles = {trip.title: trip for trip in app.screen.trips}
        assert titles["Road trip"].start_date == "2026-09-01"
        # Archive the highlighted trip (the new one) after confirming.
        highlighted = titles["Road trip"]
        await wait_for(
            pilot,
            lambda: app.screen.query_one("#trip-list").highlighted_option.id == highlighted.id,
            what="the new trip highlighted",
        )
        await pilot.press("a", "y")
        await wait_for(
            pilot,
            lambda: any(t.id == highlighted.id and t.status == "completed" for t in app.screen.trips),
            what="archived",
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TripScreen), what="trip screen")


def test_every_binding_has_an_id_and_is_in_help_and_palette():
    """Walks the trip screen: every binding of ours has an id, and the palette offers each."""
    import asyncio

    async def run():
        app = demo_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            rows = list(bindings_of(app.screen))
            ids = {binding.id for _, binding, _ in rows}
            assert {
                "trip.pane_legs",
                "trip.pane_chat",
                "trip.next_pane",
                "app.help",
                "chat.reply",
                "chat.history_previous",
                "chat.leave_input",
                "chat.next_channel",
            } <= ids
            from app.tui import screens, widgets  # every Binding in our code carries an id

            for package in (screens, widgets):
                for info in pkgutil.iter_modules(package.__path__):
                    module = importlib.import_module(f"{package.__name__}.{info.name}")
                    for _, cls in inspect.getmembers(module, inspect.isclass):
                        if not cls.__module__.startswith("app."):
                            continue
                        for binding in cls.__dict__.get("BINDINGS", []):
                            assert isinstance(binding, Binding) and binding.id, (cls, binding)
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            help_text = " ".join(str(row) for _, rows in app.screen.sections for row in rows)
            assert "trip.pane_chat" in help_text and "chat.reply" in help_text
            await pilot.press("escape")
            provider = TripdeckCommands(app.screen)
            names = [description for description, *_ in provider._commands()]
            assert {
                "Legs",
                "Map",
                "Checklist",
                "Agenda",
                "Chat",
                "Reply",
                "Next channel",
                "Help",
                "Quit",
            } <= set(names)
            await pilot.press("ctrl+p")
            assert isinstance(app.screen, CommandPalette)
            await pilot.press(*"agenda", "enter")
            await pilot.pause()
            assert app.screen.active == 4

    asyncio.run(run())


def test_keymap_from_the_config_file_remaps_a_binding():
    import asyncio

    from app.demo import frozen

    async def run():
        app = TripdeckApp(
            initial=frozen.trip_data(),
            clock=frozen.clock(),
            cursor_blink=False,
            keymap={"trip.pane_chat": "c"},
        )
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("c")
            assert app.screen.active == 5

    asyncio.run(run())
