"""The trip screen's frame: the trip header, the pane tabs, the offline banner and the footer."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Static
from textual.widgets._footer import FooterKey

from app.domain.models import Me, Trip
from app.tui import palette
from app.tui.formatting import date_range, parse_date
from app.tui.text import clean, one_line
from app.tui.widgets.pane import OneLine


class TripHeader(OneLine):
    """Title, dates, status and revision of the trip, how many conflicts the panes mark, who you
    are, and whether we are live.

    Parts never run into each other: at least two cells apart, and when the row is too narrow
    for all of them, whole parts go (the revision, the status, your name, the dates) before the
    title is cut further than a few cells."""

    COMPONENT_CLASSES = {
        "trip-header--badge",
        "trip-header--name",
        "trip-header--live",
        "trip-header--active",
    }

    GAP = 2
    TITLE_ROOM = {"revision": 16, "status": 16, "name": 8, "dates": 8}
    """Cells the title keeps before each part, least useful first, is dropped for it: the title
    says which trip this is, more than its status does."""

    def show(
        self,
        trip: Trip | None,
        me: Me | None,
        *,
        online: bool,
        width: int,
        read_only: bool = False,
        conflicts: int = 0,
        updated: str | None = None,
        ended: str | None = None,
    ) -> None:
        """`updated`: how fresh a polled view is ("updated 10 s ago"), said instead of "● live";
        `ended`: why the view follows the trip no more ("link revoked"), said instead of either."""
        style = self.get_component_rich_style
        badge = Text(" ✈ Tripdeck ", style=style("trip-header--badge", partial=True))
        name = (
            one_line(me.name, style("trip-header--name", partial=True), width=20) if me is not None else None
        )
        marks = Text(no_wrap=True)
        if read_only:
            marks.append(
                "shared link · read-only" if width >= 120 else "read-only", style=f"bold {palette.MUTED}"
            )
            marks.append("  ")
        if ended is not None:
            marks.append(f"○ {ended} ", style=f"bold {palette.ALERT}")
        elif online and trip is None:
            marks.append("○ connecting ", style=palette.MUTED)  # "live" only once there is a live view
        elif online and updated is not None:
            marks.append(f"↻ {updated} ", style=palette.MUTED)
        else:
            marks.append(
                "● live " if online else "○ offline ",
                style=style("trip-header--live", partial=True) if online else f"bold {palette.ALERT}",
            )
        if trip is None:
            self.update(self._row(badge, Text("loading…", style=palette.MUTED), [], [name, marks], width))
            return
        start, end = parse_date(trip.start_date), parse_date(trip.end_date)
        dates = Text(date_range(start, end))
        status = Text(
            trip.status,
            style=style("trip-header--active", partial=True) if trip.status == "active" else palette.MUTED,
        )
        revision = Text(f"rev {trip.revision}", style=palette.MUTED) if width >= 120 else None
        title = Text(clean(trip.title, single_line=True), style="bold")
        count = None
        if conflicts:
            words = f" conflict{'s' if conflicts != 1 else ''}" if width >= 120 else ""
            count = Text(f"⚠ {conflicts}{words}", style=f"bold {palette.ALERT}")
        left: list[Text | None] = [dates, status, revision, count]  # the count is never dropped
        right: list[Text | None] = [name, marks]
        # Drop whole parts, least useful first, while the title has fewer cells than it keeps.
        slots = {"revision": (left, 2), "status": (left, 1), "name": (right, 0), "dates": (left, 0)}
        for part, keeps in self.TITLE_ROOM.items():
            if self._title_room(badge, left, right, width) < min(title.cell_len, keeps):
                parts, index = slots[part]
                parts[index] = None
        self.update(self._row(badge, title, left, right, width))

    def _parts(self, parts: list[Text | None]) -> Text:
        return Text(" " * self.GAP).join(part for part in parts if part is not None and part.cell_len)

    def _title_room(self, badge: Text, left: list[Text | None], right: list[Text | None], width: int) -> int:
        rest = self._parts(left).cell_len + (self.GAP if any(left) else 0)
        return width - badge.cell_len - 1 - rest - self.GAP - self._parts(right).cell_len

    def _row(
        self, badge: Text, title: Text, left: list[Text | None], right: list[Text | None], width: int
    ) -> Text:
        room = max(self._title_room(badge, left, right, width), 1)
        title = title.copy()
        title.truncate(room, overflow="ellipsis")
        row = Text(no_wrap=True, overflow="ellipsis")
        row.append_text(badge)
        row.append(" ")
        row.append_text(self._parts([title, *left]))
        tail = self._parts(right)
        row.truncate(max(width - tail.cell_len - self.GAP, 0), overflow="ellipsis", pad=True)
        row.append(" " * self.GAP)
        row.append_text(tail)
        row.truncate(width, overflow="ellipsis")
        return row


class PaneTabs(OneLine):
    """'1 Legs  2 Map  3 Checklist  4 Agenda  5 Chat' with the visible panes highlighted."""

    COMPONENT_CLASSES = {
        "pane-tabs--active",
        "pane-tabs--visible",
        "pane-tabs--hidden",
        "pane-tabs--unread",
        "pane-tabs--mention",
    }

    NAMES = ((1, "Legs"), (2, "Map"), (3, "Checklist"), (4, "Agenda"), (5, "Chat"))

    def show(self, active: int, visible: set[int], unread: int, mentions: int) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        for number, name in self.NAMES:
            tab = "active" if number == active else "visible" if number in visible else "hidden"
            text.append(
                f" {number} {name} ", style=self.get_component_rich_style(f"pane-tabs--{tab}", partial=True)
            )
            if number == 5 and unread:
                text.append(
                    f" {unread}", style=self.get_component_rich_style("pane-tabs--unread", partial=True)
                )
            if number == 5 and mentions:
                text.append(
                    f" @{mentions}", style=self.get_component_rich_style("pane-tabs--mention", partial=True)
                )
            text.append(" ")
        text.append(" tab next · ? help · ctrl+p commands", style=palette.MUTED)
        self.update(text)


class OfflineBanner(Static):
    """Shown while the service cannot be reached; says when the next attempt is. Said in as many
    whole phrases as fit the width (never cut mid-sentence), the retry always among them."""

    COMPONENT_CLASSES = {"offline-banner--label"}

    _state: tuple[str, int, float, str | None] | None = None
    _ended: str | None = None
    """Why the view follows the trip no more, when retrying cannot help (a revoked share link)."""

    def show_offline(self, url: str, attempt: int, retry_in: float, reason: str | None = None) -> None:
        """`reason` is None when the service cannot be reached, else what it answered."""
        self._state, self._ended = (url, attempt, retry_in, reason), None
        self.display = True
        self.refresh()

    def show_ended(self, said: str) -> None:
        """The service answers, but no retry will show the trip again: `said` says why and what
        to do; no retry is promised."""
        self._state, self._ended = None, said
        self.display = True
        self.refresh()

    def hide(self) -> None:
        self.display = False
        self._ended = None

    def render(self) -> Text:
        if self._ended is not None:
            return self._render_ended(self._ended)
        if self._state is None:
            return Text()
        url, attempt, retry_in, reason = self._state
        width = self.size.width or 80
        label = Text(" OFFLINE ", style=self.get_component_rich_style("offline-banner--label", partial=True))
        retry = f"retry {attempt} in {retry_in:.0f}s"
        opening, value = ("cannot reach ", url) if reason is None else ("the service answered ", reason)
        room = width - label.cell_len - 1 - len(opening) - 3 - len(retry)
        cause = Text(opening)
        cause.append_text(one_line(value, width=max(min(room, 60), 8)))  # the address or answer, cut last
        variants = [
            [cause, Text(retry), Text("what you see may be out of date")],
            [cause, Text(retry), Text("may be out of date")],
            [cause, Text(retry)],
            [Text(f"retry in {retry_in:.0f}s")],
        ]
        for parts in variants:
            text = Text.assemble(label, " ", Text(" · ").join(parts), no_wrap=True)
            if text.cell_len <= width:
                return text
        text.truncate(width, overflow="ellipsis")
        return text

    def _render_ended(self, said: str) -> Text:
        width = self.size.width or 80
        label = Text(
            " NOT SHARED ", style=self.get_component_rich_style("offline-banner--label", partial=True)
        )
        for parts in ([said, "what you see is as it was"], [said]):
            text = Text.assemble(label, " ", " · ".join(parts), no_wrap=True)
            if text.cell_len <= width:
                return text
        text.truncate(width, overflow="ellipsis")
        return text


class OutboxBar(Static):
    """What waits in the offline outbox (messages by their text, writes by what they are: "edit
    leg Lisbon"): pending ones, and failed ones with their error. All of it user text, literal."""

    COMPONENT_CLASSES = {"outbox-bar--failed", "outbox-bar--pending"}

    def show(self, items: list) -> None:
        self.display = bool(items)
        text = Text()
        for index, item in enumerate(items[-4:]):
            if index:
                text.append("\n")
            if item.error:
                text.append(
                    " ✗ NOT SENT ", style=self.get_component_rich_style("outbox-bar--failed", partial=True)
                )
                text.append(" ")
                text.append_text(one_line(item.label, width=30))
                text.append(" · ")
                text.append_text(one_line(item.error, palette.ALERT, width=50))
                text.append(" · R retry · X discard", style=palette.MUTED)
            else:
                text.append(
                    " ⏳ pending ", style=self.get_component_rich_style("outbox-bar--pending", partial=True)
                )
                text.append(" ")
                text.append_text(one_line(item.label, width=60))
        if len(items) > 4:
            text.append(f"\n … and {len(items) - 4} more", style=palette.MUTED)
        self.update(text)


class CoalescingFooter(Footer):
    """Textual's footer, rebuilt at most once per refresh and only when the keys it shows changed,
    with only the keys that fit whole.

    Textual's own footer rebuilds all its keys after every bindings update; opening a trip
    sends several (focus moves, the data arrives, the role is known), and each rebuild restyles
    every key: about a third of the CPU time between the trip screen's mount and its first
    populated paint, for a footer that ends up showing the same keys.

    Its keys run on under the palette key when they are too many: at 80 columns the last one
    showed as a lone `?`. Here the keys that do not fit are left out whole, the help key kept
    (`?` and the palette list every key)."""

    KEPT = frozenset({"help", "close"})
    """Actions whose key stays when others are left out for room: help, and the way out of a screen."""

    _rebuild_pending = False
    _shown: tuple | None = None
    _fitted_width = 0

    def compose(self) -> ComposeResult:
        widgets = list(super().compose())
        self._fitted_width = self.size.width
        yield from self._fitting(widgets, self.size.width)

    def _fitting(self, widgets: list[Widget], width: int) -> list[Widget]:
        """The widgets to show: in order, while they fit beside the palette key, and the kept ones."""
        keys = [widget for widget in widgets if isinstance(widget, FooterKey)]
        if not width or not self.compact or len(keys) != len(widgets):
            return widgets  # not laid out yet, or a style (groups, wide keys) measured otherwise

        def cells(key: FooterKey) -> int:  # a compact key: "key description"
            return cell_len(key.key_display) + (1 + cell_len(key.description) if key.description else 0)

        palette_keys = [key for key in keys if key.has_class("-command-palette")]
        room = width - sum(cells(key) + 1 for key in palette_keys)  # and its border on the left
        shown = [key for key in keys if key.action in self.KEPT and key not in palette_keys]
        for key in keys:
            if key in palette_keys or key in shown:
                continue
            # Each key is followed by a one-cell margin, the last one's under the palette's border.
            if sum(cells(other) + 1 for other in [*shown, key]) - 1 > room:
                break
            shown.append(key)
        return [key for key in keys if key in shown or key in palette_keys]

    def on_resize(self, event: events.Resize) -> None:
        if self._bindings_ready and event.size.width != self._fitted_width:
            self._fitted_width = event.size.width
            self.call_after_refresh(self.recompose)

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or self._rebuild_pending:
            return
        if self.is_attached and screen is self.screen:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild_if_changed)

    async def _rebuild_if_changed(self) -> None:
        self._rebuild_pending = False
        if not self.is_attached:
            return
        shown = tuple(
            (key, binding.key, binding.action, binding.description, binding.group, enabled, tooltip)
            for key, (_, binding, enabled, tooltip) in self.screen.active_bindings.items()
            if binding.show or key == self.app.COMMAND_PALETTE_BINDING
        )
        if shown != self._shown:
            self._shown = shown
            await self.recompose()
