"""Pane 1: the trip's legs in order, each with its dates, nights, destination and zone, flight /
stay / car markers, and a bar across the trip's dates with today marked."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets.option_list import Option

from app.domain.models import Leg, Trip
from app.tui import palette
from app.tui.formatting import date_range, nights, parse_date, short_date, utc_offset
from app.tui.text import one_line
from app.tui.widgets.pane import Pane, RowList

INDENT = 3


@dataclass
class LegRow:
    """The renderable of one leg: three lines whose bar is as wide as the pane."""

    leg: Leg
    position: int
    trip_start: dt.date | None
    trip_end: dt.date | None
    today: dt.date
    colour: str

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(options.max_width, 20)
        leg = self.leg
        start, end = parse_date(leg.start_date), parse_date(leg.end_date)

        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(f"{self.position:>2} ", style=f"bold {self.colour}")
        head.append_text(one_line(leg.title, "bold"))
        head.append("  ")
        head.append_text(one_line(leg.destination, self.colour))
        place = Text(f"{leg.timezone} {utc_offset(leg.timezone, start)}", style=palette.MUTED, no_wrap=True)
        yield _spread(head, place, width)

        detail = Text(" " * INDENT, no_wrap=True, overflow="ellipsis")
        count = nights(start, end)
        detail.append(f"{date_range(start, end)} · {count} night{'s' if count != 1 else ''}")
        for marker in self._markers():
            detail.append("  ")
            detail.append_text(marker)
        detail.truncate(width, overflow="ellipsis")
        yield detail
        yield self._bar(width, start, end)

    def _markers(self) -> list[Text]:
        leg = self.leg
        markers: list[Text] = []
        for flight in leg.flights[:2]:
            label = " ".join(
                part for part in (flight.flight_number or flight.airline, _route(flight.from_, flight.to)) if part
            )
            markers.append(Text("✈ ", style="bold #5fafff") + one_line(label or "flight"))
        if len(leg.flights) > 2:
            markers.append(Text(f"+{len(leg.flights) - 2} ✈", style="#5fafff"))
        stays = leg.stays or ([leg.accommodation] if leg.accommodation else [])
        if stays:
            name = stays[0].name or "stay"
            extra = f" +{len(stays) - 1}" if len(stays) > 1 else ""
            markers.append(Text("⌂ ", style="bold #87d787") + one_line(name) + Text(extra))
        if leg.rental_car:
            company = leg.rental_car.company or "car"
            markers.append(Text("⛟ ", style="bold #ffaf5f") + one_line(company))
        return markers

    def _bar(self, width: int, start: dt.date | None, end: dt.date | None) -> Text:
        bar = Text(" " * INDENT, no_wrap=True)
        span = width - INDENT
        first, last = self.trip_start, self.trip_end
        if first is None or last is None or last < first or span <= 0:
            return bar
        days = (last - first).days + 1

        def column(day: dt.date) -> int:
            offset = min(max((day - first).days, 0), days)
            return offset * span // days

        begin = column(start) if start else 0
        finish = max(column(end + dt.timedelta(days=1)) if end else 0, begin + 1)
        today_column = column(self.today) if first <= self.today <= last else None
        for position in range(span):
            if position == today_column:
                bar.append("┃", style=f"bold {palette.TODAY}")
            elif begin <= position < finish:
                bar.append("█", style=self.colour)
            else:
                bar.append("·", style="#4e4e4e")
        return bar


def _route(origin: str | None, destination: str | None) -> str:
    if origin and destination:
        return f"{origin}→{destination}"
    return str(origin or destination or "")


def _spread(left: Text, right: Text, width: int) -> Text:
    """`left` and `right` on one line of `width` cells; `right` is dropped when it does not fit."""
    room = width - right.cell_len - 1
    if room < 20:
        left.truncate(width, overflow="ellipsis")
        return left
    left.truncate(room, overflow="ellipsis")
    return Text.assemble(left, " " * (width - left.cell_len - right.cell_len), right, no_wrap=True)


class LegList(RowList):
    """The legs, one three-line row each."""


class LegsTimeline(Pane):
    number = 1
    title = "Legs"

    def __init__(self, *, id: str | None = "legs", classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.today = dt.date.today()
        self.trip: Trip | None = None
        self.legs: list[Leg] = []

    def compose(self) -> ComposeResult:
        yield LegList(id="leg-list")

    def show(self, trip: Trip, legs: list[Leg], *, more: bool, today: dt.date) -> None:
        self.trip, self.legs, self.today = trip, legs, today
        start, end = parse_date(trip.start_date), parse_date(trip.end_date)
        rows = [
            Option(LegRow(leg, position, start, end, today, palette.series(position - 1)), id=leg.id)
            for position, leg in enumerate(legs, 1)
        ]
        if not rows:
            rows = [Option(Text("No legs yet.", style=palette.MUTED), disabled=True)]
        leg_list = self.query_one(LegList)
        leg_list.more_available = more
        leg_list.set_rows(rows)
        total = f"{len(legs)}{'+' if more else ''} legs"
        marker = f" · today {short_date(today)} ┃" if start and end and start <= today <= end else ""
        self.border_subtitle = f"{date_range(start, end)} · {total}{marker}"
