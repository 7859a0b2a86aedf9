"""First run: ask for the service URL and an API key, check them, and save them (0600)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Input, Label, Static

from app.client import TripError
from app.tui import config, palette
from app.tui.notices import describe
from app.tui.screens.base import TripdeckScreen
from app.tui.text import one_line


@dataclass
class Connection:
    url: str
    key: str


class FirstRunScreen(TripdeckScreen, Screen["Connection"]):
    BINDINGS = [Binding("ctrl+q", "app.quit", "Quit", id="first_run.quit")]
    COMPONENT_CLASSES = {"first-run--welcome"}

    def __init__(self, url: str | None = None, key: str | None = None) -> None:
        super().__init__()
        self.url, self.key = url, key

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide-dialog"):
            yield Label("Welcome to Tripdeck")
            yield Static(
                Text(
                    "Where is your trip service, and what is your API key? "
                    "(`trip keys create --email you@example.com` prints one.)",
                    style=palette.MUTED,
                )
            )
            yield Input(
                value=self.url or "http://127.0.0.1:8000/api/v1", placeholder="Service URL", id="setup-url"
            )
            yield Input(value=self.key or "", placeholder="API key (osk_…)", password=True, id="setup-key")
            yield Static("", id="setup-error")
            yield Static(Text("Enter checks and saves · ctrl+q quits", style=palette.MUTED))

    def on_mount(self) -> None:
        self.query_one("#setup-key" if self.url else "#setup-url", Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        url = self.query_one("#setup-url", Input).value.strip()
        key = self.query_one("#setup-key", Input).value.strip()
        if not url or not key:
            self.query_one("#setup-key" if url else "#setup-url", Input).focus()
            return
        if problem := config.url_problem(url):
            self.query_one("#setup-error", Static).update(
                Text(f"That is not it: {problem}.", style=palette.ALERT)
            )
            self.query_one("#setup-url", Input).focus()
            return
        self.check(url, key)

    @work(exclusive=True, group="setup", exit_on_error=False, description="Checking the key")
    async def check(self, url: str, key: str) -> None:
        error_line = self.query_one("#setup-error", Static)
        error_line.update(Text("Checking…", style=palette.MUTED))
        try:
            client = self.app.make_client(url, key)
        except (TripError, ValueError) as error:
            error_line.update(Text(f"That did not work: {error}", style=palette.ALERT))
            return
        try:
            me = await client.me()
        except TripError as error:
            await client.aclose()
            error_line.update(Text(f"That did not work: {describe(error)}", style=palette.ALERT))
            return
        await client.aclose()
        error_line.update(
            Text.assemble(
                "Hello, ",
                one_line(me.name),
                "!",
                style=self.get_component_rich_style("first-run--welcome", partial=True),
            )
        )
        self.dismiss(Connection(url, key))

    def failure_shown(self, worker, error: BaseException) -> None:
        self.query_one("#setup-error", Static).update(
            Text(f"That did not work: {describe(error)}", style=palette.ALERT)
        )
