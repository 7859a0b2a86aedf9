"""The trip screen: five live panes laid out by the terminal's width (app/tui/layout.py), its keys,
and what each key does; the trip's data, loading and live view are its `TripSession`'s."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import DescendantFocus, Resize, ScreenResume
from textual.reactive import reactive
from textual.signal import Signal
from textual.widgets import Static

from app.client import TripClient
from app.domain.itinerary import Changes
from app.tui import editing, service_features
from app.tui.forms import FieldSpec, form_values
from app.tui.kinds import BY_PANE
from app.tui.layout import CHAT, Layout, layout_for
from app.tui.outbox import Pending
from app.tui.screens.trip_panes import TripPanes
from app.tui.screens.trip_reactions import TripReactions
from app.tui.session import TripSession
from app.tui.text import literal
from app.tui.widgets.agenda import Agenda
from app.tui.widgets.channel_chat import ChannelChat
from app.tui.widgets.checklist import Checklist
from app.tui.widgets.legs_timeline import LegsTimeline
from app.tui.widgets.map_pins import MapPins
from app.tui.widgets.pane import Pane
from app.tui.widgets.status import CoalescingFooter, OfflineBanner, OutboxBar, PaneTabs, TripHeader
from app.tui.writes import TripWrites


class TripScreen(TripReactions):
    BINDINGS: ClassVar = [
        Binding("1", "pane(1)", "Legs", show=False, id="trip.pane_legs"),
        Binding("2", "pane(2)", "Map", show=False, id="trip.pane_map"),
        Binding("3", "pane(3)", "Checklist", show=False, id="trip.pane_checklist"),
        Binding("4", "pane(4)", "Agenda", show=False, id="trip.pane_agenda"),
        Binding("5", "pane(5)", "Chat", show=False, id="trip.pane_chat"),
        Binding("tab", "cycle(1)", "Panes", id="trip.next_pane", tooltip="Next pane"),
        Binding("shift+tab", "cycle(-1)", "Previous pane", show=False, id="trip.previous_pane"),
        Binding("t", "trips", "Trips", id="trip.trips"),
        Binding("ctrl+r", "reload", "Reload", show=False, id="trip.reload"),
        Binding("j", "join", "Join", id="trip.join", tooltip="Join command"),
        Binding("n", "new_item", "New", id="trip.new_item"),
        Binding("e", "edit_item", "Edit", id="trip.edit_item"),
        Binding("d", "delete_item", "Delete", id="trip.delete_item"),
        Binding("K", "move_leg(-1)", "Move leg up", show=False, id="trip.move_leg_up"),
        Binding("J", "move_leg(1)", "Move leg down", show=False, id="trip.move_leg_down"),
        Binding("space", "toggle_done", "Done", show=False, id="trip.toggle_done"),
        Binding("m", "members", "Members", id="trip.members"),
        Binding("C", "new_channel", "New channel", show=False, id="trip.new_channel"),
        Binding("E", "edit_trip", "Edit trip", show=False, id="trip.edit_trip"),
        Binding("ctrl+e", "export('ics')", "Export calendar (.ics)", show=False, id="trip.export_ics"),
        Binding(
            "ctrl+g", "export('geojson')", "Export map pins (GeoJSON)", show=False, id="trip.export_geojson"
        ),
        Binding("R", "retry_outbox", "Retry unsent", id="trip.outbox_retry"),
        Binding("X", "discard_outbox", "Discard unsent", id="trip.outbox_discard"),
        Binding("a", "activity", "Activity", id="trip.activity"),
        Binding("u", "undo", "Undo my last change", show=False, id="trip.undo"),
    ]

    active: reactive[int] = reactive(1, init=False)

    def __init__(self, trip_id: str, *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.session = TripSession(
            trip_id,
            self.app.session_settings(),
            post=self.post_message,
            run=lambda work, *, group, description, exclusive=False: self.run_worker(
                work, group=group, description=description, exclusive=exclusive, exit_on_error=False
            ),
            open_channel=lambda: self.query_one(ChannelChat).active,
        )
        self.writes = TripWrites(self.session)
        self.primary = 1
        """The last non-chat pane chosen: the one shown beside the chat at medium width."""
        self._shown_writes: set[tuple[str, str, bool]] = set()
        """The waiting writes the panes show (id, kind, not failed): re-shown when this changes."""
        self._layout: Layout | None = None
        self._resumed = False
        self._freshness_shown: str | None = None
        self.operations_arrived: Signal[Changes] = Signal(self, "operations_arrived")
        """Published when the live feed brings operations (the activity screen follows it)."""

    # The session's state, as other screens (and tests) read it.
    trip_id = property(lambda self: self.session.trip_id)
    data = property(lambda self: self.session.data)
    online = property(lambda self: self.session.online)
    follower = property(lambda self: self.session.follower)
    poller = property(lambda self: self.session.poller)

    @property
    def client(self) -> TripClient | None:
        return self.app.client

    @property
    def read_only(self) -> bool:
        """Seen through a share link: nothing can be written, so no write is offered."""
        return self.session.read_only

    # --- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # The layout's classes are set before anything mounts: restyling later costs a frame.
        self._layout = layout = layout_for(self.app.size.width, self.active, self.primary)
        self.add_class(f"-{layout.mode}")

        def classes(number: int) -> str:
            on = (("-visible", number in layout.visible), ("-active", number == self.active))
            return " ".join(name for name, shown in on if shown)

        yield TripHeader(id="trip-header")
        yield OfflineBanner(id="offline-banner")
        yield PaneTabs(id="pane-tabs")
        # Until the first answer: panes laid out but not drawn (drawing them empty cost a few
        # frames, and empty panes read as an empty trip), and a line that says what is going on.
        panes = TripPanes(self.session, self.app.clock, id="panes")
        if self.data is None:
            yield Static("Loading the trip…", id="waiting")
            panes.styles.visibility = "hidden"  # inline, not a class: no restyling of all panes
        with panes:
            yield LegsTimeline(classes=classes(1))
            yield MapPins(classes=classes(2))
            yield ChannelChat(clock=self.app.clock, classes=classes(5))
            yield Checklist(classes=classes(3))
            yield Agenda(classes=classes(4))
        yield OutboxBar(id="outbox-bar")
        yield CoalescingFooter(compact=True)

    def panes(self) -> dict[int, Pane]:
        return self.query_one(TripPanes).panes()

    def highlighted_row(self, name: str) -> Any:
        return self.query_one(TripPanes).highlighted_row(name)

    def on_mount(self) -> None:
        self.query_one(OfflineBanner).display = False
        self._show_outbox()
        self.query_one(ChannelChat).set_in_sight(self._layout.chat_in_sight if self._layout else False)
        self._apply_layout(self.size.width)
        self._show_header()
        if self.data is not None:
            self._show(self.data)
        if (answered := self.session.answered()) is not None:
            self._take(*answered)  # filled before the first paint: one paint, not two
        else:
            self.session.load()
        self.call_after_refresh(self.panes()[self.active].focus_pane)

    def _on_screen_resume(self, event: ScreenResume) -> None:
        # Runs before Screen's own handler, which restyles every node when a screen is pushed:
        # right after they were styled as they mounted (~130 stylesheet applications, a third of
        # opening a trip's). Later resumes (back from a dialog or the picker) restyle as before.
        if not self._resumed:
            self._resumed = True
            event.refresh_styles = False

    @on(Resize)
    def _resized(self, event: Resize) -> None:
        self._apply_layout(event.size.width)
        self._show_header()

    def visible_panes(self) -> frozenset[int]:
        return layout_for(self.size.width, self.active, self.primary).visible

    def _apply_layout(self, width: int) -> None:
        layout = layout_for(width, self.active, self.primary)
        if layout == self._layout:
            return  # a resize within the same layout: nothing to restyle
        self._layout = layout
        for name in ("wide", "medium", "narrow"):
            self.set_class(name == layout.mode, f"-{name}")
        for number, pane in self.panes().items():
            pane.set_class(number in layout.visible, "-visible")
            pane.set_class(number == self.active, "-active")
        # What the chat shows while it is on screen counts as read.
        self.query_one(ChannelChat).set_in_sight(layout.chat_in_sight)
        self._show_tabs()

    def _show_tabs(self) -> None:
        unread, mentions = self.query_one(ChannelChat).unread_total
        self.query_one(PaneTabs).show(self.active, set(self.visible_panes()), unread, mentions)

    def watch_active(self, active: int) -> None:
        if active != CHAT:
            self.primary = active
        self._apply_layout(self.size.width)

    @on(DescendantFocus)
    def _pane_focused(self, event: DescendantFocus) -> None:
        for ancestor in event.widget.ancestors_with_self:
            if isinstance(ancestor, Pane):
                if ancestor.number != self.active:
                    self.active = ancestor.number
                return

    # --- which keys are offered ----------------------------------------------------------

    WRITES = frozenset(
        "new_item edit_item delete_item move_leg toggle_done new_channel members edit_trip export"
        " retry_outbox discard_outbox activity undo".split()
    )
    """Not offered through a share link."""
    NEEDS = {"activity": "activity", "undo": "activity", "new_channel": "channel_writes"}
    """Actions that need one of our extensions (app/tui/service_features.py)."""
    EDITS = frozenset("new_item edit_item delete_item move_leg toggle_done edit_trip undo".split())
    """Not offered to a viewer."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        live, loaded = self.session.live, self.data is not None
        if action in self.WRITES and self.read_only:
            return False
        if action in self.EDITS and not self.session.may_edit:
            return False
        if (feature := self.NEEDS.get(action)) and not service_features.offered(self.client, feature):
            return False  # this service lacks it: the help says so
        if action == "export" and not self.app.writes_files:
            return False  # over SSH the file would land on the server: the help says so
        if action in ("retry_outbox", "discard_outbox"):
            return any(item.error for item in self.session.outbox_items())
        return {
            "join": bool(self.app.join_command),
            "trips": live and not self.read_only,  # a share link opens one trip only
            "reload": live,  # fixed data (screenshots) has no service to go back to
            "new_item": loaded and self.active in BY_PANE,
            "edit_item": loaded and self.active in BY_PANE,
            "delete_item": loaded and self.active in BY_PANE,
            "move_leg": loaded and self.active == 1,
            "new_channel": loaded and self.active == CHAT,
            "edit_trip": loaded,
            "members": loaded,  # on fixed data it shows them; a change says there is no service
            "export": loaded and live,
            "undo": loaded and live,
            "activity": loaded,
            "toggle_done": loaded and self.active == 3,
        }.get(action, True)

    # --- actions -------------------------------------------------------------------------

    def action_pane(self, number: int) -> None:
        self.active = number
        self.panes()[number].focus_pane()

    def action_cycle(self, step: int) -> None:
        self.action_pane((self.active - 1 + step) % 5 + 1)

    def action_trips(self) -> None:
        self.app.action_open_trips()

    def action_reload(self) -> None:
        self.session.load()

    def action_join(self) -> None:
        self.app.action_join()

    def action_new_item(self) -> None:
        self._open_form(BY_PANE[self.active].name, None)

    def action_edit_item(self) -> None:
        name = BY_PANE[self.active].name
        row = self.highlighted_row(name)
        if row is None:
            self.notify("Nothing highlighted to edit.", timeout=3)
        elif not self._not_sent_yet(row):
            self._open_form(name, row)

    def _open_form(self, name: str, row: Any) -> None:
        from app.tui.screens.form import FormScreen

        assert self.data is not None
        kind = editing.item_kind(name, self.data)
        values = form_values(kind.fields, row, editing.defaults(name, self.data))
        title = f"Edit {kind.noun}: {kind.describe(row)}" if row is not None else f"New {kind.noun}"
        session = self.session
        save = editing.saver(session.writer, session.trip_id, kind, row, outbox=session.outbox)
        self.app.push_screen(
            FormScreen(title, kind.fields, values, save), lambda saved: self._written(name, saved)
        )

    def action_delete_item(self) -> None:
        from app.tui.screens.modals import ConfirmScreen

        name = BY_PANE[self.active].name
        row = self.highlighted_row(name)
        if row is None or self.data is None:
            self.notify("Nothing highlighted to delete.", timeout=3)
            return
        if self._not_sent_yet(row):
            return
        kind = editing.item_kind(name, self.data)
        what = literal(kind.describe(row), "bold", single_line=True)
        label = f"delete {kind.noun} {kind.describe(row)}"

        def answered(yes: bool | None) -> None:
            if yes:
                self.writes.delete(name, row.id, label)

        self.app.push_screen(ConfirmScreen(Text.assemble(f"Delete the {kind.noun} ", what, "?")), answered)

    def action_move_leg(self, step: int) -> None:
        leg = self.highlighted_row("legs")
        if leg is None or self.data is None or self._not_sent_yet(leg):
            return
        if not self.data.legs.complete:
            self.notify("Scroll to the last leg first: a reorder names every leg.", timeout=4)
            return
        self.writes.move_leg(leg.id, step)

    def action_toggle_done(self) -> None:
        item = self.highlighted_row("action_items")
        if item is not None and not self._not_sent_yet(item):
            self.writes.tick(item, not item.done)

    def action_members(self) -> None:
        from app.tui.screens.members import MembersScreen

        data = self.data
        if data is not None and data.me is not None:
            self.app.push_screen(
                MembersScreen(self.trip_id, data.me.id, list(data.members)), self._members_closed
            )

    def action_activity(self) -> None:
        """Every change to the trip, live; Enter for details, r to revert (app/tui/screens/activity.py)."""
        from app.tui.screens.activity import ActivityScreen

        feed = self.session.activity_feed()
        self.app.push_screen(
            ActivityScreen(feed, may_revert=self.session.may_edit, news=self.operations_arrived)
        )

    def action_undo(self) -> None:
        self.writes.undo()

    def action_edit_trip(self) -> None:
        """Title and dates of the trip, with the same conflict check as the items' forms."""
        from app.tui.screens.form import FormScreen
        from app.tui.writes import TRIP_FIELDS

        if self.data is not None:
            loaded = self.data.trip.model_copy()
            save = self.writes.trip_saver(loaded)
            form = FormScreen("Edit trip", TRIP_FIELDS, form_values(TRIP_FIELDS, loaded), save)
            self.app.push_screen(form, self._trip_saved)

    def action_new_channel(self) -> None:
        from app.tui.screens.form import FormScreen

        specs = [FieldSpec("name", "Name", required=True)]
        form = FormScreen("New channel", specs, {"name": ""}, self.writes.create_channel)
        self.app.push_screen(form, self._channel_made)

    def action_export(self, format: str) -> None:
        self.writes.export(format, self.app.export_dir)

    def action_retry_outbox(self) -> None:
        for item in self.session.outbox_items():
            if item.error:
                self.app.outbox.fail(item.id, None)
        self._show_outbox()
        self.app.send_trip_outbox(self.trip_id)

    def action_discard_outbox(self) -> None:
        from app.tui.screens.modals import ConfirmScreen

        failed = [item for item in self.session.outbox_items() if item.error]
        if not failed:
            return
        item = failed[0]

        def answered(yes: bool | None) -> None:
            if yes:
                self.app.outbox.remove(item.id)
                self._show_outbox()

        what = "message" if isinstance(item, Pending) else "change"
        label = literal(item.label, "bold", single_line=True)
        self.app.push_screen(
            ConfirmScreen(Text.assemble(f"Discard the unsent {what} ", label, "?")), answered
        )
