"""The one item form: any list of `FieldSpec`s as labelled inputs, choices and flags. It stays
open until the write succeeds or is queued in the offline outbox: the API's validation details
mark the wrong fields and keep what was typed; an edit that someone else changed first asks
before overwriting."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select, Static

from app.client import TripError, ValidationError
from app.tui import palette
from app.tui.forms import ChangedOnServer, FieldSpec, Queued, Save
from app.tui.notices import describe
from app.tui.screens.base import TripdeckScreen
from app.tui.text import clean, literal, one_line

REASONS = {
    "required": "required",
    "invalid": "not valid here",
    "too_long": "too long",
    "too_short": "too short",
    "out_of_range": "out of range",
    "unknown_field": "not a field of this item",
}


GENERIC_MESSAGES = (
    "Missing required fields",
    "Unknown fields",
    "Too long",
    "Out of range",
    "Not found",
    "Invalid fields",
)
"""How the service's refusals begin when their message only names the fields (the marks say it)."""


class Flag(Checkbox, inherit_bindings=False):
    """A yes/no field that reads right without colour: Textual's checkbox draws the same "X" on
    and off and tells them apart by colour only (with NO_COLOR an unticked flag read as ticked).
    Here it is "▐✓▌ yes" or "▐ ▌ no". Space ticks it; Enter saves the form, as everywhere in a
    form (Textual's checkbox also toggled on Enter, so the footer's "Enter saves" flipped it)."""

    BINDINGS: ClassVar = [
        Binding("space", "toggle_button", "Toggle", show=False, id="form.flag_toggle"),
        Binding("enter", "screen.save", "Save", show=False, id="form.flag_save"),
    ]

    def __init__(self, value: bool, *, id: str) -> None:
        super().__init__("yes" if value else "no", value, id=id, compact=True)

    @property
    def _button(self) -> Content:
        button = super()._button
        return Content.assemble(
            button[0], (("✓" if self.value else " "), self.get_visual_style("toggle--button")), button[2]
        )

    def watch_value(self) -> None:
        super().watch_value()  # the -on class and the Changed message
        self.label = "yes" if self.value else "no"


class FormScreen(TripdeckScreen, ModalScreen[Any]):
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="form.save"),
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
    ]

    def __init__(self, title: str, specs: list[FieldSpec], values: dict[str, Any], save: Save) -> None:
        super().__init__()
        self.form_title = title
        self.specs = specs
        self.initial = values
        self.save = save
        self.errors: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog form-dialog"):
            yield Label(literal(self.form_title, single_line=True), id="form-title")
            # Not a stop of its own: Tab walks the fields (each scrolls into view when focused).
            with VerticalScroll(id="form-body", can_focus=False):
                for spec in self.specs:
                    with Horizontal(classes="form-row"):
                        yield Label(spec.label + (" *" if spec.required else ""), classes="form-label")
                        yield self._widget(spec)
                    yield Static("", id=f"{spec.widget_id}-error", classes="form-error")
                    yield Static("", id=f"{spec.widget_id}-hidden", classes="form-error form-hidden")
            yield Static("", id="form-error")
            yield Static(
                Text("Enter or ctrl+s saves · Esc cancels · Tab next field · * required", style=palette.MUTED)
            )

    def _widget(self, spec: FieldSpec) -> Widget:
        value = self.initial.get(spec.path)
        if spec.kind == "flag":
            return Flag(bool(value), id=spec.widget_id)
        if spec.kind == "choice":
            options = [
                (one_line(label), choice) for label, choice in (spec.choices() if spec.choices else [])
            ]
            known = {choice for _, choice in options}
            if value is not None and value not in known:
                options.append((one_line(f"{value} (unknown)"), value))  # never drop what the row holds
            return Select(
                options,
                value=value if value is not None else Select.NULL,
                allow_blank=not spec.required,
                prompt="—",
                id=spec.widget_id,
                compact=True,
            )
        return Input(str(value or ""), placeholder=spec.placeholder, id=spec.widget_id, compact=True)

    def on_mount(self) -> None:
        for error in self.query(".form-error"):
            error.display = False
        self.query_one("#form-error").display = False
        self.query_one(f"#{self.specs[0].widget_id}").focus()
        self.opened = self.values()
        for field in self.query(Input):
            self._show_hidden(field)

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._show_hidden(event.input)

    def _show_hidden(self, field: Input) -> None:
        """An input shows its text raw, so a character a terminal hides or acts on (U+202E, a
        zero-width space, ESC) is named under it, as the panes show it."""
        note = self.query_one(f"#{field.id}-hidden", Static)
        value = field.value
        hidden = clean(value, single_line=True) != value.replace("\t", "    ")
        note.display = hidden
        if hidden:
            note.update(Text.assemble(("↑ holds hidden characters: ", palette.MUTED), one_line(value)))

    def values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for spec in self.specs:
            widget = self.query_one(f"#{spec.widget_id}")
            if isinstance(widget, Select):
                values[spec.path] = None if widget.is_blank() else widget.value
            else:
                values[spec.path] = widget.value  # type: ignore[attr-defined]
        return values

    # --- errors ------------------------------------------------------------------------------

    def show_errors(self, details: list[dict[str, str]], message: str | None = None) -> None:
        """Mark each field a detail names; what names no field shows under the form."""
        self.errors = {}
        unplaced: list[str] = []
        for detail in details:
            path = str(detail.get("path", ""))
            reason = str(detail.get("reason", "invalid"))
            spec = self._spec_for(path)
            if spec is None:
                unplaced.append(f"{path}: {REASONS.get(reason, reason)}")
            else:
                self.errors.setdefault(spec.path, self._reason(spec, reason))
        for spec in self.specs:
            widget = self.query_one(f"#{spec.widget_id}")
            error = self.query_one(f"#{spec.widget_id}-error", Static)
            problem = self.errors.get(spec.path)
            widget.set_class(problem is not None, "-invalid")
            error.display = problem is not None
            error.update(Text(f"↑ {problem}", style=palette.ALERT) if problem else "")
        general = self.query_one("#form-error", Static)
        # The service's own words, unless they only repeat which fields are wrong: "02:30 does not
        # exist in America/New_York: clocks skip from 02:00 to 03:00" says what "not valid" cannot.
        says_more = message and not message.startswith(GENERIC_MESSAGES)
        lines = unplaced or ([message] if message and (says_more or not self.errors) else [])
        general.display = bool(lines)
        general.update(literal("\n".join(lines), palette.ALERT))
        if self.errors:
            first = next(spec for spec in self.specs if spec.path in self.errors)
            widget = self.query_one(f"#{first.widget_id}")
            widget.focus()
            if isinstance(widget, Input):
                widget.select_all()  # typing replaces the refused value, as Tab into a field does

    ENDS = {
        "endDate": "the start date",
        "accommodation.checkOut": "the check-in",
        "endTime": "the start time",
    }
    """Fields whose "out of range" means they come before their start."""

    def _reason(self, spec: FieldSpec, reason: str) -> str:
        if reason == "out_of_range" and spec.path in self.ENDS:
            return f"before {self.ENDS[spec.path]}"
        return REASONS.get(reason, reason)

    def _spec_for(self, path: str) -> FieldSpec | None:
        path = path.removeprefix("body.")
        for spec in self.specs:
            if spec.path == path:
                return spec
        for spec in self.specs:  # "accommodation" or "flights.0" name a group: its first field
            if spec.path.startswith(path + "."):
                return spec
        for spec in self.specs:  # "flights.0.departureTime.hour": the field it is part of
            if path.startswith(spec.path + "."):
                return spec
        return None

    # --- saving ------------------------------------------------------------------------------

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()

    def action_save(self, overwrite: bool = False) -> None:
        self._save(self.values(), overwrite)

    def action_cancel(self) -> None:
        """Closes at once when nothing was changed; else asks first (Esc again keeps the work)."""
        now = self.values()
        changed = [spec for spec in self.specs if now.get(spec.path) != self.opened.get(spec.path)]
        if not changed:
            self.dismiss(None)
            return
        from app.tui.screens.modals import ConfirmScreen

        names = ", ".join(spec.label for spec in changed[:3]) + (
            f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        )
        question = Text(
            f"Discard {len(changed)} changed field{'s' if len(changed) != 1 else ''} ({names})? "
            "n or Esc goes back to the form."
        )

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(ConfirmScreen(question), answered)

    @work(exclusive=True, group="form-save", exit_on_error=False, description="Saving")
    async def _save(self, values: dict[str, Any], overwrite: bool) -> None:
        try:
            result = await self.save(values, overwrite)
        except ValidationError as error:
            self.show_errors(list(error.details or []), error.message)
            return
        except ChangedOnServer as changed:
            from app.tui.screens.conflict import ItemConflictScreen

            def decided(overwrite_theirs: bool | None) -> None:
                if overwrite_theirs:
                    self._save(values, True)
                else:
                    self.dismiss(None)
                    self.app.notify("Dropped your change; the pane shows their version.", timeout=4)

            self.app.push_screen(ItemConflictScreen(self.form_title, changed.changes), decided)
            return
        except TripError as error:
            self.show_errors([], describe(error))
            return
        if isinstance(result, Queued):
            self.app.notify(
                f'"{clean(result.label, single_line=True)}" is saved on this computer, not yet on '
                "the service: it is sent as soon as the service can be reached (see the outbox bar).",
                title="Queued",
                timeout=6,
                markup=False,
            )
        self.dismiss(result)

    def failure_shown(self, worker, error: BaseException) -> None:
        self.show_errors([], f"Not saved: {describe(error)}")
