"""The trip picker: every trip the key may read, with dates, status and member count; open,
create and archive from the keyboard."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from app.client import TripConnectionError, TripError
from app.domain.models import Me, Trip
from app.tui import failures, palette
from app.tui.formatting import date_range, parse_date
from app.tui.live import Backoff
from app.tui.notices import describe
from app.tui.screens.base import TripdeckScreen
from app.tui.screens.modals import ConfirmScreen, NewTrip, NewTripScreen
from app.tui.text import one_line
from app.tui.widgets.status import CoalescingFooter, OfflineBanner


class TripList(OptionList):
    """One row per trip."""


def trip_row(trip: Trip, width: int, status_style: Style | str) -> Table:
    """Title, dates, status (in `status_style`) and member count; below 60 columns the count goes,
    below 48 the status too, so the title keeps room (at 40 columns the fixed columns had taken it all)."""
    grid = Table.grid(padding=(0, 2), expand=True)
    grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis", min_width=8)
    grid.add_column(
        width=26 if width >= 60 else 21, no_wrap=True, overflow="ellipsis"
    )  # a range over new year: 24
    members = trip.member_count
    cells = [
        one_line(trip.title, "bold"),
        Text(date_range(parse_date(trip.start_date), parse_date(trip.end_date))),
    ]
    if width >= 48:
        grid.add_column(width=9, no_wrap=True)
        cells.append(Text(trip.status, style=status_style))
    if width >= 60:
        grid.add_column(width=10, no_wrap=True, justify="right")
        cells.append(
            Text(
                f"{members} member{'s' if members != 1 else ''}" if members is not None else "",
                style=palette.MUTED,
            )
        )
    grid.add_row(*cells)
    return grid


class TripPickerScreen(TripdeckScreen, Screen):
    BINDINGS = [
        Binding("enter", "open", "Open", id="picker.open", show=True),
        Binding("n", "new", "New trip", id="picker.new"),
        Binding("a", "archive", "Archive", id="picker.archive"),
        Binding("ctrl+r", "reload", "Reload", id="picker.reload"),
    ]
    COMPONENT_CLASSES = {"picker--title", "picker--unsent", "picker--active", "picker--draft"}

    @dataclass
    class Loaded(Message):
        me: Me
        trips: list[Trip]

    def __init__(self) -> None:
        super().__init__()
        self.trips: list[Trip] = []
        self.me: Me | None = None
        self.highlight_after_load: str | None = None
        """A trip just created: highlighted once the list shows it."""

    def compose(self) -> ComposeResult:
        yield Static(
            Text(
                " ✈ Tripdeck · your trips", style=self.get_component_rich_style("picker--title", partial=True)
            ),
            id="picker-title",
        )
        yield OfflineBanner(id="offline-banner")
        yield Static("", id="picker-outbox")
        yield TripList(id="trip-list")
        yield Static("", id="picker-hint")
        yield CoalescingFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one(OfflineBanner).display = False
        self.query_one("#picker-hint", Static).update(Text("Loading trips…", style=palette.MUTED))
        self._show_outbox()
        self.load()

    def _show_outbox(self) -> None:
        """How many of your messages and changes wait in the outbox (of every trip)."""
        items = self.app.outbox.refresh()
        failed = sum(1 for item in items if item.error)
        line = self.query_one("#picker-outbox", Static)
        line.display = bool(items)
        if items:
            text = Text(
                f" ⧗ {len(items)} unsent", style=self.get_component_rich_style("picker--unsent", partial=True)
            )
            text.append(
                ": sent as soon as the service answers"
                if not failed
                else f" ({failed} failed: open its trip, then R retries or X discards)",
                style=palette.MUTED,
            )
            line.update(text)

    def outbox_changed(self, item, answer, sent: bool) -> None:
        if self.is_mounted:
            self._show_outbox()

    @work(exclusive=True, group="trips", exit_on_error=False, description="Loading your trips")
    async def load(self) -> None:
        """Reads the trips; when that fails (unreachable, the key refused) says why where the
        list would be, with the offline banner, and tries again with backoff until it works."""
        client = self.app.connected_client
        backoff = Backoff(initial=self.app.reconnect_after)
        while True:
            try:
                me = await client.me()
                trips = [trip async for trip in client.iterate_trips()]
            except TripError as error:
                delay = backoff.next_delay()
                unreachable = isinstance(error, TripConnectionError)
                self.query_one(OfflineBanner).show_offline(
                    self.app.service_url,
                    backoff.failures,
                    delay,
                    None if unreachable else describe(error),
                )
                if not self.trips:
                    self.query_one("#picker-hint", Static).update(
                        Text(failures.unavailable(error, self.app.service_url), style=palette.ALERT)
                    )
                await asyncio.sleep(delay)
                continue
            if backoff.failures:
                self.query_one(OfflineBanner).hide()
                self.notify("Back online.", timeout=3)
            self.post_message(self.Loaded(me, trips))
            return

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        self.me, self.trips = event.me, event.trips
        self.app.know_user(event.me)
        self._show_outbox()
        order = {"active": 0, "draft": 1, "completed": 2}
        self.trips.sort(key=lambda trip: (order.get(trip.status, 3), trip.start_date))
        trip_list = self.query_one(TripList)
        trip_list.set_options([Option(self._row(trip), id=trip.id) for trip in self.trips])
        if self.trips:
            wanted = self.highlight_after_load
            self.highlight_after_load = None
            trip_list.highlighted = next(
                (index for index, trip in enumerate(self.trips) if trip.id == wanted), 0
            )
        trip_list.focus()
        hint = (
            "Enter opens · n new trip · a archive · ? help"
            if self.trips
            else "No trips yet: press n to create one."
        )
        self.query_one("#picker-hint", Static).update(Text(hint, style=palette.MUTED))

    def _row(self, trip: Trip) -> Table:
        """The trip's row for this width, its status in the colour of its component class."""
        status = (
            self.get_component_rich_style(f"picker--{trip.status}", partial=True)
            if trip.status in ("active", "draft")
            else palette.MUTED
        )
        return trip_row(trip, self.size.width, status)

    def on_resize(self) -> None:
        """Rows are laid out for the width (see `trip_row`): lay them out again, keeping the highlight."""
        if self.trips:
            trip_list = self.query_one(TripList)
            highlighted = trip_list.highlighted
            trip_list.set_options([Option(self._row(trip), id=trip.id) for trip in self.trips])
            trip_list.highlighted = highlighted

    def action_reload(self) -> None:
        self.load()

    def action_open(self) -> None:
        option = self.query_one(TripList).highlighted_option
        if option is not None and option.id:
            self.app.open_trip(option.id)

    @on(OptionList.OptionSelected, "TripList")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.app.open_trip(event.option.id)

    def action_new(self) -> None:
        self.app.push_screen(NewTripScreen(self.create), self._created)

    async def create(self, new: NewTrip) -> Trip:
        """Sends the new trip; the dialog shows a refusal and stays open."""
        client = self.app.connected_client
        me = self.me or await client.me()
        group = me.default_group_id or (me.groups[0].id if me.groups else "")
        return await client.create_trip(
            group_id=group, title=new.title, start_date=new.start_date, end_date=new.end_date
        )

    def _created(self, trip: Trip | None) -> None:
        if trip is None:
            return
        self.notify(Text.assemble("Created ", one_line(trip.title)).plain, markup=False)
        self.highlight_after_load = trip.id
        self.load()

    def action_archive(self) -> None:
        option = self.query_one(TripList).highlighted_option
        trip = next((t for t in self.trips if option is not None and t.id == option.id), None)
        if trip is None:
            return
        question = Text.assemble("Archive ", one_line(trip.title, "bold"), "? It becomes completed.")

        def answered(yes: bool | None) -> None:
            if yes:
                self.archive(trip.id)

        self.app.push_screen(ConfirmScreen(question), answered)

    @work(group="trip-write", exit_on_error=False, description="Archiving the trip")
    async def archive(self, trip_id: str) -> None:
        await self.app.connected_client.archive_trip(trip_id)
        self.load()
