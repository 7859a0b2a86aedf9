"""Pane 4: commitments as an agenda by day ("Today", "Tomorrow", "Wed 15 Jul 2026"), times in the
event's zone with the viewer's own beside them when they differ, category, linked leg or pin,
and the itinerary summary's conflicts marked on the events they concern."""

from __future__ import annotations

import datetime as dt
from itertools import groupby
from zoneinfo import ZoneInfo

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets.option_list import Option

from app.domain.itinerary import Conflict
from app.domain.models import Commitment
from app.tui import palette
from app.tui.formatting import counted, day_label, in_zone, parse_date, parse_time
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


class Agenda(Pane):
    number = 4
    title = "Agenda"

    def __init__(self, *, id: str | None = "agenda", classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.commitments: list[Commitment] = []

    def compose(self) -> ComposeResult:
        yield AgendaList(id="agenda-list")

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
    ) -> None:
        self.commitments = commitments
        concerns: dict[str, list[Conflict]] = {}
        for conflict in conflicts:
            for event_id in conflict.event_ids:
                concerns.setdefault(event_id, []).append(conflict)
        rows: list[Option] = []
        for date, group in groupby(commitments, key=lambda c: c.start_date):
            day = parse_date(date)
            label = day_label(day, today) if day else date
            style = f"bold {palette.TODAY}" if day == today else "bold"
            rows.append(Option(Text(f" {label} ", style=f"{style} reverse"), id=f"day:{date}", disabled=True))
            for commitment in group:
                zone_name = commitment.timezone or leg_zones.get(commitment.leg_id or "")
                rows.append(Option(self._row(commitment, zone_name, concerns, leg_names, pin_names, viewer),
                                   id=commitment.id))
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
        conflict_ids = {c.id for c in commitments if c.id in concerns}
        subtitle = Text(counted(len(commitments), "commitment", more=more))
        if conflict_ids:
            subtitle.append(f" · ⚠ {len(conflict_ids)} in conflict", style=f"bold {palette.ALERT}")
        self.border_subtitle = subtitle

    @staticmethod
    def _row(
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
            details.append(Text(f"{zone_name} · {yours} your time", style="#5fafff"))
        if commitment.leg_id and commitment.leg_id in leg_names:
            details.append(Text("leg ", style=palette.MUTED) + one_line(leg_names[commitment.leg_id], width=30))
        if commitment.map_pin_id and commitment.map_pin_id in pin_names:
            details.append(Text("⌖ ", style=palette.MUTED) + one_line(pin_names[commitment.map_pin_id], width=30))
        if details:
            body.append("\n")
            body.append_text(Text(" · ", style=palette.MUTED).join(details))
        for conflict in clashes:
            body.append("\n⚠ ", style=f"bold {palette.ALERT}")
            body.append_text(literal(conflict.message, palette.ALERT, single_line=True))
        time = Text(f" {time_span(commitment)}", style=f"bold {palette.ALERT}" if clashes else "bold")
        return HangingRow(time, body, prefix_width=TIME_WIDTH + 1)
