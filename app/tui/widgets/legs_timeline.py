"""Pane 1: the trip's legs in order, each with its dates, nights, destination and zone, stay and
car markers, a line per flight on its airports' clocks (and the viewer's, when it reads
differently), a bar across the trip's dates with today marked, and the conflicts of the leg and
what it holds under it. Nights without a stay are a row of their own, in the gap they leave."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from rich.console import Console, ConsoleOptions, RenderResult
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.widgets.option_list import Option

from app.domain.itinerary import Conflict
from app.domain.models import Flight, Leg, Trip
from app.tui import conflicts as placing
from app.tui import palette
from app.tui.formatting import (
    counted,
    date_range,
    flight_line,
    flight_times,
    nights,
    parse_date,
    short_date,
    utc_offset,
    viewer_flight_line,
)
from app.tui.kinds import LEGS
from app.tui.text import one_line
from app.tui.widgets.pane import Pane, RowList

INDENT = 3
FLIGHT_LINES = 3
"""Flights shown as lines under a leg; more are counted."""


@dataclass(frozen=True)
class TimelineStyles:
    """The timeline's component classes as styles, read when it shows its rows: the rows draw
    themselves later, away from the widget."""

    flight: Style
    flight_mark: Style
    stay: Style
    car: Style
    day: Style
    """A day of the trip outside the bar."""


@dataclass
class LegRow:
    """The renderable of one leg: three lines whose bar is as wide as the pane."""

    leg: Leg
    position: int
    trip_start: dt.date | None
    trip_end: dt.date | None
    today: dt.date
    colour: str
    styles: TimelineStyles
    viewer: ZoneInfo | None = None
    conflicts: list[Conflict] = field(default_factory=list)
    flights_in_conflict: set[int] = field(default_factory=set)

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
        for index, flight in enumerate(leg.flights[:FLIGHT_LINES]):
            yield from self._flight(flight, index in self.flights_in_conflict, width)
        if len(leg.flights) > FLIGHT_LINES:
            yield Text(
                " " * INDENT + f"✈ +{counted(len(leg.flights) - FLIGHT_LINES, 'more flight')}",
                style=self.styles.flight,
            )
        yield from alerts(self.conflicts, width, console)
        yield self._bar(width, start, end)

    def _flight(self, flight: Flight, in_conflict: bool, width: int) -> list[Text]:
        """'✈ LX160  13:05 ZRH → 08:40⁺¹ NRT · 11h35 · 12:05 → 23:40 your time'; the viewer's
        times go on a line of their own when the pane is too narrow for both."""
        times = flight_times(flight, self.leg.timezone)
        line = Text(" " * INDENT, no_wrap=True, overflow="ellipsis")
        line.append("✈ ", style=f"bold {palette.ALERT}" if in_conflict else self.styles.flight_mark)
        name = flight.flight_number or flight.airline
        if name:
            line.append_text(one_line(name, "bold", width=12))
            line.append("  ")
        line.append_text(one_line(flight_line(times), f"bold {palette.ALERT}" if in_conflict else ""))
        yours = viewer_flight_line(times, self.viewer) if self.viewer is not None else None
        lines = [line]
        if yours:
            mine = Text(f"{yours} your time", style=self.styles.flight)
            if line.cell_len + 3 + mine.cell_len <= width:
                line.append(" · ", style=palette.MUTED)
                line.append_text(mine)
            else:
                lines.append(Text(" " * (INDENT + 2)) + mine)
        for each in lines:
            each.truncate(width, overflow="ellipsis")
        return lines

    def _markers(self) -> list[Text]:
        leg = self.leg
        markers: list[Text] = []
        stays = leg.stays or ([leg.accommodation] if leg.accommodation else [])
        if stays:
            name = stays[0].name or "stay"
            extra = f" +{len(stays) - 1}" if len(stays) > 1 else ""
            markers.append(Text("⌂ ", style=self.styles.stay) + one_line(name) + Text(extra))
        if leg.rental_car:
            company = leg.rental_car.company or "car"
            markers.append(Text("⛟ ", style=self.styles.car) + one_line(company))
        return markers

    def _bar(self, width: int, start: dt.date | None, end: dt.date | None) -> Text:
        finish = end + dt.timedelta(days=1) if end else None
        return bar(
            width,
            self.trip_start,
            self.trip_end,
            self.today,
            start,
            finish,
            "█",
            self.colour,
            self.styles.day,
        )


def bar(
    width: int,
    first: dt.date | None,
    last: dt.date | None,
    today: dt.date,
    start: dt.date | None,
    finish: dt.date | None,
    glyph: str,
    style: str,
    day_style: Style,
) -> Text:
    """A line across the trip's days (`first` to `last`) with [`start`, `finish`) drawn in
    `glyph` and today's column marked."""
    line = Text(" " * INDENT, no_wrap=True)
    span = width - INDENT
    if first is None or last is None or last < first or span <= 0:
        return line
    days = (last - first).days + 1

    def column(day: dt.date) -> int:
        offset = min(max((day - first).days, 0), days)
        return offset * span // days

    begin = column(start) if start else 0
    end = max(column(finish) if finish else 0, begin + 1)
    today_column = column(today) if first <= today <= last else None
    for position in range(span):
        if position == today_column:
            line.append("┃", style=f"bold {palette.TODAY}")
        elif begin <= position < end:
            line.append(glyph, style=style)
        else:
            line.append("·", style=day_style)
    return line


def alerts(conflicts: list[Conflict], width: int, console: Console) -> RenderResult:
    """'⚠ message' per conflict, wrapped under the row's indent."""
    for conflict in conflicts:
        text = Text("⚠ ", style=f"bold {palette.ALERT}")
        text.append_text(one_line(conflict.message, palette.ALERT))
        for line in text.wrap(console, max(width - INDENT, 10)):
            yield Text(" " * INDENT) + line


@dataclass
class NightsRow:
    """Nights of the trip without a stay, in the gap they leave between the legs: what the
    nights are and a bar with them marked."""

    conflict: Conflict
    trip_start: dt.date | None
    trip_end: dt.date | None
    today: dt.date
    styles: TimelineStyles

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(options.max_width, 20)
        evenings = [day for day in (parse_date(text) for text in self.conflict.dates or []) if day]
        line = Text(" " * INDENT, no_wrap=True, overflow="ellipsis")
        line.append("☾ no stay ", style=f"bold {palette.ALERT}")
        if not evenings:
            line.append_text(one_line(self.conflict.message, palette.ALERT))
        elif len(evenings) == 1:
            line.append(f"for the night of {evenings[0]:%a} {short_date(evenings[0])}", style=palette.ALERT)
        else:
            line.append(
                f"for {len(evenings)} nights, {evenings[0]:%a} {short_date(evenings[0])} – "
                f"{evenings[-1]:%a} {short_date(evenings[-1])}",
                style=palette.ALERT,
            )
        line.truncate(width, overflow="ellipsis")
        yield line
        if evenings:
            yield bar(
                width,
                self.trip_start,
                self.trip_end,
                self.today,
                evenings[0],
                evenings[-1] + dt.timedelta(days=1),
                "░",
                palette.ALERT,
                self.styles.day,
            )


def gap_position(conflict: Conflict, legs: list[Leg]) -> int:
    """Where a run of nights without a stay goes among the legs (by their index): the leg whose
    dates hold its first night is where it is; the row goes before that leg when the run starts
    on the leg's first night and a leg comes before it (the gap at the handover), else after it
    (never above the first leg, where no gap is). A run no leg holds goes before the first leg
    that starts after it."""
    evenings = sorted(conflict.dates or [])
    if not evenings:
        return len(legs)
    first = evenings[0]
    for index, leg in enumerate(legs):
        if leg.start_date <= first < leg.end_date:
            return index if first == leg.start_date and index > 0 else index + 1
    return next((index for index, leg in enumerate(legs) if leg.start_date > first), len(legs))


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
    number = LEGS.pane
    title = "Legs"
    COMPONENT_CLASSES = {
        "legs-timeline--flight",
        "legs-timeline--flight-mark",
        "legs-timeline--stay",
        "legs-timeline--car",
        "legs-timeline--day",
    }

    def __init__(self, *, id: str | None = "legs", classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.today = dt.date.today()
        self.trip: Trip | None = None
        self.legs: list[Leg] = []

    def compose(self) -> ComposeResult:
        yield LegList(id=LEGS.list_id)

    def show(
        self,
        trip: Trip,
        legs: list[Leg],
        *,
        more: bool,
        today: dt.date,
        conflicts: list[Conflict] | None = None,
        viewer: ZoneInfo | None = None,
    ) -> None:
        """`conflicts`: the summary's and the legs' own (app/tui/conflicts.py); each is drawn
        under the legs it concerns, nights without a stay in their gap. `viewer`: the zone whose
        clock flights are also shown on."""
        self.trip, self.legs, self.today = trip, legs, today
        start, end = parse_date(trip.start_date), parse_date(trip.end_date)
        placed = placing.for_legs(conflicts or [], {leg.id for leg in legs})
        gaps: dict[int, list[Conflict]] = {}
        for conflict in placed.nights if legs else []:
            gaps.setdefault(gap_position(conflict, legs), []).append(conflict)
        styles = TimelineStyles(
            flight=self.part("legs-timeline--flight"),
            flight_mark=self.part("legs-timeline--flight-mark"),
            stay=self.part("legs-timeline--stay"),
            car=self.part("legs-timeline--car"),
            day=self.part("legs-timeline--day"),
        )
        rows: list[Option] = []
        for position, leg in enumerate([*legs, None], 1):
            for conflict in gaps.get(position - 1, []):
                rows.append(Option(NightsRow(conflict, start, end, today, styles), disabled=True))
            if leg is not None:
                flights = {index for (leg_id, index) in placed.flights if leg_id == leg.id}
                rows.append(
                    Option(
                        LegRow(
                            leg,
                            position,
                            start,
                            end,
                            today,
                            palette.series(position - 1),
                            styles,
                            viewer,
                            placed.by_leg.get(leg.id, []),
                            flights,
                        ),
                        id=leg.id,
                    )
                )
        if not legs:  # the nights are still without a stay: drawn, as the ⚠ counts them
            rows = [
                Option(Text("No legs yet.", style=palette.MUTED), disabled=True),
                *(
                    Option(NightsRow(conflict, start, end, today, styles), disabled=True)
                    for conflict in placed.nights
                ),
            ]
        leg_list = self.query_one(LegList)
        leg_list.more_available = more
        leg_list.set_rows(rows)
        subtitle = Text(f"{date_range(start, end)} · {counted(len(legs), 'leg', more=more)}")
        if placed.count:
            subtitle.append(f" · ⚠ {placed.count}", style=f"bold {palette.ALERT}")
        if start and end and start <= today <= end:
            subtitle.append(f" · today {short_date(today)} ┃")
        self.border_subtitle = subtitle
