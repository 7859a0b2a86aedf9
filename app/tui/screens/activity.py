"""The activity screen: every change to the trip, newest first, with who made it, when, and one
sentence; live while it is open. Enter shows the change field by field; `r` reverts the
highlighted change after asking (a conflict shows the later changes and changes nothing)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from app.client import RevertConflictError
from app.domain.activity import Activity
from app.tui import palette
from app.tui.activity import ActivityFeed, shown_value, when, without_actor
from app.tui.notices import describe
from app.tui.screens.base import TripdeckScreen
from app.tui.text import literal, one_line
from app.tui.widgets.status import CoalescingFooter

if TYPE_CHECKING:
    from textual.signal import Signal

NEAR_END = 5
"""Rows from the end of what is loaded at which the next page is fetched."""


class ActivityList(OptionList):
    """One row per change: when, and the sentence (marked when it was undone)."""

    BINDINGS: ClassVar = [Binding("enter", "select", "Details", id="activity.details")]


class ActivityScreen(TripdeckScreen, ModalScreen[None]):
    CSS_PATH = Path(__file__).with_name("activity.tcss")
    BINDINGS: ClassVar = [
        Binding("r", "revert", "Revert", id="activity.revert"),
        Binding("escape,a", "close", "Close", id="activity.close"),
    ]

    def __init__(self, feed: ActivityFeed, *, may_revert: bool, news: Signal | None = None) -> None:
        super().__init__()
        self.feed = feed
        self.may_revert = may_revert
        self.news = news
        self.detail_of: str | None = None
        """The op_id whose details are shown (None: the details are hidden)."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide-dialog", id="activity-dialog"):
            yield Label("Activity")
            yield ActivityList(id="activity-list")
            yield Static("", id="activity-detail")
        yield CoalescingFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one("#activity-detail").display = False
        self._show()
        self.query_one(ActivityList).focus()
        if self.feed.client is not None:
            if not self.feed.items:
                self.query_one(ActivityList).set_options(
                    [Option(Text("Loading…", style=palette.MUTED), disabled=True)]
                )
            self.load()
            if self.news is not None:
                self.news.subscribe(self, lambda _changes: self.refresh_feed())

    @property
    def clock(self):
        return self.app.clock

    def highlighted(self) -> Activity | None:
        option = self.query_one(ActivityList).highlighted_option
        return next(
            (item for item in self.feed.items if option is not None and item.op_id == option.id), None
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "revert":
            return self.may_revert and self.feed.client is not None
        return True

    # --- showing ---------------------------------------------------------------------------

    def _show(self) -> None:
        rows = []
        for item in self.feed.items:
            text = Text(no_wrap=True, overflow="ellipsis")
            text.append(f"{when(item, self.clock):>12}  ", style=palette.MUTED)
            undone = item.reverted_by is not None
            if undone:  # before the sentence: a long one is cut at the right edge
                text.append("undone ", style=f"italic {palette.PENDING}")
            text.append_text(one_line(item.summary, palette.MUTED if undone else ""))
            rows.append(Option(text, id=item.op_id))
        if not rows:
            rows = [Option(Text("No changes yet.", style=palette.MUTED), disabled=True)]
        activity_list = self.query_one(ActivityList)
        highlighted = activity_list.highlighted
        activity_list.set_options(rows)
        if self.feed.items:
            activity_list.highlighted = min(highlighted or 0, len(rows) - 1)
        if self.detail_of is not None:
            self._show_detail()

    def _show_detail(self) -> None:
        item = next((i for i in self.feed.items if i.op_id == self.detail_of), None)
        detail = self.query_one("#activity-detail", Static)
        if item is None:
            detail.display = False
            return
        lines = Text()
        lines.append_text(literal(item.summary, "bold"))
        key = f" (key: {item.actor.key_name})" if item.actor.key_name else ""
        lines.append(
            f"\n{item.actor.name or 'someone'}{key} · {when(item, self.clock)} · revision "
            f"{item.result_revision}" + (" · undone since" if item.reverted_by else ""),
            style=palette.MUTED,
        )
        for change in item.changes:
            lines.append("\n")
            lines.append(f"{change.kind.replace('_', ' ')} ", style=palette.MUTED)
            lines.append_text(one_line(change.label or change.id, "bold", width=40))
            lines.append(f" {change.change}", style=palette.MUTED)
            for name, values in change.fields.items():
                lines.append(f"\n  {name:<14} ", style=palette.MUTED)
                if change.change == "updated":
                    lines.append_text(one_line(shown_value(values.before), palette.ALERT, width=28))
                    lines.append(" → ")
                if change.change == "deleted":
                    lines.append_text(
                        one_line(shown_value(values.before), f"strike {palette.ALERT}", width=56)
                    )
                else:
                    lines.append_text(
                        one_line(
                            shown_value(values.after),
                            palette.ADDED,
                            width=28 if change.change == "updated" else 56,
                        )
                    )
        if not item.changes:
            lines.append("\nNo rows changed.", style=palette.MUTED)
        elif item.changes_total > len(item.changes):
            lines.append(f"\n… and {item.changes_total - len(item.changes)} more rows", style=palette.MUTED)
        detail.update(lines)
        detail.display = True

    def _show_conflict(self, error: RevertConflictError) -> None:
        detail = self.query_one("#activity-detail", Static)
        lines = Text(
            "Not reverted: later changes touched the same fields. Revert them first, or leave it:",
            style=f"bold {palette.ALERT}",
        )
        for later in error.conflicting_operations:
            lines.append(f"\n{when(later, self.clock):>12}  ", style=palette.MUTED)
            lines.append_text(literal(later.summary, single_line=True))
        detail.update(lines)
        detail.display = True
        self.detail_of = None

    # --- keys -------------------------------------------------------------------------------

    @on(OptionList.OptionSelected, "#activity-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id == self.detail_of:
            self.detail_of = None
            self.query_one("#activity-detail").display = False
            return
        self.detail_of = event.option.id
        self._show_detail()

    @on(OptionList.OptionHighlighted, "#activity-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if self.detail_of is not None and event.option.id is not None:
            self.detail_of = event.option.id
            self._show_detail()
        if self.feed.next_cursor is not None and event.option_index >= len(self.feed.items) - NEAR_END:
            self.load_more()

    def action_revert(self) -> None:
        from app.tui.screens.modals import ConfirmScreen

        item = self.highlighted()
        if item is None:
            return
        question = Text.assemble(
            "Revert this change?\n",
            literal(item.summary, "bold"),
            ("\nIt is undone as a new change, which you can revert in turn.", palette.MUTED),
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.revert_change(item)

        self.app.push_screen(ConfirmScreen(question), answered)

    def action_close(self) -> None:
        self.dismiss(None)

    # --- work -------------------------------------------------------------------------------

    @work(group="activity", exclusive=True, exit_on_error=False, description="Loading the activity")
    async def load(self) -> None:
        await self.feed.load()
        self._show()

    @work(group="activity-more", exclusive=True, exit_on_error=False, description="Loading older changes")
    async def load_more(self) -> None:
        if await self.feed.load_more():
            self._show()

    @work(group="activity", exclusive=True, exit_on_error=False, description="Refreshing the activity")
    async def refresh_feed(self) -> None:
        await self.feed.refresh()
        self._show()

    @work(group="revert", exclusive=True, exit_on_error=False, description="Reverting the change")
    async def revert_change(self, item: Activity) -> None:
        try:
            await self.feed.revert(item.op_id)
        except RevertConflictError as error:
            self._show_conflict(error)
            return
        self.notify(f"Reverted: {without_actor(item)}.", title="Undone", timeout=5, markup=False)
        await self.feed.refresh()
        self._show()

    def failure_shown(self, worker, error: BaseException) -> None:
        """Besides the notice, in place: the line under the list says what did not happen."""
        detail = self.query_one("#activity-detail", Static)
        detail.update(
            Text.assemble(
                (f"{worker.description} failed: ", palette.ALERT), literal(describe(error), palette.ALERT)
            )
        )
        detail.display = True
        self.detail_of = None
        if not self.feed.items:
            self.query_one(ActivityList).set_options(
                [
                    Option(
                        Text(
                            "Not loaded: ctrl+r on the trip screen reloads, a opens this again.",
                            style=palette.MUTED,
                        ),
                        disabled=True,
                    )
                ]
            )
