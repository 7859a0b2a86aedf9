"""What the five panes of the trip screen have in common: a number key, a title, a focus target,
and a list that asks for the next page as the cursor nears its end; with the two cheap-to-redraw
widgets the panes and the screen's frame build on (`KeptRowsOptionList`, `OneLine`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar, Literal, cast

from rich.console import Group, RenderableType
from rich.style import Style
from rich.text import Text
from textual import _widget_navigation
from textual.containers import Vertical
from textual.events import Resize
from textual.message import Message
from textual.widget import Widget
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option, OptionDoesNotExist

from app.tui import palette

NEAR_END = 8
"""Rows before the end of a list at which the next page is requested."""


class OneLine(Static):
    """A one-row line of text (its CSS fixes the height): no text it shows can change its size, so
    an update repaints it without laying the screen out again (Static's default), and an update
    with what it already shows does nothing. Opening a trip re-shows the pane tabs and the pin
    line with the same text as messages arrive, each a layout of the whole screen."""

    _shown: tuple | None = None

    def update(self, content="", *, layout: bool = False) -> None:
        key = (content.plain, content.spans, str(content.style)) if isinstance(content, Text) else (content,)
        if key == self._shown:
            return
        self._shown = key
        super().update(content, layout=layout)


class KeptRowsOptionList(OptionList):
    """An OptionList that draws its rows again only when its width changes.

    OptionList forgets every drawn row on each Resize, and it gets one whenever its virtual
    size changes, that is whenever rows are added: a pane filled as it is first laid out drew
    all its rows twice (~35 ms of opening a trip at 160x48), and each message arriving in the
    chat drew the whole visible history again. A row's lines depend on the width they were
    drawn at and on nothing else a Resize changes, so the rows are kept unless some were drawn
    (or measured) at another width than the list has now."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._cached_widths: set[int] = set()

    def _clear_caches(self) -> None:
        self._cached_widths.clear()
        super()._clear_caches()

    def _update_lines(self) -> None:
        if self.scrollable_content_region:
            self._cached_widths.add(self.scrollable_content_region.width)
        super()._update_lines()

    def _get_option_render(self, option: Option, style) -> list:
        self._cached_widths.add(self.scrollable_content_region.width)
        return super()._get_option_render(option, style)

    # The ignore: Textual hands the event to a handler that takes one, though OptionList's takes none.
    def _on_resize(self, event: Resize) -> None:  # type: ignore[override]
        event.prevent_default()  # OptionList's handler (the only other one) forgets every row
        if self._cached_widths - {self.scrollable_content_region.width}:
            self._clear_caches()


class RowList(KeptRowsOptionList):
    """A keyboard-driven list whose rows can be replaced without losing the cursor's row."""

    @dataclass
    class NearEnd(Message):
        """The cursor is close to the last loaded row and more rows exist on the server."""

        row_list: RowList

    more_available: bool = False
    pending: dict[str, str] = {}
    """Row id -> note, for rows with a write waiting in the outbox: shown under the row."""

    wanted: str | None = None
    """A row id to highlight as soon as it is among the rows (a row just created: the reload that
    brings it shows it where the cursor is, not somewhere below the view)."""

    def set_rows(self, rows: Iterable[Option | None], *, keep: bool = True) -> None:
        """Replace the rows; the highlighted row stays on the same id when it still exists."""
        previous = self.highlighted_option.id if keep and self.highlighted_option else None
        rows = list(rows)
        if self.wanted is not None and any(row is not None and row.id == self.wanted for row in rows):
            previous, self.wanted = self.wanted, None
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
        if row is None or note is None:
            return row
        marker = Text(f"   ⧗ {note}", style=f"italic {palette.PENDING}", no_wrap=True, overflow="ellipsis")
        # The panes' rows are Rich renderables (Text, Group, a row's own __rich_console__).
        return Option(Group(cast(RenderableType, row.prompt), marker), id=row.id, disabled=row.disabled)

    # The cursor stops at both ends, as in the chat: holding Down must not land on the first row.
    def action_cursor_down(self) -> None:
        self._move(1)

    def action_cursor_up(self) -> None:
        self._move(-1)

    def _move(self, direction: Literal[-1, 1]) -> None:
        moved = _widget_navigation.find_next_enabled_no_wrap(self.options, self.highlighted, direction)
        if moved is not None:
            self.highlighted = moved

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

    def part(self, name: str) -> Style:
        """The style of a part of the pane's text: its component class `name` (COMPONENT_CLASSES),
        whose colours are in the stylesheet."""
        return self.get_component_rich_style(name, partial=True)

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
