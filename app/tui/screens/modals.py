"""Small modal screens: confirm, new trip, the join command, help."""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from app.tui import palette
from app.tui.text import literal


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: Text) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question)
            yield Static(Text("y yes · n no", style=palette.MUTED))

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


@dataclass
class NewTrip:
    title: str
    start_date: str
    end_date: str


class NewTripScreen(ModalScreen["NewTrip | None"]):
    """Title and dates of a new trip; the picker creates it and shows the API's errors here."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="new_trip.cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("New trip")
            yield Input(placeholder="Title", id="new-title", max_length=200)
            with Horizontal(classes="dates"):
                yield Input(placeholder="Start YYYY-MM-DD", id="new-start", max_length=10)
                yield Input(placeholder="End YYYY-MM-DD", id="new-end", max_length=10)
            yield Static("", id="new-error")
            yield Static(Text("Enter creates · Esc cancels · Tab next field", style=palette.MUTED))

    def on_mount(self) -> None:
        self.query_one("#new-title", Input).focus()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.dismiss(NewTrip(
            self.query_one("#new-title", Input).value.strip(),
            self.query_one("#new-start", Input).value.strip(),
            self.query_one("#new-end", Input).value.strip(),
        ))

    def action_cancel(self) -> None:
        self.dismiss(None)


class JoinScreen(ModalScreen[None]):
    """The command a second terminal runs to join the demo trip as another member."""

    BINDINGS = [
        Binding("escape,j,q", "close", "Close", id="join.close"),
        Binding("c", "copy", "Copy", id="join.copy"),
    ]

    def __init__(self, command: str) -> None:
        super().__init__()
        self.command = command

    def compose(self) -> ComposeResult:
        # One option per line with shell continuations, so a copied selection still runs.
        shown = " \\\n    --".join(self.command.split(" --"))
        with Vertical(classes="dialog wide-dialog"):
            yield Label("Join this trip from a second terminal, as another member:")
            yield Static(literal(shown, "bold #ffd75f"), id="join-command")
            yield Static(Text("Messages sent in one terminal appear in the other. c copies · Esc closes.",
                              style=palette.MUTED))

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.command)
        self.notify("Copied the command (if your terminal allows OSC 52 clipboard access).", timeout=3)

    def action_close(self) -> None:
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    """Every binding of the app, the screen below and its panes, with the ids a keymap uses."""

    BINDINGS = [Binding("escape,question_mark,q", "close", "Close", id="help.close")]

    def __init__(self, sections: list[tuple[str, list[tuple[str, str, str]]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog help-dialog"):
            yield Label("Keys")
            with VerticalScroll(id="help-body"):
                for title, rows in self.sections:
                    table = Table.grid(padding=(0, 2))
                    table.add_column(style="bold #ffd75f", no_wrap=True, min_width=12)
                    table.add_column()
                    table.add_column(style=palette.MUTED, no_wrap=True)
                    for keys, description, binding_id in rows:
                        table.add_row(keys, description, binding_id)
                    yield Static(Text(title, style="bold underline"))
                    yield Static(table)
            yield Static(Text("Remap any key in the config file's \"keymap\" by its id. Esc closes.",
                              style=palette.MUTED))

    def action_close(self) -> None:
        self.dismiss(None)
