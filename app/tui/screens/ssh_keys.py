"""The SSH keys screen (from the command palette): the public keys that sign you in to `trip ssh`,
with their fingerprints and last use; paste a `.pub` line to add one, `d` deletes the highlighted
one. Everything goes through the API (`/me/ssh-keys`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from app.client import APIError
from app.domain.models import SshKey
from app.tui import palette
from app.tui.notices import describe
from app.tui.screens.base import TripdeckScreen
from app.tui.text import literal, one_line
from app.tui.widgets.status import CoalescingFooter


class SshKeyList(OptionList):
    """One row per key: name, fingerprint, last use."""


class PublicKeyInput(Input):
    """Where a `.pub` line is pasted; Enter adds it."""


def _when(ms: int | None) -> str:
    if ms is None:
        return "never used"
    return "used " + datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")


class SshKeysScreen(TripdeckScreen, ModalScreen[None]):
    CSS_PATH = "ssh_keys.tcss"
    BINDINGS: ClassVar = [
        Binding("a", "add", "Add key", id="ssh_keys.add"),
        Binding("d", "delete", "Delete key", id="ssh_keys.delete"),
        Binding("escape", "close", "Close", id="ssh_keys.close"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.keys: list[SshKey] = []

    @property
    def client(self) -> Any:
        return self.app.client

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide-dialog", id="ssh-keys-dialog"):
            yield Label("SSH keys: sign in with ssh, nothing to install")
            yield SshKeyList(id="ssh-key-list")
            yield PublicKeyInput(
                placeholder="paste a public key: ssh-ed25519 AAAA… you@laptop", id="ssh-key-input"
            )
            yield Static("", id="ssh-key-message")
        yield CoalescingFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one(SshKeyList).focus()
        self.reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "delete":
            return (
                self.is_mounted
                and self.highlighted() is not None
                and not self.query_one(PublicKeyInput).has_focus
            )
        return True

    def highlighted(self) -> SshKey | None:
        option = self.query_one(SshKeyList).highlighted_option
        return next((key for key in self.keys if option is not None and key.id == option.id), None)

    @on(OptionList.OptionHighlighted)
    def _highlighted(self) -> None:
        self.refresh_bindings()

    def _show(self) -> None:
        rows = []
        for key in self.keys:
            text = Text(no_wrap=True, overflow="ellipsis")
            text.append_text(one_line(key.name or "(no name)", "bold", width=24))
            text.append("  ")
            text.append(key.fingerprint, style=palette.MUTED)
            text.append(f"  {_when(key.last_used_time)}", style=palette.MUTED)
            rows.append(Option(text, id=key.id))
        key_list = self.query_one(SshKeyList)
        highlighted = key_list.highlighted
        if not rows:
            rows = [
                Option(
                    Text("No SSH keys yet: press a and paste your .pub line.", style=palette.MUTED),
                    disabled=True,
                )
            ]
        key_list.set_options(rows)
        if self.keys:
            key_list.highlighted = min(highlighted or 0, len(self.keys) - 1)
        self.refresh_bindings()

    def _say(self, text: str, *, problem: bool = False) -> None:
        self.query_one("#ssh-key-message", Static).update(
            literal(text, palette.ALERT if problem else palette.MUTED)
        )

    @work(group="ssh-keys", exclusive=True, exit_on_error=False, description="Loading your SSH keys")
    async def reload(self) -> None:
        self.keys = await self.client.list_ssh_keys()
        self._show()

    def action_add(self) -> None:
        self.query_one(PublicKeyInput).focus()

    @on(Input.Submitted, "#ssh-key-input")
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.add_key(event.value)

    @work(group="ssh-keys", exclusive=True, exit_on_error=False, description="Adding the SSH key")
    async def add_key(self, line: str) -> None:
        try:
            added = await self.client.add_ssh_key(line)
        except APIError as error:  # not a key, someone's already, a narrow API key: say why, keep the text
            self._say(error.message if error.status in (400, 403, 409) else describe(error), problem=True)
            return
        self.query_one(PublicKeyInput).value = ""
        self._say(f"Added {added.fingerprint}. Connect with ssh to this service's SSH port.")
        self.keys = await self.client.list_ssh_keys()
        self._show()
        self.query_one(SshKeyList).focus()

    def action_delete(self) -> None:
        from app.tui.screens.modals import ConfirmScreen

        key = self.highlighted()
        if key is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.delete_key(key.id)

        question = Text.assemble(
            "Delete the SSH key ",
            literal(key.name or key.fingerprint, "bold", single_line=True),
            "? It no longer signs you in.",
        )
        self.app.push_screen(ConfirmScreen(question), answered)

    @work(group="ssh-keys", exclusive=True, exit_on_error=False, description="Deleting the SSH key")
    async def delete_key(self, key_id: str) -> None:
        await self.client.delete_ssh_key(key_id)
        self._say("Deleted.")
        self.keys = await self.client.list_ssh_keys()
        self._show()

    def action_close(self) -> None:
        self.dismiss(None)
