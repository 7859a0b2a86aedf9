"""How the trip screen reacts to what its session, its writes, its chat and the app's outbox
sender report: the panes, header, banner and outbox bar shown as they say."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.screen import Screen
from textual.widgets import Static

from app.domain.models import Leg
from app.tui import conflicts, failures, palette, pending
from app.tui.data import TripData
from app.tui.kinds import BY_LIST, KINDS
from app.tui.outbox import Item, Pending, PendingWrite
from app.tui.polling import Poller
from app.tui.screens.base import TripdeckScreen
from app.tui.screens.conflict import StaleRevisionScreen
from app.tui.screens.trip_panes import TripPanes
from app.tui.session import TripSession
from app.tui.widgets.channel_chat import ChannelChat
from app.tui.widgets.pane import Pane, RowList
from app.tui.widgets.status import OfflineBanner, OutboxBar, PaneTabs, TripHeader
from app.tui.writes import TripWrites

if TYPE_CHECKING:
    from textual.signal import Signal

    from app.domain.itinerary import Changes


class TripReactions(TripdeckScreen, Screen):
    """The base of `TripScreen`, which owns the session, the writes and the layout."""

    session: TripSession
    writes: TripWrites
    active: int
    operations_arrived: Signal[Changes]
    _shown_writes: set[tuple[str, str, bool]]
    _freshness_shown: str | None

    if TYPE_CHECKING:

        def panes(self) -> dict[int, Pane]: ...
        def visible_panes(self) -> frozenset[int]: ...
        def _show_tabs(self) -> None: ...

    # --- what it shows ---------------------------------------------------------------------

    def _show_header(self) -> None:
        data = self.session.data
        self.query_one(TripHeader).show(
            data.trip if data else None,
            data.me if data else None,
            online=self.session.online,
            width=self.size.width,
            read_only=self.session.read_only,
            conflicts=len(conflicts.every_conflict(data.summary, data.legs.items)) if data else 0,
            updated=self._freshness(),
            ended="link revoked" if self.session.link_ended else None,
        )

    def _freshness(self) -> str | None:
        """How fresh a polled view is ("updated 10 s ago"); None when the changes feed keeps it live."""
        from app.tui.polling import freshness

        poller: Poller | None = self.session.poller
        if poller is None:
            return None
        updated = poller.updated_at
        self._freshness_shown = freshness(None if updated is None else poller.clock() - updated)
        return self._freshness_shown

    def _show_freshness(self) -> None:
        from app.tui.polling import freshness

        poller = self.session.poller
        updated = poller.updated_at if poller is not None else None
        if poller is not None and updated is not None:
            if freshness(poller.clock() - updated) != self._freshness_shown:
                self._show_header()

    def _show(self, data: TripData) -> None:
        self._show_header()
        self.query_one(TripPanes).show(data)
        self._show_tabs()

    def _show_outbox(self) -> None:
        items = self.session.outbox_items()
        self.query_one(OutboxBar).show(items)
        waiting = {
            (item.id, item.kind, item.error is None) for item in items if isinstance(item, PendingWrite)
        }
        kinds = {kind for _, kind, _ in waiting ^ self._shown_writes}
        self._shown_writes = waiting
        if self.session.data is not None and kinds:
            self.query_one(TripPanes).redraw(frozenset(kinds))

    def _reveal_panes(self) -> None:
        """Shows the panes on the first answer, and gives the chosen one the keyboard."""
        panes = self.query_one("#panes")
        if panes.styles.visibility == "hidden":
            panes.styles.visibility = "visible"
            self.query_one("#waiting").remove()
            self.panes()[self.active].focus_pane()  # now, so that the filled panes paint once

    # --- the session -------------------------------------------------------------------------

    def _take(self, data: TripData, cursor: str | None) -> None:
        self.session.arrived(data, cursor)
        self._show(data)
        self._reveal_panes()
        self.refresh_bindings()  # which keys are offered depends on the role and the data
        if self.session.read_only:
            return  # a share link offers no summary, and nothing waits to be sent
        if data.me is not None:
            self.app.know_user(data.me)
            self._show_outbox()
        if self.session.outbox_items():
            self.app.send_trip_outbox(self.session.trip_id)
        # After the filled panes are painted: parsing the summary must not delay the first paint.
        self.call_after_refresh(self.session.load_summary)

    @on(TripSession.Loaded)
    def _loaded(self, event: TripSession.Loaded) -> None:
        self._take(event.data, event.cursor)

    @on(TripSession.Unavailable)
    def _unavailable(self, event: TripSession.Unavailable) -> None:
        """Before the first answer: what went wrong and what to do, where the trip would be."""
        if self.session.data is None and self.is_mounted:
            said = failures.unavailable(event.error, self.app.service_url, self.session.trip_id or None)
            self.query_one("#waiting", Static).update(Text(said, style=palette.ALERT))

    @on(TripSession.Redraw)
    def _redraw(self, event: TripSession.Redraw) -> None:
        if "trip" in event.kinds:
            self._show_header()
        self.query_one(TripPanes).redraw(event.kinds)

    @on(TripSession.ChangesArrived)
    def _changes(self, event: TripSession.ChangesArrived) -> None:
        changes = event.changes
        if changes.messages:
            chat = self.query_one(ChannelChat)
            if all(chat.knows(message.channel_id) for message in changes.messages):
                chat.receive(list(changes.messages))
            else:
                self.session.refresh_channels(list(changes.messages))  # someone made a channel
        if changes.operations:
            self.operations_arrived.publish(changes)
            self.session.operations_arrived(changes)

    @on(TripSession.ChannelsLoaded)
    def _channels_loaded(self, event: TripSession.ChannelsLoaded) -> None:
        chat = self.query_one(ChannelChat)
        data = self.session.data
        if data is not None and data.me is not None:
            chat.show_channels(data.channels, data.me)
        chat.receive(event.messages)

    @on(TripSession.History)
    def _history(self, event: TripSession.History) -> None:
        chat = self.query_one(ChannelChat)
        if event.older:
            chat.show_older(event.channel_id, event.page)
        else:
            chat.show_history(event.channel_id, event.page)

    @on(TripSession.OlderFailed)
    def _older_failed(self, event: TripSession.OlderFailed) -> None:
        self.query_one(ChannelChat).older_failed(event.channel_id)

    @on(TripSession.Polling)
    def _polling(self) -> None:
        self._show_header()
        self.set_interval(1.0, self._show_freshness, name="freshness")

    @on(TripSession.FeaturesKnown)
    def _features_known(self) -> None:
        self.refresh_bindings()

    @on(TripSession.WentOffline)
    def _offline(self, event: TripSession.WentOffline) -> None:
        self.session.online = False
        self.query_one(OfflineBanner).show_offline(
            self.app.service_url, event.attempt, event.retry_in, event.reason
        )
        self._show_header()

    @on(TripSession.LinkEnded)
    def _link_ended(self) -> None:
        self.session.link_ended = True
        said = "this link no longer works: ask a member for a new one"
        self.query_one(OfflineBanner).show_ended(said)
        if self.session.data is None and self.is_mounted:
            self.query_one("#waiting", Static).update(
                Text(
                    "This share link no longer works: it was revoked, or it is mistyped. "
                    "Ask a member of the trip for a new one.",
                    style=palette.ALERT,
                )
            )
        self._show_header()

    @on(TripSession.CameBack)
    def _came_back(self, event: TripSession.CameBack) -> None:
        self.session.online = True
        self.query_one(OfflineBanner).hide()
        self._show_header()
        self.notify("Back online.", timeout=3)
        if event.reload:
            self.session.load()

    # --- the chat ----------------------------------------------------------------------------

    @on(RowList.NearEnd)
    def _near_end(self, event: RowList.NearEnd) -> None:
        kind = BY_LIST.get(event.row_list.id or "")
        if kind is not None:
            self.session.near_end(kind.name)

    @on(ChannelChat.OlderWanted)
    def _older_wanted(self, event: ChannelChat.OlderWanted) -> None:
        self.session.older(event.channel_id, event.cursor)

    @on(ChannelChat.ChannelOpened)
    def _channel_opened(self, event: ChannelChat.ChannelOpened) -> None:
        self.session.open(event.channel_id)

    @on(ChannelChat.UnreadChanged)
    def _unread_changed(self, event: ChannelChat.UnreadChanged) -> None:
        self.query_one(PaneTabs).show(self.active, set(self.visible_panes()), event.unread, event.mentions)

    @on(ChannelChat.MessageSent)
    def _message_sent(self, event: ChannelChat.MessageSent) -> None:
        outbox = self.session.outbox
        if outbox is None:
            return
        outbox.add(self.session.trip_id, event.channel_id, event.content, event.parent_id)
        self._show_outbox()
        self.app.send_trip_outbox(self.session.trip_id)

    # --- writes and the outbox ---------------------------------------------------------------

    @on(TripWrites.Written)
    def _wrote(self, event: TripWrites.Written) -> None:
        self._written(event.name, event.saved)

    def _written(self, name: str, saved: Any) -> None:
        from app.tui.screens.form import Queued

        if saved is None or not self.session.live:
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
            self.query_one(TripPanes).want(name, saved.id)
        self.session.stale({name, "trip", *KINDS[name].also_stale})

    def _not_sent_yet(self, row: Any) -> bool:
        """A row created offline cannot be changed before the service has it (it has no id there)."""
        if pending.is_new(row):
            self.notify(
                "Not sent yet: it can be changed once the service has it (or discard it with X).", timeout=4
            )
            return True
        return False

    def _members_closed(self, members: Any) -> None:
        data = self.session.data
        if members is not None and data is not None:
            data.members = list(members)
            self.query_one(TripPanes).redraw(frozenset({"action_items"}))
            self.refresh_bindings()

    def _trip_saved(self, trip: Any) -> None:
        from app.tui.screens.form import Queued

        data = self.session.data
        if isinstance(trip, Queued):
            self._queued()
        elif trip is not None and data is not None:
            data.trip = trip
            self._show_header()
            self.query_one(TripPanes).redraw(frozenset({"legs"}))

    def _channel_made(self, channel: Any) -> None:
        if channel is not None:
            self.session.refresh_channels([])

    @on(TripWrites.Waiting)
    def _queued(self) -> None:
        self._show_outbox()
        if self.session.online:
            # It may wait only for its turn behind others: send them all now.
            self.app.send_trip_outbox(self.session.trip_id)

    @on(TripWrites.Said)
    def _said(self, event: TripWrites.Said) -> None:
        severity: Any = event.severity
        self.notify(event.text, title=event.title, severity=severity, timeout=event.timeout, markup=False)

    @on(TripWrites.LegMoved)
    def _leg_moved(self, event: TripWrites.LegMoved) -> None:
        panes = self.query_one(TripPanes)
        panes.redraw(frozenset({"legs"}))
        panes.highlight_leg(event.leg_id)

    @on(TripWrites.MoveRefused)
    def _move_refused(self, event: TripWrites.MoveRefused) -> None:
        def decided(reapply: bool | None) -> None:
            if reapply:
                self.writes.move_again(event.leg_id, event.step)
            else:
                self._written("legs", True)  # show their version

        self.app.push_screen(StaleRevisionScreen(event.what, event.diff), decided)

    def _show_sent(self, item: Item, answer: Any) -> None:
        """`item` left the outbox, the service took it: show it as it is now."""
        data = self.session.data
        if isinstance(item, PendingWrite) and data is not None and item.kind in KINDS:
            pending.settle(getattr(data, item.kind).items, item, answer)
        self._show_outbox()
        if isinstance(item, Pending):
            self.query_one(ChannelChat).receive([answer])

    def outbox_changed(self, item: Item, answer: Any, sent: bool) -> None:
        """The app sent (or had refused) an item of the outbox while this screen was open."""
        if not self.session.live or item.trip_id != self.session.trip_id or not self.is_mounted:
            return
        if not sent:
            self._show_outbox()
            return
        self._show_sent(item, answer)
        if isinstance(item, PendingWrite):
            self._written(item.kind, True)

    def outbox_reached(self, trip_id: str, reached: bool, attempt: int, retry_in: float) -> None:
        """The app's sender could not reach the service (tries again in `retry_in` s), or reached
        it again after failing to."""
        if trip_id != self.session.trip_id or not self.is_mounted:
            return
        if not reached:
            self.post_message(TripSession.WentOffline(attempt, retry_in))
        elif not self.session.online:
            # The service answers again: re-read what may have moved, after what waited is sent
            # (a read started before would bring back a list without the rows just created).
            self.post_message(TripSession.CameBack())
