"""Pane 3: the checklist, grouped by urgency (now, before the trip, nice to have), open items
first, each with its owner and done state."""

from __future__ import annotations

from collections.abc import Callable

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.widgets.option_list import Option

from app.domain.models import ActionItem, Urgency
from app.tui import palette
from app.tui.kinds import ACTION_ITEMS
from app.tui.text import literal, one_line
from app.tui.widgets.pane import Pane, RowList
from app.tui.widgets.rows import HangingRow


class ChecklistItems(RowList):
    """Headers per urgency and one row per item."""


def item_row(item: ActionItem, owner: str | None, part: Callable[[str], Style]) -> HangingRow:
    """A checkbox, then the text (wrapping under itself, not under the box) and the owner.
    `part(name)`: the style of the checklist's component class `checklist--{name}`."""
    if item.done:
        box = Text(" ☑ ", style=part("done"))
        text = literal(item.text, f"strike {palette.MUTED}", single_line=True)
    else:
        box = Text(" ☐ ", style=f"bold {palette.URGENCY.get(item.urgency, palette.MUTED)}")
        text = literal(item.text, single_line=True)
    if owner:
        text.append("  @", style=part("owner"))
        text.append_text(one_line(owner, part("owner"), width=24))
    return HangingRow(box, text, prefix_width=3)


class Checklist(Pane):
    number = ACTION_ITEMS.pane
    title = "Checklist"
    COMPONENT_CLASSES = {"checklist--done", "checklist--owner", "checklist--urgency"}

    def compose(self) -> ComposeResult:
        yield ChecklistItems(id=ACTION_ITEMS.list_id)

    def __init__(self, *, id: str | None = "checklist", classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.items: list[ActionItem] = []

    def show(self, items: list[ActionItem], owners: dict[str, str], *, more: bool) -> None:
        self.items = items
        rows: list[Option] = []

        def part(name: str) -> Style:
            return self.get_component_rich_style(f"checklist--{name}", partial=True)

        for urgency in Urgency:
            group = [item for item in items if item.urgency == urgency]
            if not group:
                continue
            open_count = sum(not item.done for item in group)
            header = Text(no_wrap=True)
            header.append(
                f" {palette.URGENCY_LABEL[urgency].upper()} ",
                style=part("urgency") + Style(bgcolor=palette.URGENCY[urgency]),
            )
            header.append(f"  {open_count} open · {len(group) - open_count} done", style=palette.MUTED)
            rows.append(Option(header, id=f"urgency:{urgency}", disabled=True))
            for item in sorted(group, key=lambda item: item.done):
                rows.append(Option(item_row(item, owners.get(item.owner or ""), part), id=item.id))
        if not rows:
            rows = [Option(Text("Nothing to do yet.", style=palette.MUTED), disabled=True)]
        item_list = self.query_one(ChecklistItems)
        item_list.more_available = more
        item_list.set_rows(rows)
        done = sum(item.done for item in items)
        self.border_subtitle = f"{done}/{len(items)}{'+' if more else ''} done"
