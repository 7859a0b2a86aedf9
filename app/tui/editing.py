"""The writes behind the item forms: which form each pane opens, its defaults for a new row, and
the save that the form calls (create, or a PATCH that first checks the row did not change on the
server since the form opened)."""

from __future__ import annotations

from typing import Any

from app.client import TripClient
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
from app.tui.screens.form import ChangedOnServer, Save

KIND_OF_PANE = {1: "legs", 2: "pins", 3: "action_items", 4: "commitments"}


def item_kind(name: str, data: TripData) -> ItemKind:
    """The form of one kind of row; choice lists read `data` when the form opens."""
    if name == "legs":
        return ItemKind("legs", "leg", leg_fields(), "create_leg", "get_leg", "update_leg", "delete_leg")
    if name == "pins":
        return ItemKind("pins", "map pin", pin_fields(), "create_map_pin", "get_map_pin", "update_map_pin",
                        "delete_map_pin")
    if name == "action_items":
        members = lambda: [(member.name, member.user_id) for member in data.members]  # noqa: E731
        return ItemKind("action_items", "action item", action_item_fields(members), "create_action_item",
                        "get_action_item", "update_action_item", "delete_action_item")
    if name == "commitments":
        legs = lambda: [(leg.title, leg.id) for leg in data.legs.items]  # noqa: E731
        pins = lambda: [(pin.name, pin.id) for pin in data.pins.items]  # noqa: E731
        return ItemKind("commitments", "commitment", commitment_fields(legs, pins), "create_commitment",
                        "get_commitment", "update_commitment", "delete_commitment")
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


def saver(client: TripClient | None, trip_id: str, kind: ItemKind, row: Any | None) -> Save:
    """save(values, overwrite): creates, or PATCHes only what the form changed. Before a PATCH
    it reads the row again: if someone changed it since the form opened, it raises
    `ChangedOnServer` unless `overwrite`, which then makes every field of the form win."""
    state = {"base": row}

    async def save(values: dict[str, Any], overwrite: bool) -> Any:
        if client is None:
            raise RuntimeError("no trip service to save to (fixed demo data)")
        if row is None:
            return await getattr(client, kind.create)(trip_id, request_body(kind.fields, values, None))
        fresh = await getattr(client, kind.get)(trip_id, row.id)
        base = state["base"]
        if wire(fresh) != wire(base) and not overwrite:
            changes = changed_fields(kind.fields, base, fresh) or [("(fields this form does not show)", "", "changed")]
            raise ChangedOnServer(changes, fresh)
        state["base"] = fresh
        body = request_body(kind.fields, values, fresh)
        if not body:
            return fresh
        return await getattr(client, kind.update)(trip_id, row.id, body)

    return save


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
