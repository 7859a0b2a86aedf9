"""The writes behind the item forms: which form each pane opens, its defaults for a new row, the
save that the form calls (create, or a PATCH that first checks the row did not change on the
server since the form opened), and the same writes queued in the offline outbox and sent later."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pydantic
from pydantic import BaseModel

from app.client import NotFoundError, TripClient, TripConnectionError
from app.client.wire import local_validation_error
from app.domain import models
from app.tui.data import TripData
from app.tui.forms import ChangedOnServer, FieldSpec, Queued, Save, changed_fields, request_body, wire
from app.tui.kinds import KINDS, TRIP, TRIP_MOVES_ON_ITS_OWN, RowKind, describe
from app.tui.outbox import Outbox, PendingWrite, new_key

"""The kind each item pane lists, by its number (the trip screen's keys 1 to 4)."""


@dataclass(frozen=True)
class ItemForm:
    """A kind of row with its form's fields as they are when the form opens."""

    kind: RowKind[Any]
    fields: list[FieldSpec]

    @property
    def name(self) -> str:
        return self.kind.name

    @property
    def noun(self) -> str:
        return self.kind.noun

    @staticmethod
    def describe(row: Any) -> str:
        return describe(row)


def item_kind(name: str, data: TripData) -> ItemForm:
    """The form of one kind of row; choice lists read `data` when the form opens."""
    kind = KINDS[name]
    return ItemForm(kind, kind.fields(data))


def defaults(name: str, data: TripData) -> dict[str, Any]:
    """Sensible values for a new row, so that a few keys make a valid one."""
    return KINDS[name].defaults(data)


def saver(
    client: TripClient | None, trip_id: str, form: ItemForm, row: Any | None, outbox: Outbox | None = None
) -> Save:
    """save(values, overwrite): creates, or PATCHes only what the form changed. Before a PATCH
    it reads the row again: if someone changed it since the form opened, it raises
    `ChangedOnServer` unless `overwrite`, which then makes every field of the form win.

    With an `outbox`: when the service cannot be reached, or earlier writes of the trip still
    wait in the outbox (this one must not overtake them), the write is queued there and the
    save returns `Queued`."""
    state: dict[str, Any] = {"base": row}

    def queue(action: str, body: dict[str, Any], key: str) -> Queued:
        assert outbox is not None
        check(form.kind.name, action, body)
        base = state["base"]
        label = (
            f"new {form.kind.noun} {body_title(body)}"
            if action == "create"
            else f"edit {form.kind.noun} {describe(base)}"
        )
        item = outbox.add_write(
            trip_id,
            form.kind.name,
            action,
            None if base is None else base.id,
            body=body,
            base=None if base is None else comparable(form.kind.name, base),
            label=label,
            idempotency_key=key,
        )
        return Queued(item.label)

    async def save(values: dict[str, Any], overwrite: bool) -> Any:
        if client is None:
            raise RuntimeError("no trip service to save to (fixed demo data)")
        key = new_key()  # one per save: kept if the write has to wait, so a resend cannot write twice
        behind = outbox is not None and outbox.waiting(trip_id)
        if row is None:
            body = request_body(form.fields, values, None)
            if behind:
                return queue("create", body, key)
            try:
                return await form.kind.create(client)(trip_id, body, idempotency_key=key)
            except TripConnectionError:
                if outbox is None:
                    raise
                return queue("create", body, key)
        if behind:
            body = request_body(form.fields, values, state["base"])
            return queue("update", body, key) if body else state["base"]
        try:
            fresh = await form.kind.get(client)(trip_id, row.id)
        except TripConnectionError:
            body = request_body(form.fields, values, state["base"])
            if outbox is None or not body:
                raise
            return queue("update", body, key)
        base = state["base"]
        if wire(fresh) != wire(base) and not overwrite:
            changes = changed_fields(form.fields, base, fresh) or [
                ("(fields this form does not show)", "", "changed")
            ]
            raise ChangedOnServer(changes, fresh)
        state["base"] = fresh
        body = request_body(form.fields, values, fresh)
        if not body:
            return fresh
        try:
            return await form.kind.update(client)(trip_id, row.id, body, idempotency_key=key)
        except TripConnectionError:
            if outbox is None:
                raise
            return queue("update", body, key)  # it may have arrived: the key makes a resend harmless

    return save


# --- writes that wait in the outbox -------------------------------------------------------------


def body_title(body: dict[str, Any]) -> str:
    return str(body.get("title") or body.get("name") or body.get("text") or "")


def comparable(name: str, row: BaseModel | dict[str, Any]) -> dict[str, Any]:
    """The row as wire JSON without the fields that move on their own."""
    data = wire(row) if isinstance(row, BaseModel) else dict(row)
    ignored = TRIP_MOVES_ON_ITS_OWN if name == TRIP else frozenset()
    return {key: value for key, value in data.items() if key not in ignored}


def check(name: str, action: str, body: dict[str, Any]) -> None:
    """Raise the SDK's ValidationError (field paths as the service would name them) when `body`
    is not a valid create or update of `name`; a delete has no body to check."""
    if action == "delete":
        return
    if name == TRIP:
        if action != "update":
            return
        model: type[BaseModel] = models.TripUpdate
    else:
        kind = KINDS[name]
        model = kind.create_model if action == "create" else kind.update_model
    try:
        model.model_validate(body)
    except pydantic.ValidationError as error:
        raise local_validation_error(error, model) from None


class ChangedSince(Exception):
    """A queued edit that was not sent: the row changed (or went) on the server since."""


def already_applied(body: dict[str, Any], row: dict[str, Any]) -> bool:
    """Every field of the PATCH body already has that value in `row` (None: the field is unset)."""
    return all(row.get(key) == value for key, value in body.items())


async def send_queued(client: TripClient, item: PendingWrite) -> dict[str, Any] | None:
    """Send one queued write with its own idempotency key. Returns the row as it is now (wire JSON,
    for the edits of it queued after this one), None after a delete. Raises `ChangedSince` for an
    edit of fields that someone changed on the server since the edit was made (it is not sent),
    and what the SDK raises otherwise.

    Changes of other fields do not stop it: the PATCH carries only the fields this edit changed,
    so theirs stay as they are (someone renamed the item while you ticked it offline: both
    count)."""
    key = item.idempotency_key
    get: Callable[[], Awaitable[Any]]
    update: Callable[[], Awaitable[Any]]
    if item.kind == TRIP:
        get = lambda: client.get_trip(item.trip_id)  # noqa: E731
        update = lambda: client.update_trip(item.trip_id, item.body, idempotency_key=key)  # noqa: E731
    else:
        kind = KINDS[item.kind]
        if item.action == "create":
            return wire(await kind.create(client)(item.trip_id, item.body, idempotency_key=key))
        row_id = item.row_id
        assert row_id is not None, "an update or delete names its row"
        if item.action == "delete":
            try:
                await kind.delete(client)(item.trip_id, row_id, idempotency_key=key)
            except NotFoundError:
                pass  # already gone: what the delete was for
            return None
        get = lambda: kind.get(client)(item.trip_id, row_id)  # noqa: E731
        update = lambda: kind.update(client)(item.trip_id, row_id, item.body, idempotency_key=key)  # noqa: E731
    try:
        now = comparable(item.kind, await get())
    except NotFoundError:
        raise ChangedSince("deleted on the server since: nothing left to edit") from None
    if item.base is not None and now != item.base:
        if already_applied(item.body, now):
            return now  # an earlier attempt arrived (its answer did not), or someone made the same change
        clashing = sorted(key for key in item.body if now.get(key) != item.base.get(key))
        if clashing:
            raise ChangedSince(
                f"changed on the server since ({', '.join(clashing)}): re-open it and edit again"
            )
    if not item.body:
        return now
    return comparable(item.kind, await update())


def moved(order: list[str], item_id: str, step: int) -> list[str]:
    """`order` with `item_id` moved `step` places (clamped at both ends)."""
    if item_id not in order:
        return list(order)
    index = order.index(item_id)
    target = max(0, min(len(order) - 1, index + step))
    result = [i for i in order if i != item_id]
    result.insert(target, item_id)
    return result
