"""Pane 4: commitments as an agenda by day ("Today", "Tomorrow", "Wed 15 Jul 2026"), times in the
event's zone with the viewer's own beside them when they differ, category, linked leg or pin,
and the itinerary summary's conflicts marked on the events they concern. The legs' flights are
rows of the day they depart (on their airports' clocks), to read; they are edited with their leg."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from itertools import groupby
from zoneinfo import ZoneInfo

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets.option_list import Option

from app.domain.itinerary import Conflict
from app.domain.models import Commitment, Flight, Leg
from app.tui import palette
from app.tui.formatting import (
    counted,
    day_label,
    flight_line,
    flight_times,
    in_zone,
    parse_date,
    parse_time,
    viewer_flight_line,
)
from app.tui.kinds import COMMITMENTS
from app.tui.text import literal, one_line
from app.tui.widgets.pane import Pane, RowList
from app.tui.widgets.rows import HangingRow

TIME_WIDTH = 12


class AgendaList(RowList):
    """Day headers and one row per commitment."""

    def on_show(self) -> None:
        # The highlighted commitment at the top, with its day's header just above it.
        if self.highlighted is not None:
            self.scroll_to_highlight(top=True)
            self.scroll_relative(y=-1, animate=False)


def time_span(commitment: Commitment) -> str:
    if commitment.is_all_day or not commitment.start_time:
        return "all day"
    if commitment.end_time:
        return f"{commitment.start_time}–{commitment.end_time}"
    return commitment.start_time


def viewer_span(commitment: Commitment, zone_name: str | None, viewer: ZoneInfo) -> str | None:
    """The same span in the viewer's zone, or None when the clocks agree (or it is all day)."""
    day, start = parse_date(commitment.start_date), parse_time(commitment.start_time)
    if commitment.is_all_day or day is None or start is None or zone_name is None:
        return None
    there = in_zone(day, start, zone_name, viewer)
    if there is None:
        return None
    source = dt.datetime.combine(day, start, ZoneInfo(zone_name))
    if source.utcoffset() == there.utcoffset():
        return None
    text = f"{there:%H:%M}"
    end = parse_time(commitment.end_time)
    if end is not None:
        finish = in_zone(day, end, zone_name, viewer)
        if finish is not None:
            text += f"–{finish:%H:%M}"
    if there.date() != day:
        text += f" {there:%a}"
    return text


@dataclass(frozen=True)
class FlightEntry:
    """A leg's flight as an agenda row: on the day it departs, at its departure's local time."""

    id: str
    """Its itinerary event id, `<leg id>.flight.<n>`: the summary's conflicts name it so."""
    leg: Leg
    flight: Flight
    start_date: str
    start_time: str


def flight_entries(legs: list[Leg]) -> list[FlightEntry]:
    entries = []
    for leg in legs:
        for index, flight in enumerate(leg.flights):
            departs = flight_times(flight, leg.timezone).departs
            if departs is not None:
                entries.append(
                    FlightEntry(
                        f"{leg.id}.flight.{index}",
                        leg,
                        flight,
                        departs.date().isoformat(),
                        f"{departs:%H:%M}",
                    )
                )
    return entries


def _when(row: Commitment | FlightEntry) -> tuple[str, str]:
    if isinstance(row, FlightEntry):
        return row.start_date, row.start_time
    return row.start_date, "" if row.is_all_day else row.start_time or ""


class Agenda(Pane):
    number = COMMITMENTS.pane
    title = "Agenda"
    COMPONENT_CLASSES = {"agenda--flight-mark", "agenda--flight", "agenda--your-time"}

    def __init__(self, *, id: str | None = "agenda", classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.commitments: list[Commitment] = []

    def compose(self) -> ComposeResult:
        yield AgendaList(id=COMMITMENTS.list_id)

    def show(
        self,
        commitments: list[Commitment],
        *,
        conflicts: list[Conflict],
        leg_names: dict[str, str],
        leg_zones: dict[str, str],
        pin_names: dict[str, str],
        today: dt.date,
        viewer: ZoneInfo,
        more: bool,
        legs: list[Leg] | None = None,
    ) -> None:
        """`legs`: whose flights are shown among the commitments, on the days they depart."""
        self.commitments = commitments
        concerns: dict[str, list[Conflict]] = {}
        for conflict in conflicts:
            for event_id in conflict.event_ids:
                concerns.setdefault(event_id, []).append(conflict)
        rows: list[Option] = []
        # Sorted stably: commitments keep the service's order, a flight goes after those of its minute.
        entries: list[Commitment | FlightEntry] = sorted(
            [*commitments, *flight_entries(legs or [])], key=_when
        )
        for date, group in groupby(entries, key=lambda c: c.start_date):
            day = parse_date(date)
            label = day_label(day, today) if day else date
            style = f"bold {palette.TODAY}" if day == today else "bold"
            rows.append(Option(Text(f" {label} ", style=f"{style} reverse"), id=f"day:{date}", disabled=True))
            for commitment in group:
                if isinstance(commitment, FlightEntry):
                    rows.append(
                        Option(
                            self._flight_row(commitment, concerns, viewer), id=commitment.id, disabled=True
                        )
                    )
                    continue
                zone_name = commitment.timezone or leg_zones.get(commitment.leg_id or "")
                rows.append(
                    Option(
                        self._row(commitment, zone_name, concerns, leg_names, pin_names, viewer),
                        id=commitment.id,
                    )
                )
        if not rows:
            rows = [Option(Text("No commitments yet.", style=palette.MUTED), disabled=True)]
        agenda = self.query_one(AgendaList)
        agenda.more_available = more
        first_show = not agenda.options
        agenda.set_rows(rows)
        if first_show:
            upcoming = next((c.id for c in commitments if c.start_date >= today.isoformat()), None)
            if upcoming is not None:
                agenda.highlighted = agenda.get_option_index(upcoming)
                self.call_after_refresh(agenda.on_show)
        conflict_ids = {c.id for c in entries if c.id in concerns}
        subtitle = Text(counted(len(commitments), "commitment", more=more))
        if conflict_ids:
            subtitle.append(f" · ⚠ {len(conflict_ids)} in conflict", style=f"bold {palette.ALERT}")
        self.border_subtitle = subtitle

    def _flight_row(
        self, entry: FlightEntry, concerns: dict[str, list[Conflict]], viewer: ZoneInfo
    ) -> HangingRow:
        """' 13:05       ZRH → 08:40⁺¹ NRT · 11h35  ✈ LX160', the viewer's clock and the leg below."""
        clashes = concerns.get(entry.id, [])
        times = flight_times(entry.flight, entry.leg.timezone)
        body = Text(overflow="fold")
        body.append_text(one_line(flight_line(times, departure_time=False), "bold"))
        body.append("  ✈", style=self.part("agenda--flight-mark"))
        name = entry.flight.flight_number or entry.flight.airline
        if name:
            body.append(" ")
            body.append_text(one_line(name, self.part("agenda--flight"), width=12))
        details = []
        yours = viewer_flight_line(times, viewer)
        if yours:
            details.append(Text(f"{yours} your time", style=self.part("agenda--your-time")))
        details.append(Text("leg ", style=palette.MUTED) + one_line(entry.leg.title, width=30))
        return _agenda_row(entry.start_time, body, details, clashes)

    def _row(
        self,
        commitment: Commitment,
        zone_name: str | None,
        concerns: dict[str, list[Conflict]],
        leg_names: dict[str, str],
        pin_names: dict[str, str],
        viewer: ZoneInfo,
    ) -> HangingRow:
        colour = palette.COMMITMENT_CATEGORY.get(commitment.category, palette.MUTED)
        clashes = concerns.get(commitment.id, [])
        body = Text(overflow="fold")
        body.append_text(literal(commitment.title, "bold", single_line=True))
        body.append(f"  {commitment.category}", style=colour)
        details = []
        yours = viewer_span(commitment, zone_name, viewer)
        if zone_name and yours:
            details.append(Text(f"{zone_name} · {yours} your time", style=self.part("agenda--your-time")))
        if commitment.leg_id and commitment.leg_id in leg_names:
            details.append(
                Text("leg ", style=palette.MUTED) + one_line(leg_names[commitment.leg_id], width=30)
            )
        if commitment.map_pin_id and commitment.map_pin_id in pin_names:
            details.append(
                Text("⌖ ", style=palette.MUTED) + one_line(pin_names[commitment.map_pin_id], width=30)
            )
        return _agenda_row(time_span(commitment), body, details, clashes)


def _agenda_row(time: str, body: Text, details: list[Text], clashes: list[Conflict]) -> HangingRow:
    """A row of the agenda: its time (red when it clashes), the body, a line of details joined
    by dots and a line per conflict."""
    if details:
        body.append("\n")
        body.append_text(Text(" · ", style=palette.MUTED).join(details))
    for conflict in clashes:
        body.append("\n⚠ ", style=f"bold {palette.ALERT}")
        body.append_text(literal(conflict.message, palette.ALERT, single_line=True))
    shown = Text(f" {time}", style=f"bold {palette.ALERT}" if clashes else "bold")
    return HangingRow(shown, body, prefix_width=TIME_WIDTH + 1)
