"""What the five panes of the trip screen have in common: a number key, a title, a focus target,
and a list that asks for the next page as the cursor nears its end."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Iterable

from rich.console import Group
from rich.text import Text
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import OptionList
from textual.widgets.option_list import Option, OptionDoesNotExist

from app.tui import palette

NEAR_END = 8
"""Rows before the end of a list at which the next page is requested."""


class RowList(OptionList):
    """A keyboard-driven list whose rows can be replaced without losing the cursor's row."""

    @dataclass
    class NearEnd(Message):
        """The cursor is close to the last loaded row and more rows exist on the server."""

        row_list: "RowList"

    more_available: bool = False
    pending: dict[str, str] = {}
    """Row id -> note, for rows with a write waiting in the outbox: shown under the row."""

    def set_rows(self, rows: Iterable[Option | None], *, keep: bool = True) -> None:
        """Replace the rows; the highlighted row stays on the same id when it still exists."""
        previous = self.highlighted_option.id if keep and self.highlighted_option else None
        if self.pending:
            rows = [self._marked(row) for row in rows]
        self.set_options(rows)
        if previous is not None:
            try:
                self.highlighted = self.get_option_index(previous)
                return
            except OptionDoesNotExist:
                pass
        self.highlighted = self._first_enabled()

    def _marked(self, row: Option | None) -> Option | None:
        note = self.pending.get(row.id) if row is not None and row.id is not None else None
        if note is None:
            return row
        marker = Text(f"   ⧗ {note}", style=f"italic {palette.PENDING}", no_wrap=True, overflow="ellipsis")
        return Option(Group(row.prompt, marker), id=row.id, disabled=row.disabled)

    def _first_enabled(self) -> int | None:
        for index, option in enumerate(self.options):
            if not option.disabled:
                return index
        return None

    def watch_highlighted(self, highlighted: int | None) -> None:
        super().watch_highlighted(highlighted)
        if self.more_available and highlighted is not None and highlighted >= self.option_count - NEAR_END:
            self.post_message(self.NearEnd(self))


class Pane(Vertical):
    """One of the trip screen's panes; subclasses set `number`, `title` and the focus target."""

    number: ClassVar[int] = 0
    title: ClassVar[str] = ""
    can_focus = False

    def on_mount(self) -> None:
        self.border_title = f"{self.number} {self.title}"

    def focus_target(self) -> Widget | None:
        """The widget that gets the keyboard when the pane is chosen with its number key."""
        for widget in self.query("*"):
            if widget.focusable:
                return widget
        return None

    def focus_pane(self) -> None:
        target = self.focus_target()
        if target is not None:
            target.focus()
