"""Queued writes, seen where they were made: each pane shows its rows as they will be once the
outbox has sent what waits (an offline tick is ticked, a new pin is listed, an edit shows its new
values), and marks every such row as not sent yet. Failed writes are not applied: the outbox bar
shows them with their error, and the row shows what the service holds."""

from __future__ import annotations

import time
from typing import Any, TypeVar

import pydantic
from pydantic import BaseModel

from app.tui.forms import wire
from app.tui.kinds import KINDS
from app.tui.outbox import PendingWrite

NEW_ID = "pending:"
"""The id of a row that exists only in the outbox so far (a create not sent yet)."""

NOTES = {
    "create": "new · not sent yet",
    "update": "changed · not sent yet",
    "delete": "deleted · not sent yet",
}

M = TypeVar("M", bound=BaseModel)


def is_new(row: Any) -> bool:
    """A row created offline: the service does not know its id yet, so it cannot be edited."""
    return str(getattr(row, "id", "")).startswith(NEW_ID)


def overlay(kind: str, rows: list[M], writes: list[PendingWrite]) -> tuple[list[M], dict[str, str]]:
    """`rows` with the waiting writes of `kind` applied in order, and a note per row id they touch.

    A write that does not fit (a create whose body the model refuses, an update of a row not on
    this page) changes nothing here; it is still listed in the outbox bar."""
    model = KINDS[kind].row if kind in KINDS else None
    waiting = [write for write in writes if write.kind == kind and write.error is None]
    if model is None or not waiting:
        return rows, {}
    shown: list[Any] = list(rows)
    notes: dict[str, str] = {}
    for write in waiting:
        if write.action == "create":
            try:
                row: Any = model.model_validate(
                    {
                        **write.body,
                        "_id": NEW_ID + write.id,
                        "tripId": write.trip_id,
                        "_creationTime": int(time.time() * 1000),
                    }
                )
            except pydantic.ValidationError:
                continue
            shown.append(row)
            notes[row.id] = NOTES["create"]
            continue
        index = _index_of(shown, write.row_id)
        if index is None:
            continue
        if write.action == "update":
            try:
                shown[index] = model.model_validate({**wire(shown[index]), **write.body})
            except pydantic.ValidationError:
                continue
        notes[shown[index].id] = NOTES.get(write.action, "not sent yet")
    return shown, notes


def settle(rows: list[Any], write: PendingWrite, answer: dict[str, Any] | None) -> None:
    """Put the service's answer to a sent `write` into `rows` (in place), so that the row neither
    vanishes nor jumps back between leaving the outbox and the refresh that follows. An answer
    that does not fit changes nothing: that refresh shows the row."""
    model = KINDS[write.kind].row if write.kind in KINDS else None
    if model is None:
        return
    if write.action == "delete":
        rows[:] = [row for row in rows if row.id != write.row_id]
        return
    try:
        fresh: Any = model.model_validate(answer)
    except pydantic.ValidationError:
        return
    index = _index_of(rows, fresh.id)
    if index is None:
        rows.append(fresh)
    else:
        rows[index] = fresh


def _index_of(rows: list[Any], row_id: str | None) -> int | None:
    return next((i for i, row in enumerate(rows) if row.id == row_id), None)
