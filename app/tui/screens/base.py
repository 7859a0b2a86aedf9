"""What every screen of ours shares: `self.app` typed as the `TripdeckApp` (once, here), and its
workers' failures handed to the app's one notice.

Textual 8 reports a worker's state to the node that started it only (`Worker.StateChanged` does
not bubble), so an app-level handler never sees a screen's workers: each screen hands its own."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.screen import Screen
from textual.worker import Worker, WorkerState

if TYPE_CHECKING:
    from textual import getters

    from app.tui.app import TripdeckApp

    _Node = Screen[Any]
    """What the mixin is mixed into, for the type checker: a screen or a modal screen."""
else:
    _Node = object


class TripdeckScreen(_Node):
    """Mixed in before `Screen` or `ModalScreen`: `class PickerScreen(TripdeckScreen, Screen)`."""

    if TYPE_CHECKING:  # at run time Textual's own `app` property, which already returns this app
        app = getters.app(TripdeckApp)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.app.report_failure(event.worker, self)

    def failure_shown(self, worker: Worker[Any], error: BaseException) -> None:
        """Called after the notice: a screen may also show the failure in place."""
