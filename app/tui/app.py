"""`TripdeckApp`: screens, app-wide keys, the keymap from the config file, and the one place
where a failed background task becomes a visible, non-fatal notice."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events, on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.timer import Timer
from textual.widgets import Input, TextArea
from textual.worker import Worker, WorkerState

from app.client import APIError, SharedTripClient, TripClient, TripConnectionError
from app.domain.models import Me
from app.settings import environment
from app.tui import config as config_file
from app.tui import failures, loading, sender, startup, terminal
from app.tui.clock import Clock
from app.tui.commands import TripdeckCommands, bindings_of, where
from app.tui.data import TripData
from app.tui.fixed import FixedTripClient
from app.tui.live import SHARED_INTERVAL, Backoff
from app.tui.outbox import Item, Outbox, Owner, key_fingerprint
from app.tui.screens.trip import TripScreen
from app.tui.session import Settings

if TYPE_CHECKING:
    from app.tui.screens.first_run import Connection

ClientFactory = Callable[[str, str], TripClient]


def default_client(url: str, key: str) -> TripClient:
    return TripClient(api_key=key, base_url=url)


class TripdeckApp(App):
    CSS_PATH = "tripdeck.tcss"
    TITLE = "Tripdeck"
    COMMANDS = App.COMMANDS | {TripdeckCommands}
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(
        self,
        *,
        url: str | None = None,
        key: str | None = None,
        trip_id: str | None = None,
        client: TripClient | None = None,
        client_factory: ClientFactory = default_client,
        clock: Clock | None = None,
        join_command: str | None = None,
        config_path: Path | None = None,
        initial: TripData | None = None,
        keymap: dict[str, str] | None = None,
        cursor_blink: bool = False,
        reconnect_after: float = 1.0,
        outbox_path: Path | None = None,
        export_dir: Path | None = None,
        shared: SharedTripClient | None = None,
        shared_interval: float = SHARED_INTERVAL,
        log_path: Path | None = None,
        poll_per_minute: float | None = None,
    ) -> None:
        super().__init__()
        self.client_factory = client_factory
        self.service_url = url or ""
        self.service_key = key
        self.client: TripClient | None = client
        self.trip_id = trip_id
        self.clock = clock or Clock()
        self.join_command = join_command
        self.config_path = config_path
        self.initial = initial
        self.fixed: FixedTripClient | None = None
        """`initial` as a read-only client: what the trip screen shows instead of a service's."""
        if initial is not None:
            from app.demo.activity import activity

            self.fixed = FixedTripClient(initial, activity())
        self._keymap = keymap or {}
        self._preload: asyncio.Task | None = None
        self.cursor_blink = cursor_blink
        """Whether text cursors blink: not by default, since each blink redraws the input's line
        on the terminal twice a second for as long as an input has the keyboard (~21 KB a minute
        down an SSH link; tests/benchmarks/test_terminal_bytes.py). Steady, every frame is the
        same too (tests, screenshots)."""
        self.reconnect_after = reconnect_after
        """Seconds before the first reconnect attempt; later attempts back off up to 30 s."""
        self.export_dir = export_dir or Path.cwd()
        """Where palette exports (.ics, GeoJSON) are written."""
        self.writes_files = not environment().no_local_files
        """False in a session of `trip ssh`, which sets TRIP_NO_LOCAL_FILES: the app runs on the
        server, where a file (an export, a screenshot) would be written for its other local users
        to read, not on the member's machine; so none is offered."""
        self.shared = shared
        """Set: a read-only view of one trip through its share link, no key, nothing written."""
        self.shared_interval = shared_interval
        """Seconds between two looks at a shared trip (it has no changes feed to wait on)."""
        self.log_path = log_path
        """Where failures are logged (None: the data directory's tripdeck.log)."""
        from app.tui.polling import PER_MINUTE

        self.poll_per_minute = poll_per_minute or PER_MINUTE
        """Requests a minute of an idle trip view on a service without the changes feed, at most."""
        self._send_backoffs: dict[str, Backoff] = {}
        self._send_retries: dict[str, Timer] = {}
        """Per trip, the next attempt to send its outbox after the service could not be reached."""
        self.outbox = Outbox(outbox_path)
        """Messages and writes made while offline, on disk until the service has them: only this
        user's on this service are shown and sent (see `know_user`)."""

    def session_settings(self) -> Settings:
        """What a trip screen's session talks to: the service (or the fixed data) and how often."""
        return Settings(
            self.fixed or self.client,
            shared=self.shared,
            outbox=self.outbox,
            reconnect_after=self.reconnect_after,
            poll_per_minute=self.poll_per_minute,
            shared_interval=self.shared_interval,
            take_preload=self.take_preload,
            take_answered_preload=self.take_answered_preload,
            send_outbox=self.send_trip_outbox_now,
        )

    @property
    def connected_client(self) -> TripClient:
        """The SDK client, for the screens that open once connected (all but the first-run one)."""
        if self.client is None:
            raise RuntimeError("not connected to a trip service yet")
        return self.client

    def make_client(self, url: str, key: str) -> TripClient:
        return self.client_factory(url, key)

    def know_user(self, me: Me | None = None) -> None:
        """Whose outbox items to show and send: by the key until the service has said who it is
        (`me`), then by the user (the items made with any of that user's keys)."""
        if self.client is None or self.shared is not None:
            return
        key_id = key_fingerprint(self.service_key) if self.service_key else ""
        self.outbox.sign_in(Owner(self.client.base_url, me.id if me else "", key_id))

    def on_load(self) -> None:
        """With a trip to open, start fetching it before the screens exist: the requests run
        while Textual sets up, and the trip screen picks the answer up (see `take_preload`)."""
        if self.initial is None and self.trip_id and (self.client or (self.service_url and self.service_key)):
            if self.client is None:
                self.client = self.make_client(self.service_url, self.service_key or "")
            self._preload = asyncio.create_task(
                loading.load_trip(self.client, self.trip_id, with_cursor=True)
            )

    def take_preload(self, trip_id: str) -> asyncio.Task | None:
        task, self._preload = self._preload, None
        if task is not None and trip_id != self.trip_id:
            task.cancel()
            return None
        return task

    def take_answered_preload(self, trip_id: str) -> tuple[TripData, str | None] | None:
        """The preloaded first screenful of `trip_id` if it has already arrived, else None (and
        the preload, if any, stays for `take_preload`)."""
        task = self._preload
        if task is None or trip_id != self.trip_id or not task.done() or task.cancelled() or task.exception():
            return None
        self._preload = None
        return task.result()

    def get_driver_class(self):
        """Textual's driver for this terminal, writing fewer bytes per frame (app/tui/terminal.py)."""
        return terminal.compacting(super().get_driver_class())

    @on(events.DescendantFocus)
    def _steady_cursor(self, event: events.DescendantFocus) -> None:
        """Every text input (the chat's, a form's) blinks as `cursor_blink` says."""
        if isinstance(event.widget, (Input, TextArea)):
            event.widget.cursor_blink = self.cursor_blink

    def on_mount(self) -> None:
        if startup.collector_held():
            self.set_timer(startup.HOLD_SECONDS, startup.release_collector)
        if self._keymap:
            self.set_keymap(self._keymap)
        if self.initial is not None:
            self.push_screen(TripScreen(self.initial.trip.id))
        elif self.shared is not None:
            self.push_screen(TripScreen(""))  # the trip's id comes with its first answer
        elif self.client is None and not (self.service_url and self.service_key):
            from app.tui.screens.first_run import FirstRunScreen

            self.push_screen(FirstRunScreen(self.service_url or None), self._connected)
        else:
            if self.client is None:
                self.client = self.make_client(self.service_url, self.service_key or "")
            self.know_user()
            self._start()

    def _connected(self, connection: Connection | None) -> None:
        if connection is None:
            self.exit()
            return
        saved = config_file.load(self.config_path)
        saved.url, saved.key = connection.url, connection.key
        config_file.save(saved, self.config_path)
        self.service_url, self.service_key = connection.url, connection.key
        self.client = self.make_client(connection.url, connection.key)
        self.know_user()
        self.notify("Saved the URL and key to your config file (readable by you only).", timeout=4)
        self._start()

    def _start(self) -> None:
        self.send_outbox()
        if self.trip_id:
            self.open_trip(self.trip_id)
        else:
            from app.tui.screens.picker import TripPickerScreen

            self.push_screen(TripPickerScreen())

    @work(
        group="app-outbox",
        exclusive=True,
        exit_on_error=False,
        description="Sending what waits in the outbox",
    )
    async def send_outbox(self) -> None:
        """At start-up, whatever screen is open: ask whose the key is, then send everything of
        that user's that waits, of every trip. An unreachable service is tried again with
        backoff; a refused key stops it (the screen says so)."""
        assert self.client is not None
        if not self.outbox.items and not self.outbox.unclaimed:
            return  # nothing waits that may be ours: no request at start-up
        backoff = Backoff(initial=self.reconnect_after)
        while True:
            try:
                self.know_user(await self.client.me())
                if await sender.send_waiting(
                    self.client,
                    self.outbox,
                    sent=self._outbox_sent,
                    failed=lambda item, reason: self._outbox_sent(item, None, sent=False),
                ):
                    return
            except TripConnectionError:
                pass
            except APIError:
                return
            await asyncio.sleep(backoff.next_delay())

    def _outbox_sent(self, item: Item, answer: object, *, sent: bool = True) -> None:
        """Tell every screen that shows the outbox (the trip screen of that trip, the picker)."""
        for screen in self.screen_stack:
            changed = getattr(screen, "outbox_changed", None)
            if changed is not None:
                changed(item, answer if sent else None, sent)

    def send_trip_outbox(self, trip_id: str) -> None:
        """Send what waits of one trip now, messages and writes in one queue, oldest first (see
        app/tui/sender.py): the open trip screen's messages and writes, once the service answers."""
        self._send_trip(trip_id)

    @work(group="send", exit_on_error=False, description="Sending what waits in the outbox")
    async def _send_trip(self, trip_id: str) -> None:
        await self.send_trip_outbox_now(trip_id)

    async def send_trip_outbox_now(self, trip_id: str) -> bool:
        """Send what waits of one trip, as `send_trip_outbox` does, and return once it is sent:
        True when the service took or refused every item, False when it could not be reached
        (then it is tried again later, on its own). `u` waits on it: the change to undo may be
        the one still waiting."""
        assert self.client is not None
        retry = self._send_retries.pop(trip_id, None)
        if retry is not None:
            retry.stop()
        backoff = self._send_backoffs.setdefault(trip_id, Backoff(initial=self.reconnect_after))
        came_back = False
        delay = 0.0

        def sent(item: Item, answer: object) -> None:
            nonlocal came_back
            came_back = came_back or backoff.failures > 0
            backoff.reset()
            self._outbox_sent(item, answer)

        reached = await sender.send_waiting(
            self.client,
            self.outbox,
            trip_id=trip_id,
            sent=sent,
            failed=lambda item, reason: self._outbox_sent(item, None, sent=False),
        )
        if not reached:
            # Try again later on its own, while the trip is open: the live feed may never notice
            # an outage that happened between two of its polls, so nothing else would trigger a send.
            delay = backoff.next_delay()
            if (earlier := self._send_retries.pop(trip_id, None)) is not None:
                earlier.stop()  # another send of this trip (`u`'s, a key's) failed meanwhile too
            self._send_retries[trip_id] = self.set_timer(
                delay, lambda: self._retry_send(trip_id), name="outbox retry"
            )
        for screen in self.screen_stack:
            told = getattr(screen, "outbox_reached", None)
            if told is not None and (came_back or not reached):
                told(trip_id, reached, backoff.failures, delay)
        return reached

    def _retry_send(self, trip_id: str) -> None:
        self._send_retries.pop(trip_id, None)
        if any(isinstance(screen, TripScreen) and screen.trip_id == trip_id for screen in self.screen_stack):
            self._send_trip(trip_id)

    def open_trip(self, trip_id: str) -> None:
        self.trip_id = trip_id
        self.push_screen(TripScreen(trip_id))

    def action_open_trips(self) -> None:
        # Imported here: a `trip ui --trip ID` start never needs the picker (start-up time).
        from app.tui.screens.picker import TripPickerScreen

        if isinstance(self.screen, TripScreen) and self.initial is None:
            if any(isinstance(screen, TripPickerScreen) for screen in self.screen_stack):
                self.pop_screen()
            else:
                self.switch_screen(TripPickerScreen())

    def action_help(self) -> None:
        from app.tui.screens.modals import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        sections: dict[str, list[tuple[str, str, str]]] = {}
        for node, binding, keys in bindings_of(self.screen):
            area = where(node)
            # The footer shows the short description; help the longer tooltip where one is given.
            sections.setdefault(area, []).append(
                (keys, binding.tooltip or binding.description, binding.id or "")
            )
        sections.setdefault("Everywhere", []).append(("ctrl+p", "Command palette: every action by name", ""))
        from app.tui.service_features import not_offered

        if missing := not_offered(self.client if self.shared is None else None):
            sections["Not on this service"] = [(keys, why, "") for keys, why in missing]
        if not self.writes_files:
            sections["Not over SSH"] = [
                (
                    "ctrl+e, ctrl+g, Screenshot",
                    "Exports and screenshots: the file would be written on the server, not your machine",
                    "",
                )
            ]
        self.push_screen(HelpScreen(list(sections.items())))

    def get_system_commands(self, screen):
        for command in super().get_system_commands(screen):
            # Quit is our own binding's command, and Textual's keys panel is what `?` (Help) shows.
            if command.title not in ("Quit", "Keys") and (self.writes_files or command.title != "Screenshot"):
                yield command
        from app.tui.service_features import offered

        if self.client is not None and self.shared is None and offered(self.client, "ssh_keys"):
            yield SystemCommand(
                "SSH keys", "The keys that sign you in to trip ssh: add or delete one", self.action_ssh_keys
            )

    def action_ssh_keys(self) -> None:
        from app.tui.screens.ssh_keys import SshKeysScreen

        if not isinstance(self.screen, SshKeysScreen):
            self.push_screen(SshKeysScreen())

    def action_join(self) -> None:
        from app.tui.screens.modals import JoinScreen

        if self.join_command:
            self.push_screen(JoinScreen(self.join_command))

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        """The app's own workers; the screens hand theirs over (app/tui/screens/base.py)."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.report_failure(event.worker, self)

    def report_failure(self, worker: Worker, where: object) -> None:
        """The one handler for background failures: a notice that says what failed and what to
        do, a line in the log file, and the app carries on."""
        error = worker.error
        if error is None:
            return
        what = worker.description or worker.name or "A background task"
        log = self.log_path or failures.log_path()
        failures.write_log(log, type(where).__name__, what, error)
        self.notify(failures.notice(what, error, log), severity="error", timeout=10, markup=False)
        shown = getattr(where, "failure_shown", None)
        if shown is not None:
            shown(worker, error)

    async def on_unmount(self) -> None:
        startup.release_collector()  # quitting within the hold: the caller may go on
        if self._preload is not None:
            self._preload.cancel()
        for client in (self.client, self.shared):
            if client is not None:
                try:
                    await client.aclose()
                except Exception:  # quitting must not fail because the connection already broke
                    pass
