"""What another member changed first: an item edited on the server while its form was open, or
operations applied since the revision a leg reorder was based on. The user decides; nothing is
overwritten silently."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from app.domain.itinerary import ItineraryDiff
from app.tui import palette
from app.tui.formatting import counted
from app.tui.text import literal


class ItemConflictScreen(ModalScreen[bool]):
    """Both versions of each field that changed on the server: o overwrites, d drops yours."""

    BINDINGS = [
        Binding("o", "decide(True)", "Overwrite theirs", id="conflict.overwrite"),
        Binding("d,escape", "decide(False)", "Drop mine", id="conflict.drop"),
    ]
    COMPONENT_CLASSES = {"item-conflict--theirs"}

    def __init__(self, title: str, changes: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.item_title = title
        self.changes = changes

    def compose(self) -> ComposeResult:
        table = Table(box=None, padding=(0, 1), expand=True)
        table.add_column("Field", style="bold", no_wrap=True)
        table.add_column("When you opened it", style=palette.MUTED)
        table.add_column(
            "Now on the server", style=self.get_component_rich_style("item-conflict--theirs", partial=True)
        )
        for label, before, after in self.changes:
            table.add_row(Text(label), literal(before), literal(after))
        with Vertical(classes="dialog wide-dialog", id="item-conflict"):
            yield Label("Someone changed this while you were editing")
            yield Static(literal(self.item_title, single_line=True))
            with VerticalScroll(classes="conflict-body"):
                yield Static(table)
            yield Static(Text("o overwrite with your version · d drop your change", style=palette.MUTED))

    def action_decide(self, overwrite: bool) -> None:
        self.dismiss(overwrite)


class StaleRevisionScreen(ModalScreen[bool]):
    """The operations applied since the base revision: r re-applies on top, d drops."""

    BINDINGS = [
        Binding("r", "decide(True)", "Re-apply mine", id="stale.reapply"),
        Binding("d,escape", "decide(False)", "Drop mine", id="stale.drop"),
    ]

    def __init__(self, what: str, diff: ItineraryDiff | None) -> None:
        super().__init__()
        self.what = what
        self.diff = diff

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide-dialog", id="stale-revision"):
            yield Label("The trip changed before your change arrived")
            yield Static(literal(f"Your change: {self.what}", single_line=True))
            with VerticalScroll(classes="conflict-body"):
                yield Static(self._operations())
            yield Static(Text("r re-apply yours on the new version · d drop it", style=palette.MUTED))

    def _operations(self) -> Text:
        if self.diff is None:
            return Text("(could not read what changed)", style=palette.MUTED)
        text = Text(f"Revision {self.diff.since_revision} → {self.diff.current_revision}:\n")
        for operation in self.diff.operations:
            text.append(f"  r{operation.result_revision} ", style=palette.MUTED)
            text.append_text(literal(operation.operation_type.replace("_", " "), single_line=True))
            if operation.affected_event_ids:
                text.append(f"  ({counted(len(operation.affected_event_ids), 'event')})", style=palette.MUTED)
            text.append("\n")
        return text

    def action_decide(self, reapply: bool) -> None:
        self.dismiss(reapply)
