"""The trip screen: five live panes. At 160 columns or more all five are side by side with the
chat always visible; from 120 the chosen pane sits beside the chat; below that, one pane at a time.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.events import DescendantFocus, Resize, ScreenResume
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.signal import Signal
from textual.timer import Timer
from textual.widgets import Static

from app.client import NotSupportedError, StaleRevisionError, TripConnectionError, TripError
from app.domain.itinerary import Changes
from app.domain.models import Leg
from app.tui import conflicts, editing, failures, loading, palette, pending, sender, service_features
from app.tui.data import Paged, TripData
from app.tui.editing import KIND_OF_PANE
from app.tui.forms import form_values
from app.tui.layout import CHAT, Layout, layout_for
from app.tui.live import Backoff, Follower, SharedWatcher, kinds_changed
from app.tui.notices import describe
from app.tui.outbox import Pending, PendingWrite, new_key
from app.tui.screens.base import TripdeckScreen
from app.tui.screens.conflict import StaleRevisionScreen
from app.tui.text import clean, literal
from app.tui.widgets.agenda import Agenda
from app.tui.widgets.channel_chat import ChannelChat, MessageList
from app.tui.widgets.checklist import Checklist
from app.tui.widgets.legs_timeline import LegsTimeline
from app.tui.widgets.map_pins import MapPins
from app.tui.widgets.pane import Pane, RowList
from app.tui.widgets.status import CoalescingFooter, OfflineBanner, OutboxBar, PaneTabs, TripHeader


class TripScreen(TripdeckScreen, Screen):
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

    @dataclass
    class Loaded(Message):
        data: TripData
        cursor: str | None

    @dataclass
    class ChangesArrived(Message):
        changes: Changes

    @dataclass
    class WentOffline(Message):
        attempt: int
        retry_in: float
        reason: str | None = None
        """None: the service cannot be reached; else what it answered (a 403, a 500...)."""

    @dataclass
    class CameBack(Message):
        reload: bool = True
        """False when what came back is the load itself: its answer is on its way already."""

    @dataclass
    class ListRefreshed(Message):
        kind: str
        page: Paged

    def __init__(self, trip_id: str, *, initial: TripData | None = None, name: str | None = None) -> None:
        super().__init__(name=name)
        self.trip_id = trip_id
        self.data: TripData | None = initial
        self.frozen = initial is not None
        """Showing fixed data (screenshots, snapshots): no requests, no live feed."""
        self.online = True
        self.primary = 1
        """The last non-chat pane chosen: the one shown beside the chat at medium width."""
        self._stale: set[str] = set()
        self._shown_writes: set[tuple[str, str, bool]] = set()
        """The waiting writes the panes show (id, kind, not failed): re-shown when this changes."""
        self._loading_more: set[str] = set()
        self._summary_running = False
        self._summary_stale = False
        self._layout: Layout | None = None
        self._resumed = False
        self.follower: Follower | None = None
        self.poller = None
        """A service without the changes feed: its plain endpoints polled (app/tui/polling.py)."""
        self._freshness_shown: str | None = None
        self.watcher: SharedWatcher | None = None
        self._move_lock = asyncio.Lock()
        self._flush_backoff = Backoff()
        self._flush_retry: Timer | None = None
        """The next attempt to send the outbox after the service could not be reached."""
        self.operations_arrived: Signal[Changes] = Signal(self, "operations_arrived")
        """Published when the live feed brings operations (the activity screen follows it)."""

    # --- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        clock = self.app.clock
        # The layout's classes are set before anything mounts: restyling later costs a frame.
        self._layout = layout = layout_for(self.app.size.width, self.active, self.primary)
        visible = layout.visible
        self.add_class(f"-{layout.mode}")

        def classes(number: int) -> str:
            return " ".join(
                name
                for name, on in (("-visible", number in visible), ("-active", number == self.active))
                if on
            )

        yield TripHeader(id="trip-header")
        yield OfflineBanner(id="offline-banner")
        yield PaneTabs(id="pane-tabs")
        # Until the first answer: panes laid out but not drawn (drawing them empty cost a few
        # frames, and empty panes read as an empty trip), and a line that says what is going on.
        panes = Container(id="panes")
        if self.data is None:
            yield Static("Loading the trip…", id="waiting")
            panes.styles.visibility = "hidden"  # inline, not a class: no restyling of all panes
        with panes:
            yield LegsTimeline(classes=classes(1))
            yield MapPins(classes=classes(2))
            yield ChannelChat(clock=clock, classes=classes(5))
            yield Checklist(classes=classes(3))
            yield Agenda(classes=classes(4))
        yield OutboxBar(id="outbox-bar")
        yield CoalescingFooter(compact=True)

    def panes(self) -> dict[int, Pane]:
        return {pane.number: pane for pane in self.query(Pane)}

    def on_mount(self) -> None:
        self._flush_backoff.initial = self.app.reconnect_after
        self.query_one(OfflineBanner).display = False
        self._show_outbox()
        self.query_one(ChannelChat).set_in_sight(self._layout.chat_in_sight if self._layout else False)
        self._apply_layout(self.size.width)
        self._show_header()
        if self.data is not None:
            self._show(self.data)
        if not self.frozen:
            answered = self.app.take_answered_preload(self.trip_id)
            if answered is not None:
                self._loaded(self.Loaded(*answered))  # filled before the first paint: one paint, not two
            else:
                self.load()
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

    def _show_header(self) -> None:
        data = self.data
        self.query_one(TripHeader).show(
            data.trip if data else None,
            data.me if data else None,
            online=self.online,
            width=self.size.width,
            read_only=self.read_only,
            conflicts=len(conflicts.every_conflict(data.summary, data.legs.items)) if data else 0,
            updated=self._freshness(),
        )

    def _freshness(self) -> str | None:
        """How fresh a polled view is ("updated 10 s ago"); None when the changes feed keeps it live."""
        if self.poller is None:
            return None
        from app.tui.polling import freshness

        updated = self.poller.updated_at
        self._freshness_shown = freshness(None if updated is None else self.poller.clock() - updated)
        return self._freshness_shown

    def _show_freshness(self) -> None:
        from app.tui.polling import freshness

        updated = self.poller.updated_at if self.poller is not None else None
        if updated is not None and freshness(self.poller.clock() - updated) != self._freshness_shown:
            self._show_header()

    def watch_active(self, active: int) -> None:
        if active != CHAT:
            self.primary = active
        self._apply_layout(self.size.width)

    # --- actions -------------------------------------------------------------------------

    def action_pane(self, number: int) -> None:
        self.active = number
        self.panes()[number].focus_pane()

    def action_cycle(self, step: int) -> None:
        self.action_pane((self.active - 1 + step) % 5 + 1)

    def action_trips(self) -> None:
        self.app.action_open_trips()

    def action_reload(self) -> None:
        if not self.frozen:
            self.load()

    def action_join(self) -> None:
        self.app.action_join()

    WRITES = frozenset(
        {
            "new_item",
            "edit_item",
            "delete_item",
            "move_leg",
            "toggle_done",
            "new_channel",
            "members",
            "edit_trip",
            "export",
            "retry_outbox",
            "discard_outbox",
            "activity",
            "undo",
        }
    )

    @property
    def read_only(self) -> bool:
        """Seen through a share link: nothing can be written, so no write is offered."""
        return getattr(self.app, "shared", None) is not None

    NEEDS = {"activity": "activity", "undo": "activity", "new_channel": "channel_writes"}
    """Actions that need one of our extensions (app/tui/service_features.py)."""

    EDITS = frozenset(
        {"new_item", "edit_item", "delete_item", "move_leg", "toggle_done", "edit_trip", "undo"}
    )

    @property
    def may_edit(self) -> bool:
        """A viewer reads and chats only: the keys that change the plan are not offered."""
        data = self.data
        if data is None or data.me is None:
            return not self.read_only
        role = next((member.role for member in data.members if member.user_id == data.me.id), None)
        return role is None or role.may_edit

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.WRITES and self.read_only:
            return False
        if action in self.EDITS and not self.may_edit:
            return False
        if (feature := self.NEEDS.get(action)) and not service_features.offered(self.client, feature):
            return False  # this service lacks it: the help says so
        if action == "export" and not getattr(self.app, "writes_files", True):
            return False  # over SSH the file would land on the server: the help says so
        if action == "join":
            return bool(getattr(self.app, "join_command", None))
        if action == "trips":
            return not self.frozen and not self.read_only  # a share link opens one trip only
        if action == "reload":
            return not self.frozen  # fixed data (screenshots) has no service to go back to
        if action in ("new_item", "edit_item", "delete_item"):
            return self.data is not None and self.active in KIND_OF_PANE
        if action == "move_leg":
            return self.data is not None and self.active == 1
        if action == "new_channel":
            return self.data is not None and self.active == CHAT
        if action == "edit_trip":
            return self.data is not None
        if action == "members":
            return self.data is not None  # on fixed data it shows them; a change says there is no service
        if action in ("export", "undo"):
            return self.data is not None and not self.frozen
        if action == "activity":
            return self.data is not None
        if action in ("retry_outbox", "discard_outbox"):
            return any(item.error for item in self.outbox_items())
        if action == "toggle_done":
            return self.data is not None and self.active == 3
        return True

    # --- editing -------------------------------------------------------------------------

    def highlighted_row(self, name: str):
        """The row under the cursor of the pane that shows `name`, or None."""
        if self.data is None:
            return None
        pane = self.panes()[next(number for number, kind in KIND_OF_PANE.items() if kind == name)]
        option = pane.query_one(RowList).highlighted_option
        if option is None or option.disabled or option.id is None:
            return None
        rows, _ = self._overlaid(name)
        return next((row for row in rows if row.id == option.id), None)

    def _not_sent_yet(self, row) -> bool:
        """A row created offline cannot be changed before the service has it (it has no id there)."""
        if pending.is_new(row):
            self.notify(
                "Not sent yet: it can be changed once the service has it (or discard it with X).", timeout=4
            )
            return True
        return False

    def action_new_item(self) -> None:
        self._open_form(KIND_OF_PANE[self.active], None)

    def action_edit_item(self) -> None:
        name = KIND_OF_PANE[self.active]
        row = self.highlighted_row(name)
        if row is None:
            self.notify("Nothing highlighted to edit.", timeout=3)
            return
        if not self._not_sent_yet(row):
            self._open_form(name, row)

    def _open_form(self, name: str, row) -> None:
        from app.tui.screens.form import FormScreen

        assert self.data is not None
        kind = editing.item_kind(name, self.data)
        values = form_values(kind.fields, row, editing.defaults(name, self.data))
        title = f"Edit {kind.noun}: {kind.describe(row)}" if row is not None else f"New {kind.noun}"
        save = editing.saver(
            None if self.frozen else self.client,
            self.trip_id,
            kind,
            row,
            outbox=None if self.frozen else self.app.outbox,
        )
        self.app.push_screen(
            FormScreen(title, kind.fields, values, save), lambda saved: self._written(name, saved)
        )

    def _written(self, name: str, saved) -> None:
        from app.tui.screens.form import Queued

        if saved is None or self.frozen:
            return
        if isinstance(saved, Queued):
            self._queued()
            return
        if isinstance(saved, Leg) and (outside := conflicts.outside_leg(saved)):
            self.notify(
                "\n".join(conflict.message for conflict in outside),
                title="Outside the leg's dates",
                severity="warning",
                timeout=8,
                markup=False,
            )
        if getattr(saved, "id", None):  # a new row comes with the reload: the cursor goes to it
            pane = self.panes()[next(number for number, kind in KIND_OF_PANE.items() if kind == name)]
            pane.query_one(RowList).wanted = saved.id
        self._stale |= {name, "trip"} | ({"pins"} if name == "legs" else set())
        self.refresh_stale()

    def action_delete_item(self) -> None:
        from app.tui.screens.modals import ConfirmScreen

        name = KIND_OF_PANE[self.active]
        row = self.highlighted_row(name)
        if row is None or self.data is None:
            self.notify("Nothing highlighted to delete.", timeout=3)
            return
        if self._not_sent_yet(row):
            return
        kind = editing.item_kind(name, self.data)
        question = Text.assemble(
            f"Delete the {kind.noun} ", literal(kind.describe(row), "bold", single_line=True), "?"
        )

        def answered(yes: bool | None) -> None:
            if yes and not self.frozen:
                self.delete_row(name, kind.delete, row.id, f"delete {kind.noun} {kind.describe(row)}")

        self.app.push_screen(ConfirmScreen(question), answered)

    @work(group="write", exit_on_error=False, description="Deleting")
    async def delete_row(self, name: str, method: str, row_id: str, label: str = "delete") -> None:
        key = new_key()  # kept if the delete has to wait in the outbox: a resend cannot delete twice
        if not self._outbox_waiting():
            try:
                await getattr(self.client, method)(self.trip_id, row_id, idempotency_key=key)
            except TripConnectionError:
                pass
            else:
                self._written(name, True)
                return
        self._queue_write(name, "delete", row_id, label=label, key=key)

    def _outbox_waiting(self) -> bool:
        """Earlier writes or messages of this trip wait in the outbox: a new write goes behind them."""
        return self.app.outbox.waiting(self.trip_id)

    def _queue_write(
        self,
        name: str,
        action: str,
        row_id: str | None,
        *,
        label: str,
        key: str,
        body: dict | None = None,
        base: dict | None = None,
    ) -> None:
        """Keep a write the service could not take (or that must wait its turn) in the outbox."""
        outbox = self.app.outbox
        outbox.add_write(
            self.trip_id, name, action, row_id, body=body, base=base, label=label, idempotency_key=key
        )
        self.notify(
            f'"{clean(label, single_line=True)}" is saved on this computer, not yet on the service: '
            "it is sent as soon as the service can be reached (see the outbox bar).",
            title="Queued",
            timeout=6,
            markup=False,
        )
        self._queued()

    def _queued(self) -> None:
        self._show_outbox()
        if self.online:
            self.flush_outbox()  # it may wait only for its turn behind others: send them all now

    def action_move_leg(self, step: int) -> None:
        leg = self.highlighted_row("legs")
        if leg is None or self.frozen or self.data is None or self._not_sent_yet(leg):
            return
        if not self.data.legs.complete:
            self.notify("Scroll to the last leg first: a reorder names every leg.", timeout=4)
            return
        self.move_leg(leg.id, step)

    @work(group="reorder", exit_on_error=False, description="Moving the leg")
    async def move_leg(self, leg_id: str, step: int) -> None:
        """One `reorder` op checked against the revision the list on screen came from. Moves run
        one after another (a quick K K must not race itself). When someone changed the trip
        first, show their operations and let the user decide."""
        async with self._move_lock:
            if self.data is None:
                return
            base_revision = self.data.trip.revision
            order = [leg.id for leg in self.data.legs.items]
            new_order = editing.moved(order, leg_id, step)
            if new_order == order:
                return
            try:
                result = await self.client.apply_op(
                    self.trip_id, base_revision=base_revision, type="reorder", payload={"leg_ids": new_order}
                )
            except NotSupportedError:  # no ops on this service: plain PATCHes of `order`
                await self._reorder_by_patch(leg_id, new_order)
                return
            except StaleRevisionError:
                try:
                    diff = await self.client.get_itinerary_diff(self.trip_id, base_revision)
                except TripError:
                    diff = None
                title = next((leg.title for leg in self.data.legs.items if leg.id == leg_id), leg_id)
                what = f"move {title} {'up' if step < 0 else 'down'}"

                def decided(reapply: bool | None) -> None:
                    if reapply:
                        self.reapply_move(leg_id, step)
                    else:
                        self._written("legs", True)  # show their version

                self.app.push_screen(StaleRevisionScreen(what, diff), decided)
                return
            by_id = {leg.id: leg for leg in self.data.legs.items}
            self.data.legs.items = [by_id[i] for i in new_order if i in by_id]
            self.data.trip = self.data.trip.model_copy(update={"revision": result.new_revision})
            self._show_legs()
            leg_list = self.query_one(LegsTimeline).query_one(RowList)
            leg_list.highlighted = leg_list.get_option_index(leg_id)  # nights without a stay have rows too
        self._written("legs", True)

    async def _reorder_by_patch(self, leg_id: str, new_order: list[str]) -> None:
        from app.tui.reorder import reorder_by_patch

        assert self.data is not None
        legs = await reorder_by_patch(self.client, self.trip_id, self.data.legs.items, new_order)
        if legs is None:
            self.notify(
                "Someone changed the legs meanwhile: here is their order; move again if you still want to.",
                title="Not moved",
                severity="warning",
                timeout=8,
            )
        else:
            self.data.legs.items = legs
            self._show_legs()
            leg_list = self.query_one(LegsTimeline).query_one(RowList)
            leg_list.highlighted = leg_list.get_option_index(leg_id)
        self._written("legs", True)

    @work(group="reorder", exit_on_error=False, description="Moving the leg again")
    async def reapply_move(self, leg_id: str, step: int) -> None:
        """The same move on the trip as it is now: the fresh revision and every leg's order."""
        trip = await self.client.get_trip(self.trip_id)
        legs = [leg async for leg in self.client.iterate_legs(self.trip_id, page_size=200)]
        if self.data is not None:
            self.data.trip = trip
            self.data.legs = Paged(legs, None)
            self._show_legs()
        if leg_id not in {leg.id for leg in legs}:
            self.notify("That leg was deleted meanwhile; nothing to move.", timeout=4)
            return
        self.move_leg(leg_id, step)

    def action_members(self) -> None:
        from app.tui.screens.members import MembersScreen

        if self.data is not None:
            self.app.push_screen(
                MembersScreen(self.trip_id, self.data.me.id, list(self.data.members)), self._members_closed
            )

    def _members_closed(self, members) -> None:
        if members is not None and self.data is not None:
            self.data.members = list(members)
            self._show_checklist()
            self.refresh_bindings()

    def action_activity(self) -> None:
        """Every change to the trip, live; Enter for details, r to revert (app/tui/screens/activity.py)."""
        from app.demo.activity import activity as demo_activity
        from app.tui.activity import ActivityFeed
        from app.tui.screens.activity import ActivityScreen

        feed = (
            ActivityFeed(None, self.trip_id, demo_activity())
            if self.frozen
            else ActivityFeed(self.client, self.trip_id)
        )
        self.app.push_screen(ActivityScreen(feed, may_revert=self.may_edit, news=self.operations_arrived))

    @work(group="undo", exclusive=True, exit_on_error=False, description="Undoing your last change")
    async def action_undo(self) -> None:
        from app.tui.activity import undo_my_last

        if self.data is not None and self.data.me is not None:
            self.notify(
                await undo_my_last(self.client, self.trip_id, self.data.me.id),
                title="Undo",
                timeout=8,
                markup=False,
            )

    def action_edit_trip(self) -> None:
        """Title and dates of the trip, with the same conflict check as the items' forms."""
        from app.tui.forms import FieldSpec, changed_fields, request_body
        from app.tui.screens.form import ChangedOnServer, FormScreen, Queued

        if self.data is None:
            return
        specs = [
            FieldSpec("title", "Title", required=True),
            FieldSpec("startDate", "Start date", placeholder="YYYY-MM-DD", required=True),
            FieldSpec("endDate", "End date", placeholder="YYYY-MM-DD", required=True),
        ]
        loaded = self.data.trip.model_copy()

        def comparable(trip) -> dict:
            return editing.comparable("trip", trip)  # without the revision: it moves with every item change

        def queue(body: dict, base, key: str) -> Queued:
            editing.check("trip", "update", body)
            label = f"edit trip {base.title}"
            outbox = self.app.outbox
            outbox.add_write(
                self.trip_id,
                "trip",
                "update",
                self.trip_id,
                body=body,
                base=comparable(base),
                label=label,
                idempotency_key=key,
            )
            return Queued(label)

        async def save(values: dict, overwrite: bool):
            if self.frozen:
                raise RuntimeError("no trip service to save to (fixed demo data)")
            key = new_key()  # one per save: kept if the edit has to wait in the outbox
            if self._outbox_waiting():
                body = request_body(specs, values, loaded)
                return queue(body, loaded, key) if body else loaded
            try:
                fresh = await self.client.get_trip(self.trip_id)
            except TripConnectionError:
                body = request_body(specs, values, loaded)
                if not body:
                    raise
                return queue(body, loaded, key)
            if comparable(fresh) != comparable(loaded) and not overwrite:
                raise ChangedOnServer(
                    changed_fields(specs, loaded, fresh) or [("(status)", "", "changed")], fresh
                )
            body = request_body(specs, values, fresh)
            if not body:
                return fresh
            try:
                return await self.client.update_trip(self.trip_id, body, idempotency_key=key)
            except TripConnectionError:
                return queue(body, fresh, key)  # it may have arrived: the key makes a resend harmless

        def saved(trip) -> None:
            if isinstance(trip, Queued):
                self._queued()
            elif trip is not None and self.data is not None:
                self.data.trip = trip
                self._show_header()
                self._show_legs()

        self.app.push_screen(FormScreen("Edit trip", specs, form_values(specs, loaded), save), saved)

    def action_new_channel(self) -> None:
        from app.tui.forms import FieldSpec
        from app.tui.screens.form import FormScreen

        specs = [FieldSpec("name", "Name", required=True)]

        async def save(values: dict, overwrite: bool):
            if self.frozen:
                raise RuntimeError("no trip service to save to (fixed demo data)")
            return await self.client.create_channel(self.trip_id, values.get("name") or "")

        def saved(channel) -> None:
            if channel is not None:
                self.refresh_channels([])

        self.app.push_screen(FormScreen("New channel", specs, {"name": ""}, save), saved)

    def action_export(self, format: str) -> None:
        self.export(format)

    @work(group="export", exclusive=True, exit_on_error=False, description="Exporting")
    async def export(self, format: str) -> None:
        """The whole trip through the export endpoint, written as an .ics calendar (legs and
        commitments, with their time zones) or GeoJSON (map pins) in the export directory."""
        import json

        from app.formats.geojson import to_geojson
        from app.formats.ics import to_ics

        exported = await self.client.export_trip(self.trip_id)
        if format == "ics":
            body, suffix = to_ics(exported), "ics"
        else:
            body, suffix = json.dumps(to_geojson(exported), ensure_ascii=False, indent=2), "geojson"
        directory = self.app.export_dir
        path = directory / f"trip-{self.trip_id}.{suffix}"
        await asyncio.to_thread(path.write_text, body, encoding="utf-8")
        self.notify(f"Wrote {path}", timeout=6, markup=False)

    def action_toggle_done(self) -> None:
        item = self.highlighted_row("action_items")
        if item is not None and not self.frozen and not self._not_sent_yet(item):
            self.toggle_done(item, not item.done)

    @work(group="write", exit_on_error=False, description="Ticking the item")
    async def toggle_done(self, item, done: bool) -> None:
        key = new_key()  # kept if the tick has to wait in the outbox
        body = {"done": done}
        if not self._outbox_waiting():
            try:
                await self.client.update_action_item(self.trip_id, item.id, body, idempotency_key=key)
            except TripConnectionError:
                pass
            else:
                self._written("action_items", True)
                return
        self._queue_write(
            "action_items",
            "update",
            item.id,
            body=body,
            key=key,
            base=editing.comparable("action_items", item),
            label=f"{'tick' if done else 'untick'} {item.text}",
        )

    @on(DescendantFocus)
    def _pane_focused(self, event: DescendantFocus) -> None:
        for ancestor in event.widget.ancestors_with_self:
            if isinstance(ancestor, Pane):
                if ancestor.number != self.active:
                    self.active = ancestor.number
                return

    # --- loading ---------------------------------------------------------------------------

    @property
    def client(self):
        return self.app.client

    @work(exclusive=True, group="trip-load", exit_on_error=False, description="Loading the trip")
    async def load(self) -> None:
        """Reads the trip; while the service cannot be reached (a TUI started before it, or a
        reload that met a lost connection) shows the offline banner and tries again with backoff,
        on its own, until it answers."""
        backoff = Backoff(initial=self.app.reconnect_after)
        while True:
            try:
                data, cursor = await self._read_trip()
            except TripError as error:
                # Unreachable, the key refused, the trip not found: said where the trip would
                # be, with the banner, and tried again with backoff (the key may be fixed, the
                # membership restored, the service restarted with the right database).
                delay = backoff.next_delay()
                unreachable = isinstance(error, TripConnectionError)
                self.post_message(
                    self.WentOffline(backoff.failures, delay, None if unreachable else describe(error))
                )
                self._show_unavailable(error)
                await asyncio.sleep(delay)
                continue
            if backoff.failures:
                self.post_message(self.CameBack(reload=False))
            self.post_message(self.Loaded(data, cursor))
            return

    def _show_unavailable(self, error: BaseException) -> None:
        """Before the first answer: what went wrong and what to do, where the trip would be."""
        if self.data is None and self.is_mounted:
            url = self.app.service_url
            self.query_one("#waiting", Static).update(
                Text(failures.unavailable(error, url, self.trip_id or None), style=palette.ALERT)
            )

    async def _read_trip(self) -> tuple[TripData, str | None]:
        if self.read_only:
            return await loading.load_shared(self.app.shared), None
        chat = self.query_one(ChannelChat)
        preload = self.app.take_preload(self.trip_id) if self.follower is None else None
        if preload is not None:
            return await preload
        return await loading.load_trip(
            self.client, self.trip_id, channel_id=chat.active, with_cursor=self.follower is None
        )

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        if self.data is not None and event.data.summary is None:
            event.data.summary = self.data.summary  # keep the conflicts shown until fresh ones come
        self.data = event.data
        self._show(event.data)
        self._reveal_panes()
        self.refresh_bindings()  # which keys are offered depends on the role and the data
        if self.read_only:
            self.trip_id = event.data.trip.id
            if self.watcher is None:
                self.watch_shared(event.data.trip.revision)
            return  # a share link offers no summary, and nothing waits to be sent
        if self.follower is None and event.cursor is not None:
            self.follow(event.cursor)
        elif self.follower is None and self.poller is None:
            self.poll(event.data)  # no changes feed on this service
        if event.data.me is not None:
            self.app.know_user(event.data.me)
            self._show_outbox()
        if self.outbox_items():
            self.flush_outbox()
        # After the filled panes are painted: parsing the summary must not delay the first paint.
        self.call_after_refresh(self.load_summary)

    def _reveal_panes(self) -> None:
        """Shows the panes on the first answer, and gives the chosen one the keyboard."""
        panes = self.query_one("#panes")
        if panes.styles.visibility == "hidden":
            panes.styles.visibility = "visible"
            self.query_one("#waiting").remove()
            self.panes()[self.active].focus_pane()  # now, so that the filled panes paint once

    def load_summary(self) -> None:
        """Conflicts for the agenda, asked for after the panes are filled since the service may
        take a while on a huge trip. One request at a time: a change meanwhile asks again after."""
        if self._summary_running:
            self._summary_stale = True
            return
        self._summary_running = True
        self._fetch_summary()

    @work(group="summary", exit_on_error=False, description="Loading the itinerary summary")
    async def _fetch_summary(self) -> None:
        try:
            while True:
                self._summary_stale = False
                summary = await loading.load_summary(self.client, self.trip_id, self.data)
                if self.data is not None:
                    self.data.summary = summary
                    self._show_header()
                    self._show_legs()
                    self._show_pins()
                    self._show_agenda()
                if not self._summary_stale:
                    return
        finally:
            self._summary_running = False

    def _show(self, data: TripData) -> None:
        self._show_header()
        self._show_legs()
        self._show_pins()
        self._show_checklist()
        self._show_agenda()
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
        self._show_tabs()

    def _overlaid(self, name: str) -> tuple[list, dict[str, str]]:
        """The rows of `name` as they will be once the outbox has sent what waits, and a note per
        row a waiting write touches (see app/tui/pending.py)."""
        assert self.data is not None
        writes = [item for item in self.outbox_items() if isinstance(item, PendingWrite)]
        return pending.overlay(name, getattr(self.data, name).items, writes)

    def _show_rows(self, pane: Pane, name: str) -> list:
        rows, notes = self._overlaid(name)
        pane.query_one(RowList).pending = notes
        return rows

    def _show_legs(self) -> None:
        data = self.data
        if data is None:
            return
        timeline = self.query_one(LegsTimeline)
        rows = self._show_rows(timeline, "legs")
        clock = self.app.clock
        timeline.show(
            data.trip,
            rows,
            more=not data.legs.complete,
            today=clock.today(),
            viewer=clock.zone,
            conflicts=conflicts.every_conflict(data.summary, rows),
        )

    def _show_pins(self) -> None:
        data = self.data
        if data is None:
            return
        bounds = data.summary.trip_bounds if data.summary else None
        pins = self.query_one(MapPins)
        pins.show(self._show_rows(pins, "pins"), data.legs.items, bounds, more=not data.pins.complete)

    def _show_checklist(self) -> None:
        data = self.data
        if data is None:
            return
        owners = {member.user_id: member.name for member in data.members}
        checklist = self.query_one(Checklist)
        checklist.show(
            self._show_rows(checklist, "action_items"), owners, more=not data.action_items.complete
        )

    def _show_agenda(self) -> None:
        data = self.data
        if data is None:
            return
        clock = self.app.clock
        agenda = self.query_one(Agenda)
        agenda.show(
            self._show_rows(agenda, "commitments"),
            conflicts=data.summary.conflicts if data.summary else [],
            leg_names={leg.id: leg.title for leg in data.legs.items},
            leg_zones={leg.id: leg.timezone for leg in data.legs.items},
            pin_names={pin.id: pin.name for pin in data.pins.items},
            today=clock.today(),
            viewer=clock.zone,
            more=not data.commitments.complete,
            legs=self._overlaid("legs")[0],  # their flights, on the days they depart
        )

    _SHOW = {
        "legs": "_show_legs",
        "pins": "_show_pins",
        "action_items": "_show_checklist",
        "commitments": "_show_agenda",
    }
    _LIST_OF = {
        "leg-list": "legs",
        "pin-list": "pins",
        "checklist-items": "action_items",
        "agenda-list": "commitments",
    }

    # --- paging ----------------------------------------------------------------------------

    @on(RowList.NearEnd)
    def _near_end(self, event: RowList.NearEnd) -> None:
        kind = self._LIST_OF.get(event.row_list.id or "")
        if kind is None or self.data is None or self.frozen or kind in self._loading_more:
            return
        paged: Paged = getattr(self.data, kind)
        if paged.next_cursor is None:
            return
        self._loading_more.add(kind)
        self.load_more(kind, paged.next_cursor)

    @work(group="more", exit_on_error=False, description="Loading more rows")
    async def load_more(self, kind: str, cursor: str) -> None:
        try:
            page = await loading.load_page(self.client, self.trip_id, kind, cursor=cursor)
        finally:
            self._loading_more.discard(kind)
        if self.data is None:
            return
        paged: Paged = getattr(self.data, kind)
        if paged.next_cursor != cursor:
            return
        known = {row.id for row in paged.items}
        paged.items.extend(row for row in page.items if row.id not in known)
        paged.next_cursor = page.next_cursor
        getattr(self, self._SHOW[kind])()
        if kind in ("legs", "pins"):
            self._show_agenda()

    @on(ChannelChat.OlderWanted)
    def _older_wanted(self, event: ChannelChat.OlderWanted) -> None:
        if self.frozen:
            self.query_one(ChannelChat).older_failed(event.channel_id)
            return
        self.load_older(event.channel_id, event.cursor)

    @work(group="older", exit_on_error=False, description="Loading older messages")
    async def load_older(self, channel_id: str, cursor: str) -> None:
        chat = self.query_one(ChannelChat)
        try:
            page = await loading.load_messages(self.client, self.trip_id, channel_id, cursor=cursor)
        except BaseException:
            chat.older_failed(channel_id)
            raise
        chat.show_older(channel_id, page)

    @on(ChannelChat.ChannelOpened)
    def _channel_opened(self, event: ChannelChat.ChannelOpened) -> None:
        if not self.frozen:
            self.load_channel(event.channel_id)

    @work(group="channel", exclusive=True, exit_on_error=False, description="Loading the channel")
    async def load_channel(self, channel_id: str) -> None:
        page = await loading.load_messages(self.client, self.trip_id, channel_id)
        self.query_one(ChannelChat).show_history(channel_id, page)

    @on(ChannelChat.UnreadChanged)
    def _unread_changed(self, event: ChannelChat.UnreadChanged) -> None:
        self.query_one(PaneTabs).show(self.active, set(self.visible_panes()), event.unread, event.mentions)

    # --- sending ---------------------------------------------------------------------------

    @on(ChannelChat.MessageSent)
    def _message_sent(self, event: ChannelChat.MessageSent) -> None:
        if self.frozen:
            return
        outbox = self.app.outbox
        outbox.add(self.trip_id, event.channel_id, event.content, event.parent_id)
        self._show_outbox()
        self.flush_outbox()

    def outbox_items(self) -> list:
        outbox = getattr(self.app, "outbox", None)
        return (
            outbox.of_trip(self.trip_id)
            if outbox is not None and not self.frozen and not self.read_only
            else []
        )

    def _show_outbox(self) -> None:
        items = self.outbox_items()
        self.query_one(OutboxBar).show(items)
        waiting = {
            (item.id, item.kind, item.error is None) for item in items if isinstance(item, PendingWrite)
        }
        kinds = {kind for _, kind, _ in waiting ^ self._shown_writes}
        self._shown_writes = waiting
        if self.data is not None and kinds:
            for kind in kinds & set(self._SHOW):
                getattr(self, self._SHOW[kind])()

    @work(group="send", exit_on_error=False, description="Sending what waits in the outbox")
    async def flush_outbox(self) -> None:
        """Send what waits of this trip, messages and writes in one queue, oldest first (see
        app/tui/sender.py). Unreachable: stop and try again later with backoff. Then refresh the
        panes written to."""
        outbox = self.app.outbox
        written: set[str] = set()
        state = {"came_back": False}
        if self._flush_retry is not None:
            self._flush_retry.stop()
            self._flush_retry = None

        def sent(item, answer) -> None:
            if isinstance(item, PendingWrite):
                written.add(item.kind)
            state["came_back"] = state["came_back"] or (self._flush_backoff.failures > 0 and not self.online)
            self._flush_backoff.reset()
            self._show_sent(item, answer)

        reached = await sender.send_waiting(
            self.client,
            outbox,
            trip_id=self.trip_id,
            sent=sent,
            failed=lambda item, reason: self._show_outbox(),
        )
        if not reached:
            # Try again later on its own: the live feed may never notice an outage that happened
            # between two of its polls, so nothing else would trigger a send.
            delay = self._flush_backoff.next_delay()
            self._flush_retry = self.set_timer(delay, self.flush_outbox, name="outbox retry")
            self.post_message(self.WentOffline(self._flush_backoff.failures, delay))
        if state["came_back"]:
            # The service answers again: re-read what may have moved, after what waited is sent
            # (a read started before would bring back a list without the rows just created).
            self.post_message(self.CameBack())
        for name in written:
            self._written(name, True)

    def _show_sent(self, item, answer) -> None:
        """`item` left the outbox, the service took it: show it as it is now."""
        if isinstance(item, PendingWrite) and self.data is not None and item.kind in pending.ROW_MODELS:
            pending.settle(getattr(self.data, item.kind).items, item, answer)
        self._show_outbox()
        if isinstance(item, Pending):
            self.query_one(ChannelChat).receive([answer])

    def outbox_changed(self, item, answer, sent: bool) -> None:
        """The app sent (or had refused) an item of the outbox while this screen was open."""
        if self.frozen or item.trip_id != self.trip_id or not self.is_mounted:
            return
        if not sent:
            self._show_outbox()
            return
        self._show_sent(item, answer)
        if isinstance(item, PendingWrite):
            self._written(item.kind, True)

    def action_retry_outbox(self) -> None:
        outbox = self.app.outbox
        for item in self.outbox_items():
            if item.error:
                outbox.fail(item.id, None)
        self._show_outbox()
        self.flush_outbox()

    def action_discard_outbox(self) -> None:
        from app.tui.screens.modals import ConfirmScreen

        failed = [item for item in self.outbox_items() if item.error]
        if not failed:
            return
        item = failed[0]

        def answered(yes: bool | None) -> None:
            if yes:
                self.app.outbox.remove(item.id)
                self._show_outbox()

        what = "message" if isinstance(item, Pending) else "change"
        self.app.push_screen(
            ConfirmScreen(
                Text.assemble(
                    f"Discard the unsent {what} ", literal(item.label, "bold", single_line=True), "?"
                )
            ),
            answered,
        )

    # --- live ------------------------------------------------------------------------------

    @work(exclusive=True, group="changes", exit_on_error=False, description="Following live changes")
    async def follow(self, cursor: str) -> None:
        self.follower = Follower(
            self.client,
            self.trip_id,
            on_changes=lambda changes: self.post_message(self.ChangesArrived(changes)),
            on_offline=lambda attempt, delay, error: self.post_message(
                self.WentOffline(
                    attempt, delay, None if isinstance(error, TripConnectionError) else describe(error)
                )
            ),
            on_online=lambda: self.post_message(self.CameBack()),
            cursor=cursor,
            backoff=Backoff(initial=self.app.reconnect_after),
        )
        await self.follower.run()

    @work(exclusive=True, group="changes", exit_on_error=False, description="Polling for changes")
    async def poll(self, data: TripData) -> None:
        """The service has no changes feed: poll its plain endpoints, and learn which of our
        other extensions it lacks, so that their keys are not offered (app/tui/polling.py)."""
        from app.tui.polling import Poller

        chat = self.query_one(ChannelChat)
        self.poller = poller = Poller(
            self.client,
            self.trip_id,
            data.trip.revision,
            channels=lambda: [channel.id for channel in self.data.channels] if self.data else [],
            open_channel=lambda: chat.active,
            on_changes=lambda changes: self.post_message(self.ChangesArrived(changes)),
            on_offline=lambda attempt, delay, error: self.post_message(
                self.WentOffline(
                    attempt, delay, None if isinstance(error, TripConnectionError) else describe(error)
                )
            ),
            on_online=lambda: self.post_message(self.CameBack()),
            per_minute=self.app.poll_per_minute,
            backoff=Backoff(initial=self.app.reconnect_after),
        )
        poller.checked = {"chat": poller.clock(), "trip": poller.clock()}  # as fresh as the load
        for channel_id, page in data.messages.items():
            poller.know(channel_id, page.items)
        self._show_header()
        self.set_interval(1.0, self._show_freshness, name="freshness")
        try:
            await self.client.capabilities(self.trip_id)
        except TripError:
            pass  # the features stay unknown, so not offered; polling goes on
        self.refresh_bindings()
        await poller.run()

    @work(exclusive=True, group="changes", exit_on_error=False, description="Following the shared trip")
    async def watch_shared(self, revision: int) -> None:
        self.watcher = SharedWatcher(
            self.app.shared,
            revision,
            on_changed=lambda revision: self.load(),
            on_offline=lambda attempt, delay, error: self.post_message(
                self.WentOffline(
                    attempt, delay, None if isinstance(error, TripConnectionError) else describe(error)
                )
            ),
            on_online=lambda: self.post_message(self.CameBack()),
            interval=self.app.shared_interval,
            backoff=Backoff(initial=self.app.reconnect_after),
        )
        await self.watcher.run()

    @on(ChangesArrived)
    def _changes(self, event: ChangesArrived) -> None:
        changes = event.changes
        if changes.messages:
            chat = self.query_one(ChannelChat)
            if all(chat.knows(message.channel_id) for message in changes.messages):
                chat.receive(list(changes.messages))
            else:
                self.refresh_channels(list(changes.messages))  # someone made a channel
        if changes.operations:
            self.operations_arrived.publish(changes)
            self._stale |= kinds_changed([op.operation_type for op in changes.operations])
            self._stale.add("trip")
            self.refresh_stale()

    @work(group="channels", exit_on_error=False, description="Loading the channels")
    async def refresh_channels(self, messages: list) -> None:
        channels = (await self.client.list_channels(self.trip_id, limit=200)).items
        chat = self.query_one(ChannelChat)
        if self.data is not None:
            self.data.channels = list(channels)
            chat.show_channels(self.data.channels, self.data.me)
        chat.receive(messages)

    @work(exclusive=True, group="refresh", exit_on_error=False, description="Refreshing")
    async def refresh_stale(self) -> None:
        await asyncio.sleep(0.2)  # let a burst of operations arrive and refresh once
        kinds, self._stale = self._stale, set()
        try:
            await self._refresh(kinds)
        except BaseException:
            self._stale |= kinds
            raise

    async def _refresh(self, kinds: set[str]) -> None:
        data = self.data
        if data is None:
            return
        lists = [kind for kind in loading.KINDS if kind in kinds]
        pages = await asyncio.gather(
            *(
                loading.reload_rows(self.client, self.trip_id, kind, len(getattr(data, kind).items))
                for kind in lists
            )
        )
        data.trip = await self.client.get_trip(self.trip_id)
        if self.poller is not None:
            self.poller.revision = data.trip.revision  # seen: not news for the next poll
        for kind, page in zip(lists, pages, strict=False):
            setattr(data, kind, page)
        self._show_header()
        for kind in lists:
            getattr(self, self._SHOW[kind])()
        self._show_agenda()
        self.load_summary()

    @on(WentOffline)
    def _offline(self, event: WentOffline) -> None:
        self.online = False
        self.query_one(OfflineBanner).show_offline(
            self.app.service_url, event.attempt, event.retry_in, event.reason
        )
        self._show_header()

    @on(CameBack)
    def _came_back(self, event: CameBack) -> None:
        self.online = True
        self.query_one(OfflineBanner).hide()
        self._show_header()
        self.notify("Back online.", timeout=3)
        if event.reload:
            self.load()
