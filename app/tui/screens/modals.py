"""Small modal screens: confirm, new trip, the join command, help."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.geometry import Size
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from app.client import TripError, ValidationError
from app.tui import failures, palette
from app.tui.notices import describe
from app.tui.screens.base import TripdeckScreen
from app.tui.screens.form import REASONS
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


class NewTripScreen(TripdeckScreen, ModalScreen[Any]):
    """Title and dates of a new trip. `create` sends it; the dialog closes with what it returns,
    or stays open with the refused fields marked and what was typed kept."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="new_trip.cancel")]

    FIELDS = {"title": "new-title", "startDate": "new-start", "endDate": "new-end"}
    """The API's field paths and the inputs that hold them."""

    def __init__(self, create: Callable[[NewTrip], Awaitable[Any]]) -> None:
        super().__init__()
        self.create = create

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

    def typed(self) -> NewTrip:
        return NewTrip(*(self.query_one(f"#{field}", Input).value.strip() for field in self.FIELDS.values()))

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self._create(self.typed())

    @work(exclusive=True, group="new-trip", exit_on_error=False, description="Creating the trip")
    async def _create(self, new: NewTrip) -> None:
        try:
            trip = await self.create(new)
        except ValidationError as error:
            self.show_errors(list(error.details or []), error.message)
            return
        except TripError as error:
            self.show_errors(
                [], f"Not created: {describe(error)}. {failures.advice(error, failures.log_path())}"
            )
            return
        self.dismiss(trip)

    def show_errors(self, details: list[dict[str, Any]], message: str) -> None:
        """Marks the fields the details name and says why under them; the first gets the keyboard."""
        marked: list[str] = []
        lines: list[str] = []
        labels = {"title": "Title", "startDate": "Start", "endDate": "End"}
        for detail in details:
            path = str(detail.get("path", "")).removeprefix("body.")
            reason = str(detail.get("reason", "invalid"))
            if path in self.FIELDS:
                marked.append(self.FIELDS[path])
            said = (
                "before the start"
                if path == "endDate" and reason == "out_of_range"
                else REASONS.get(reason, reason)
            )
            lines.append(f"{labels.get(path, path)}: {said}")
        for field in self.FIELDS.values():
            self.query_one(f"#{field}").set_class(field in marked, "-invalid")
        self.query_one("#new-error", Static).update(literal("\n".join(lines) or message))
        if marked:
            first = self.query_one(f"#{next(f for f in self.FIELDS.values() if f in marked)}", Input)
            first.focus()
            first.select_all()  # typing replaces the refused value

    def action_cancel(self) -> None:
        """Closes at once when nothing was typed; else asks first (Esc again goes back)."""
        if not any(vars(self.typed()).values()):
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(
            ConfirmScreen(Text("Discard the new trip you typed? n or Esc goes back to it.")), answered
        )


def shell_lines(command: str, width: int) -> list[str]:
    """`command` as lines of at most `width` cells that a shell reads as the one command: an
    option and its value share a line when they fit, every break ends in a continuation
    (" \\"), and only a single word wider than the line is folded."""
    words = command.split(" ")
    units: list[str] = []
    for word in words:
        if (
            units
            and units[-1].startswith("--")
            and "=" not in units[-1]
            and " " not in units[-1]
            and not word.startswith("--")
        ):
            units[-1] += " " + word  # "--url" and its value
        else:
            units.append(word)
    lines: list[str] = []
    current = ""
    for unit in units:
        pieces = [unit] if len(unit) + 4 <= width or " " not in unit else unit.split(" ")
        for piece in pieces:
            if not current:
                current = piece
            elif len(current) + 1 + len(piece) + 2 <= width and not piece.startswith("--"):
                current += " " + piece
            else:
                lines.append(current + " \\")
                current = ("  " + piece) if len(piece) + 4 <= width else piece
    lines.append(current)
    return lines


class ShellCommand(Widget):
    """A shell command laid out for the width it has (see `shell_lines`)."""

    DEFAULT_CSS = "ShellCommand { height: auto; }"
    COMPONENT_CLASSES = {"shell-command--command"}

    def __init__(self, command: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.command = command

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return max(len(line) for line in shell_lines(self.command, 10_000)) if self.command else 0

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(
            literal("\n".join(shell_lines(self.command, max(width, 1)))).wrap(self.app.console, max(width, 1))
        )

    def render(self) -> Text:
        return literal(
            "\n".join(shell_lines(self.command, max(self.content_size.width, 1))),
            self.get_component_rich_style("shell-command--command", partial=True),
        )


class JoinScreen(ModalScreen[None]):
    """The command a second terminal runs to join the demo trip as another member. On a small
    terminal the box goes (no border or padding to copy along) and the text wraps at its edge."""

    BINDINGS = [
        Binding("escape,j,q", "close", "Close", id="join.close"),
        Binding("c", "copy", "Copy", id="join.copy"),
    ]

    def __init__(self, command: str) -> None:
        super().__init__()
        self.command = command

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide-dialog join-dialog"):
            yield Static(
                Text("Join this trip from a second terminal, as another member:", style="bold"),
                id="join-title",
            )
            yield ShellCommand(self.command, id="join-command")
            yield Static(
                Text(
                    "Messages sent in one terminal appear in the other. c copies · Esc closes.",
                    style=palette.MUTED,
                ),
                id="join-hint",
            )

    def on_resize(self) -> None:
        self.set_class(self.size.width < 60 or self.size.height < 20, "-small")

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.command)
        self.notify("Copied the command (if your terminal allows OSC 52 clipboard access).", timeout=3)

    def action_close(self) -> None:
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    """Every binding of the app, the screen below and its panes, with the ids a keymap uses."""

    BINDINGS = [Binding("escape,question_mark,q", "close", "Close", id="help.close")]
    COMPONENT_CLASSES = {"help--keys"}

    def __init__(self, sections: list[tuple[str, list[tuple[str, str, str]]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        keys_style = self.get_component_rich_style("help--keys", partial=True)
        with Vertical(classes="dialog help-dialog"):
            yield Label("Keys")
            with VerticalScroll(id="help-body"):
                for title, rows in self.sections:
                    table = Table.grid(padding=(0, 2))
                    table.add_column(style=keys_style, no_wrap=True, min_width=12)
                    table.add_column()
                    table.add_column(style=palette.MUTED, no_wrap=True)
                    for keys, description, binding_id in rows:
                        table.add_row(keys, description, binding_id)
                    yield Static(Text(title, style="bold underline"))
                    yield Static(table)
            yield Static(
                Text(
                    'Remap any key in the config file\'s "keymap" by its id. Esc closes.', style=palette.MUTED
                )
            )

    def action_close(self) -> None:
        self.dismiss(None)
