"""`TripPanes`: the trip screen's five panes, each filled with its part of the session's data (as
the outbox will leave it) and redrawn by the names of what changed."""

from __future__ import annotations

from typing import Any

from textual.containers import Container

from app.tui import conflicts
from app.tui.clock import Clock
from app.tui.data import TripData
from app.tui.kinds import KINDS
from app.tui.session import TripSession
from app.tui.widgets.agenda import Agenda
from app.tui.widgets.channel_chat import ChannelChat, MessageList
from app.tui.widgets.checklist import Checklist
from app.tui.widgets.legs_timeline import LegsTimeline
from app.tui.widgets.map_pins import MapPins
from app.tui.widgets.pane import Pane, RowList


class TripPanes(Container):
    def __init__(self, session: TripSession, clock: Clock, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.session = session
        self.clock = clock

    def panes(self) -> dict[int, Pane]:
        return {pane.number: pane for pane in self.query(Pane)}

    def pane_of(self, name: str) -> Pane:
        return self.panes()[KINDS[name].pane]

    def highlighted_row(self, name: str) -> Any:
        """The row under the cursor of the pane that shows `name`, or None."""
        if self.session.data is None:
            return None
        option = self.pane_of(name).query_one(RowList).highlighted_option
        if option is None or option.disabled or option.id is None:
            return None
        rows, _ = self.session.overlaid(name)
        return next((row for row in rows if row.id == option.id), None)

    def want(self, name: str, row_id: str) -> None:
        """The cursor goes to this row when the list next shows it (a new row comes with a reload)."""
        self.pane_of(name).query_one(RowList).wanted = row_id

    def highlight_leg(self, leg_id: str) -> None:
        leg_list = self.query_one(LegsTimeline).query_one(RowList)
        leg_list.highlighted = leg_list.get_option_index(leg_id)  # nights without a stay have rows too

    def show(self, data: TripData) -> None:
        self.redraw(frozenset({"legs", "pins", "action_items", "commitments"}))
        chat = self.query_one(ChannelChat)
        if data.me is None:
            chat.show_not_shared()
            # Nothing to read, reply to or write there: the list takes no keyboard, so its keys
            # ("r Reply", "i Write") and the channel keys are not offered.
            chat.query_one(MessageList).disabled = True
        else:
            chat.show_channels(data.channels, data.me)
        for channel_id, page in data.messages.items():
            chat.show_history(channel_id, page)

    _SHOW = {
        "legs": "_show_legs",
        "pins": "_show_pins",
        "action_items": "_show_checklist",
        "commitments": "_show_agenda",
    }

    def redraw(self, kinds: frozenset[str]) -> None:
        """Shows the lists named (the agenda too when legs or pins changed: it names them)."""
        for kind, show in self._SHOW.items():
            if kind in kinds:
                getattr(self, show)()
        if kinds & {"legs", "pins"} and "commitments" not in kinds:
            self._show_agenda()

    def _rows(self, pane: Pane, name: str) -> list[Any]:
        rows, notes = self.session.overlaid(name)
        pane.query_one(RowList).pending = notes
        return rows

    def _show_legs(self) -> None:
        data = self.session.data
        if data is None:
            return
        timeline = self.query_one(LegsTimeline)
        rows = self._rows(timeline, "legs")
        timeline.show(
            data.trip,
            rows,
            more=not data.legs.complete,
            today=self.clock.today(),
            viewer=self.clock.zone,
            conflicts=conflicts.every_conflict(data.summary, rows),
        )

    def _show_pins(self) -> None:
        data = self.session.data
        if data is None:
            return
        bounds = data.summary.trip_bounds if data.summary else None
        pins = self.query_one(MapPins)
        pins.show(self._rows(pins, "pins"), data.legs.items, bounds, more=not data.pins.complete)

    def _show_checklist(self) -> None:
        data = self.session.data
        if data is None:
            return
        owners = {member.user_id: member.name for member in data.members}
        checklist = self.query_one(Checklist)
        checklist.show(self._rows(checklist, "action_items"), owners, more=not data.action_items.complete)

    def _show_agenda(self) -> None:
        data = self.session.data
        if data is None:
            return
        agenda = self.query_one(Agenda)
        agenda.show(
            self._rows(agenda, "commitments"),
            conflicts=data.summary.conflicts if data.summary else [],
            leg_names={leg.id: leg.title for leg in data.legs.items},
            leg_zones={leg.id: leg.timezone for leg in data.legs.items},
            pin_names={pin.id: pin.name for pin in data.pins.items},
            today=self.clock.today(),
            viewer=self.clock.zone,
            more=not data.commitments.complete,
            legs=self.session.overlaid("legs")[0],  # their flights, on the days they depart
        )
