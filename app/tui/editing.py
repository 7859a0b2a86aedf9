"""The writes behind the item forms: which form each pane opens, its defaults for a new row, the
save that the form calls (create, or a PATCH that first checks the row did not change on the
server since the form opened), and the same writes queued in the offline outbox and sent later."""

from __future__ import annotations

from typing import Any

import pydantic
from pydantic import BaseModel

from app.client import NotFoundError, TripClient, TripConnectionError
from app.client.wire import local_validation_error
from app.domain import models
from app.tui.data import TripData
from app.tui.forms import (
    FieldSpec,
    ItemKind,
    action_item_fields,
    changed_fields,
    commitment_fields,
    leg_fields,
    pin_fields,
    request_body,
    wire,
)
from app.tui.outbox import Outbox, PendingWrite, new_key
from app.tui.screens.form import ChangedOnServer, Queued, Save

KIND_OF_PANE = {1: "legs", 2: "pins", 3: "action_items", 4: "commitments"}

WRITES = {
    "legs": ("create_leg", "get_leg", "update_leg", "delete_leg"),
    "pins": ("create_map_pin", "get_map_pin", "update_map_pin", "delete_map_pin"),
    "action_items": ("create_action_item", "get_action_item", "update_action_item", "delete_action_item"),
    "commitments": ("create_commitment", "get_commitment", "update_commitment", "delete_commitment"),
}
"""The SDK methods that create, read, update and delete each kind of row."""

MODELS: dict[str, tuple[type[BaseModel] | None, type[BaseModel]]] = {
    "legs": (models.LegCreate, models.LegUpdate),
    "pins": (models.MapPinCreate, models.MapPinUpdate),
    "action_items": (models.ActionItemCreate, models.ActionItemUpdate),
    "commitments": (models.CommitmentCreate, models.CommitmentUpdate),
    "trip": (None, models.TripUpdate),
}
"""The request bodies of each kind's create and update: a write checked against them before it
is queued, so a field the service would refuse is marked in the form, not found out later."""

NOUNS = {
    "legs": "leg",
    "pins": "map pin",
    "action_items": "action item",
    "commitments": "commitment",
    "trip": "trip",
}

IGNORED = {"trip": frozenset({"revision", "memberCount"})}
"""Fields that move without anyone editing the row: a trip's revision moves with every item change."""


def item_kind(name: str, data: TripData) -> ItemKind:
    """The form of one kind of row; choice lists read `data` when the form opens."""
    if name == "legs":
        return ItemKind("legs", NOUNS[name], leg_fields(), *WRITES[name])
    if name == "pins":
        return ItemKind("pins", NOUNS[name], pin_fields(), *WRITES[name])
    if name == "action_items":
        members = lambda: [(member.name, member.user_id) for member in data.members]  # noqa: E731
        return ItemKind("action_items", NOUNS[name], action_item_fields(members), *WRITES[name])
    if name == "commitments":
        legs = lambda: [(leg.title, leg.id) for leg in data.legs.items]  # noqa: E731
        pins = lambda: [(pin.name, pin.id) for pin in data.pins.items]  # noqa: E731
        return ItemKind("commitments", NOUNS[name], commitment_fields(legs, pins), *WRITES[name])
    raise KeyError(name)


def defaults(name: str, data: TripData) -> dict[str, Any]:
    """Sensible values for a new row, so that a few keys make a valid one."""
    trip = data.trip
    if name == "legs":
        legs = data.legs.items
        return {
            "order": str(int(max((leg.order for leg in legs), default=0)) + 1),
            "startDate": legs[-1].end_date if legs else trip.start_date,
            "endDate": trip.end_date,
            "timezone": legs[-1].timezone if legs else "",
        }
    if name == "action_items":
        return {"urgency": "before_trip", "done": False}
    if name == "commitments":
        return {"startDate": trip.start_date, "category": "activity", "isAllDay": False}
    return {}


def saver(
    client: TripClient | None, trip_id: str, kind: ItemKind, row: Any | None, outbox: Outbox | None = None
) -> Save:
    """save(values, overwrite): creates, or PATCHes only what the form changed. Before a PATCH
    it reads the row again: if someone changed it since the form opened, it raises
    `ChangedOnServer` unless `overwrite`, which then makes every field of the form win.

    With an `outbox`: when the service cannot be reached, or earlier writes of the trip still
    wait in the outbox (this one must not overtake them), the write is queued there and the
    save returns `Queued`."""
    state = {"base": row}

    def queue(action: str, body: dict[str, Any], key: str) -> Queued:
        assert outbox is not None
        check(kind.name, action, body)
        base = state["base"]
        label = (
            f"new {kind.noun} {body_title(body)}"
            if action == "create"
            else f"edit {kind.noun} {kind.describe(base)}"
        )
        item = outbox.add_write(
            trip_id,
            kind.name,
            action,
            None if base is None else base.id,
            body=body,
            base=None if base is None else comparable(kind.name, base),
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
            body = request_body(kind.fields, values, None)
            if behind:
                return queue("create", body, key)
            try:
                return await getattr(client, kind.create)(trip_id, body, idempotency_key=key)
            except TripConnectionError:
                if outbox is None:
                    raise
                return queue("create", body, key)
        if behind:
            body = request_body(kind.fields, values, state["base"])
            return queue("update", body, key) if body else state["base"]
        try:
            fresh = await getattr(client, kind.get)(trip_id, row.id)
        except TripConnectionError:
            body = request_body(kind.fields, values, state["base"])
            if outbox is None or not body:
                raise
            return queue("update", body, key)
        base = state["base"]
        if wire(fresh) != wire(base) and not overwrite:
            changes = changed_fields(kind.fields, base, fresh) or [
                ("(fields this form does not show)", "", "changed")
            ]
            raise ChangedOnServer(changes, fresh)
        state["base"] = fresh
        body = request_body(kind.fields, values, fresh)
        if not body:
            return fresh
        try:
            return await getattr(client, kind.update)(trip_id, row.id, body, idempotency_key=key)
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
    ignored = IGNORED.get(name, frozenset())
    return {key: value for key, value in data.items() if key not in ignored}


def check(name: str, action: str, body: dict[str, Any]) -> None:
    """Raise the SDK's ValidationError (field paths as the service would name them) when `body`
    is not a valid create or update of `name`; a delete has no body to check."""
    if action == "delete":
        return
    create, update = MODELS[name]
    model = create if action == "create" else update
    if model is None:
        return
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
    if item.kind == "trip":
        get = lambda: client.get_trip(item.trip_id)  # noqa: E731
        update = lambda: client.update_trip(item.trip_id, item.body, idempotency_key=key)  # noqa: E731
    else:
        create, read, change, delete = (getattr(client, method) for method in WRITES[item.kind])
        if item.action == "create":
            return wire(await create(item.trip_id, item.body, idempotency_key=key))
        if item.action == "delete":
            try:
                await delete(item.trip_id, item.row_id, idempotency_key=key)
            except NotFoundError:
                pass  # already gone: what the delete was for
            return None
        get = lambda: read(item.trip_id, item.row_id)  # noqa: E731
        update = lambda: change(item.trip_id, item.row_id, item.body, idempotency_key=key)  # noqa: E731
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


def specs_of(name: str, data: TripData) -> list[FieldSpec]:
    return item_kind(name, data).fields


def moved(order: list[str], item_id: str, step: int) -> list[str]:
    """`order` with `item_id` moved `step` places (clamped at both ends)."""
    if item_id not in order:
        return list(order)
    index = order.index(item_id)
    target = max(0, min(len(order) - 1, index + step))
    result = [i for i in order if i != item_id]
    result.insert(target, item_id)
    return result
