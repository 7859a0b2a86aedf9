"""The members screen: who is on the trip with which role; owners and planners add members by
email and change roles, and create, show or revoke the read-only share link. Keys a role may not
use are not offered (hidden from the footer, the help and the palette, and refused). Anyone may
leave; owners and planners remove others (an owner only by an owner, never the last one)."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from app.domain.models import Member, Role
from app.tui import palette
from app.tui.forms import FieldSpec
from app.tui.notices import describe
from app.tui.screens.base import TripdeckScreen
from app.tui.screens.form import FormScreen
from app.tui.text import literal, one_line
from app.tui.widgets.status import CoalescingFooter

ROLES = lambda: [(role.value, role.value) for role in Role]  # noqa: E731


class MemberList(OptionList):
    """One row per member: name, email, role."""


class MembersScreen(TripdeckScreen, ModalScreen["list[Member] | None"]):
    BINDINGS: ClassVar = [
        Binding("a", "add", "Add member", id="members.add"),
        Binding("r", "change_role", "Change role", id="members.change_role"),
        Binding("d", "remove", "Remove", id="members.remove"),
        Binding("s", "share", "Share link", id="members.share"),
        Binding("c", "copy_share", "Copy link", id="members.copy_share"),
        Binding("S", "revoke_share", "Revoke link", id="members.revoke_share"),
        Binding("escape,m", "close", "Close", id="members.close"),
    ]
    COMPONENT_CLASSES: ClassVar = {"members--share-url"}

    def __init__(self, trip_id: str, me_id: str, members: list[Member]) -> None:
        super().__init__()
        self.trip_id = trip_id
        self.me_id = me_id
        self.members = members
        self.share_url: str | None = None

    @property
    def my_role(self) -> Role | None:
        return next((member.role for member in self.members if member.user_id == self.me_id), None)

    def highlighted_member(self) -> Member | None:
        option = self.query_one(MemberList).highlighted_option
        return next((m for m in self.members if option is not None and m.user_id == option.id), None)

    NEEDS = {
        "add": "member_writes",
        "change_role": "member_writes",
        "remove": "member_writes",
        "share": "share_links",
        "revoke_share": "share_links",
    }
    """Our extensions behind each key: not offered on a service that lacks them (the help says so)."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        from app.tui.service_features import offered

        if action in self.NEEDS and not offered(getattr(self.app, "client", None), self.NEEDS[action]):
            return False
        if action == "copy_share":
            return self.share_url is not None
        role = self.my_role
        if action in ("add", "change_role", "share", "revoke_share"):
            return role is not None and role.may_manage_members
        if action == "remove":
            member = self.highlighted_member() if self.is_mounted else None
            if member is None or role is None:
                return False
            if member.user_id == self.me_id:
                return True  # leaving the trip
            return role.may_manage_members and (member.role is not Role.OWNER or role is Role.OWNER)
        return True

    @on(OptionList.OptionHighlighted)
    def _highlighted(self) -> None:
        self.refresh_bindings()  # whether `d` is offered depends on the row

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide-dialog", id="members-dialog"):
            yield Label("Members")
            yield MemberList(id="member-list")
            yield Static("", id="share-link")
        # Outside the dialog's border and padding, from the first column: a link wider than the
        # terminal wraps at its edge, so a selection across the rows holds the link and nothing else
        # (the app's own selection, and `c`, copy it without the break between the rows).
        yield Static("", id="share-url")
        yield CoalescingFooter(compact=True)

    def on_mount(self) -> None:
        self._show()
        self.query_one("#share-link").display = False
        self.query_one("#share-url").display = False
        self.query_one(MemberList).focus()
        self.refresh_bindings()

    def _show(self) -> None:
        rows = []
        for member in self.members:
            text = Text(no_wrap=True, overflow="ellipsis")
            text.append(
                f"{member.role.value:<8} ", style=f"bold {palette.series(list(Role).index(member.role))}"
            )
            text.append_text(one_line(member.name, "bold", width=30))
            if member.email:
                text.append("  ")
                text.append_text(one_line(member.email, palette.MUTED, width=36))
            if member.user_id == self.me_id:
                text.append("  (you)", style=palette.MUTED)
            rows.append(Option(text, id=member.user_id))
        member_list = self.query_one(MemberList)
        highlighted = member_list.highlighted
        member_list.set_options(rows)
        if rows:
            member_list.highlighted = min(highlighted or 0, len(rows) - 1)

    @property
    def client(self) -> Any:
        return self.app.client

    async def _reload(self) -> None:
        self.members = (await self.client.list_members(self.trip_id, limit=200)).items
        self._show()
        self.refresh_bindings()

    def action_add(self) -> None:
        specs = [
            FieldSpec("email", "Email", required=True),
            FieldSpec("role", "Role", kind="choice", choices=ROLES, required=True),
        ]

        async def save(values: dict[str, Any], overwrite: bool) -> Any:
            return await self.client.add_member(
                self.trip_id, values.get("email") or "", values.get("role") or ""
            )

        self.app.push_screen(
            FormScreen("Add a member", specs, {"email": "", "role": "editor"}, save), self._saved
        )

    def action_change_role(self) -> None:
        member = self.highlighted_member()
        if member is None:
            return
        specs = [FieldSpec("role", "Role", kind="choice", choices=ROLES, required=True)]

        async def save(values: dict[str, Any], overwrite: bool) -> Any:
            return await self.client.update_member(self.trip_id, member.user_id, values.get("role") or "")

        self.app.push_screen(
            FormScreen(f"Role of {member.name}", specs, {"role": member.role.value}, save), self._saved
        )

    def action_remove(self) -> None:
        from app.tui.screens.modals import ConfirmScreen

        member = self.highlighted_member()
        if member is None:
            return
        leaving = member.user_id == self.me_id
        question = (
            Text("Leave this trip? You will no longer see it.")
            if leaving
            else Text.assemble("Remove ", literal(member.name, "bold", single_line=True), " from the trip?")
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.remove_member(member.user_id, leaving)

        self.app.push_screen(ConfirmScreen(question), answered)

    @work(group="members", exclusive=True, exit_on_error=False, description="Removing the member")
    async def remove_member(self, user_id: str, leaving: bool) -> None:
        await self.client.remove_member(self.trip_id, user_id)
        if leaving:
            self.notify("You left the trip.", timeout=4)
            self.dismiss(None)
            self.app.action_open_trips()
            return
        await self._reload()

    def _saved(self, result: Any) -> None:
        if result is not None:
            self.reload()

    @work(group="members", exclusive=True, exit_on_error=False, description="Loading the members")
    async def reload(self) -> None:
        await self._reload()

    @work(group="share", exclusive=True, exit_on_error=False, description="Creating the share link")
    async def action_share(self) -> None:
        token = await self.client.create_share_token(self.trip_id)
        self.share_url = token.url
        link = self.query_one("#share-link", Static)
        link.update(
            Text(
                "Read-only link below the box (it replaces any earlier one). Copied to the clipboard "
                "if your terminal allows OSC 52: c copies it again, whole, and so does selecting it here.",
                style=palette.MUTED,
            )
        )
        link.display = True
        url = self.query_one("#share-url", Static)
        url.update(literal(token.url, self.get_component_rich_style("members--share-url", partial=True)))
        url.display = True
        self.app.copy_to_clipboard(token.url)
        self.refresh_bindings()

    def action_copy_share(self) -> None:
        """The link in one line, where a terminal's own selection of a link wider than the
        terminal takes its rows with a line break between them."""
        if self.share_url is not None:
            self.app.copy_to_clipboard(self.share_url)
            self.notify("Copied the share link (if your terminal allows OSC 52 clipboard access).", timeout=3)

    @work(group="share", exclusive=True, exit_on_error=False, description="Revoking the share link")
    async def action_revoke_share(self) -> None:
        await self.client.revoke_share_token(self.trip_id)
        self.share_url = None
        self.refresh_bindings()
        link = self.query_one("#share-link", Static)
        link.update(Text("Share link revoked: it no longer opens the trip.", style=palette.MUTED))
        link.display = True
        self.query_one("#share-url").display = False

    def action_close(self) -> None:
        self.dismiss(self.members)

    def failure_shown(self, worker, error: BaseException) -> None:
        """Besides the notice, in place: the line under the list says what did not happen."""
        line = self.query_one("#share-link", Static)
        line.update(
            Text.assemble(
                (f"{worker.description} failed: ", palette.ALERT), literal(describe(error), palette.ALERT)
            )
        )
        line.display = True
