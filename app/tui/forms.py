"""What the item forms edit, as data: for each kind of row (legs, map pins, action items,
commitments) a list of `FieldSpec`s keyed by the field's wire path (`accommodation.checkIn`,
`flights.0.airline`) and the values a new row starts with; the values in and out of a form; and
what a form's save returns or raises (`Queued`, `ChangedOnServer`).

The one `FormScreen` draws any of them; the API validates (bodies are sent as wire JSON, so the
service's `details` paths match the specs' paths and mark the wrong field). Which kind has which
fields is said once, in app/tui/kinds.py."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import BaseModel

from app.domain.models import Category, Urgency
from app.tui.data import TripData

Choices = Callable[[], list[tuple[str, str]]]
"""(label, value) pairs, asked for when the form opens (members, legs, pins change)."""


@dataclass(frozen=True)
class FieldSpec:
    path: str
    """The wire path, as in the API's validation `details`."""
    label: str
    kind: str = "text"
    """text, number, choice or flag."""
    placeholder: str = ""
    """A hint for an empty field, drawn in italics; one that could be read as a value starts
    with "e.g." (a real default is set as the value instead)."""
    choices: Choices | None = None
    required: bool = False

    @property
    def widget_id(self) -> str:
        return "field-" + self.path.replace(".", "-")


class ChangedOnServer(Exception):
    """Raised by a form's save: the row changed on the server since the form opened."""

    def __init__(self, changes: list[tuple[str, str, str]], fresh: Any) -> None:
        super().__init__("changed on the server")
        self.changes = changes
        self.fresh = fresh


@dataclass(frozen=True)
class Queued:
    """What a save returns when the service could not be reached: the write waits on disk in the
    offline outbox and is sent when the service is back."""

    label: str
    """What was queued ("edit leg Lisbon"): user text, shown literally."""


Save = Callable[[dict[str, Any], bool], Awaitable[Any]]
"""save(values, overwrite) -> the written row, or `Queued`; raises ValidationError or ChangedOnServer."""


def _enum_choices(enum: type[Enum]) -> Choices:
    return lambda: [(member.value.replace("_", " "), member.value) for member in enum]


def leg_fields() -> list[FieldSpec]:
    return [
        FieldSpec("title", "Title", required=True),
        FieldSpec("destination", "Destination", required=True),
        FieldSpec("startDate", "Start date", placeholder="YYYY-MM-DD", required=True),
        FieldSpec("endDate", "End date", placeholder="YYYY-MM-DD", required=True),
        FieldSpec("timezone", "Time zone", placeholder="e.g. Europe/Lisbon (IANA name)", required=True),
        FieldSpec("order", "Order", kind="number", placeholder="place in the trip, e.g. 1", required=True),
        FieldSpec("accommodation.name", "Stay: name"),
        FieldSpec("accommodation.checkIn", "Stay: check-in", placeholder="YYYY-MM-DDTHH:MM"),
        FieldSpec("accommodation.checkOut", "Stay: check-out", placeholder="YYYY-MM-DDTHH:MM"),
        FieldSpec("flights.0.airline", "Flight: airline"),
        FieldSpec("flights.0.flightNumber", "Flight: number"),
        FieldSpec("flights.0.from", "Flight: from"),
        FieldSpec("flights.0.to", "Flight: to"),
        FieldSpec("flights.0.departureTime", "Flight: departs", placeholder="YYYY-MM-DDTHH:MM"),
        FieldSpec("flights.0.arrivalTime", "Flight: arrives", placeholder="YYYY-MM-DDTHH:MM"),
        FieldSpec("rentalCar.company", "Car: company"),
        FieldSpec("rentalCar.pickupLocation", "Car: pickup at"),
        FieldSpec("rentalCar.pickupTime", "Car: pickup time", placeholder="YYYY-MM-DDTHH:MM"),
    ]


def pin_fields() -> list[FieldSpec]:
    return [
        FieldSpec("name", "Name", required=True),
        FieldSpec("lat", "Latitude", kind="number", placeholder="e.g. 38.7223 (-90 to 90)", required=True),
        FieldSpec("lng", "Longitude", kind="number", placeholder="e.g. -9.1393 (-180 to 180)", required=True),
        FieldSpec("category", "Category", placeholder="e.g. food, sight, stay"),
        FieldSpec("notes", "Notes"),
    ]


def action_item_fields(members: Choices) -> list[FieldSpec]:
    return [
        FieldSpec("text", "Text", required=True),
        FieldSpec("urgency", "Urgency", kind="choice", choices=_enum_choices(Urgency), required=True),
        FieldSpec("owner", "Owner", kind="choice", choices=members),
        FieldSpec("done", "Done", kind="flag"),
    ]


def commitment_fields(legs: Choices, pins: Choices) -> list[FieldSpec]:
    return [
        FieldSpec("title", "Title", required=True),
        FieldSpec("startDate", "Date", placeholder="YYYY-MM-DD", required=True),
        FieldSpec("isAllDay", "All day", kind="flag"),
        FieldSpec("startTime", "Start time", placeholder="HH:MM"),
        FieldSpec("endTime", "End time", placeholder="HH:MM"),
        FieldSpec("timezone", "Time zone", placeholder="leg's zone when empty"),
        FieldSpec("category", "Category", kind="choice", choices=_enum_choices(Category), required=True),
        FieldSpec("legId", "Leg", kind="choice", choices=legs),
        FieldSpec("mapPinId", "Map pin", kind="choice", choices=pins),
        FieldSpec("notes", "Notes"),
    ]


def leg_defaults(data: TripData) -> dict[str, Any]:
    """A new leg goes last: it starts where the last one ends, in its time zone."""
    trip = data.trip
    legs = data.legs.items
    return {
        "order": str(int(max((leg.order for leg in legs), default=0)) + 1),
        "startDate": legs[-1].end_date if legs else trip.start_date,
        "endDate": trip.end_date,
        "timezone": legs[-1].timezone if legs else "",
    }


def action_item_defaults(data: TripData) -> dict[str, Any]:
    return {"urgency": "before_trip", "done": False}


def commitment_defaults(data: TripData) -> dict[str, Any]:
    return {"startDate": data.trip.start_date, "category": "activity", "isAllDay": False}


# --- values in and out -------------------------------------------------------------------------


def _split(path: str) -> list[str | int]:
    return [int(part) if part.isdigit() else part for part in path.split(".")]


def wire(row: BaseModel | None) -> dict[str, Any]:
    return row.model_dump(by_alias=True, mode="json", exclude_none=True) if row is not None else {}


def read_path(data: Any, path: str) -> Any:
    for part in _split(path):
        if isinstance(part, int):
            if not isinstance(data, list) or part >= len(data):
                return None
        elif not isinstance(data, dict):
            return None
        data = data[part] if isinstance(part, int) else data.get(part)
    return data


def form_values(
    specs: list[FieldSpec], row: BaseModel | None, defaults: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What each field shows when the form opens: the row's value, or a default for a new row."""
    data = wire(row)
    values: dict[str, Any] = {}
    for spec in specs:
        value = read_path(data, spec.path) if row is not None else (defaults or {}).get(spec.path)
        if spec.kind == "flag":
            values[spec.path] = bool(value)
        elif spec.kind == "choice":
            values[spec.path] = value
        elif value is None:
            values[spec.path] = ""
        elif spec.kind == "number" and isinstance(value, float) and value.is_integer():
            values[spec.path] = str(int(value))
        else:
            values[spec.path] = str(value)
    return values


def _typed(spec: FieldSpec, value: Any) -> Any:
    """A field's input as the API wants it. Text that is not a number stays text, so the API
    answers with a validation detail for that field instead of the form guessing."""
    if spec.kind == "flag":
        return bool(value)
    if spec.kind == "choice":
        return value
    text = str(value)
    if text.strip() == "":
        return "" if spec.required else None
    if spec.kind == "number":
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() and "." not in text else number
    return text


def _put(data: dict[str, Any], path: str, value: Any) -> None:
    parts = _split(path)
    target: Any = data
    for part, following in itertools.pairwise(parts):
        if isinstance(part, int):
            while len(target) <= part:
                target.append({})
            target = target[part]
        else:
            if not isinstance(target.get(part), (dict, list)):
                target[part] = [] if isinstance(following, int) else {}
            target = target[part]
    last = parts[-1]
    if isinstance(target, dict):
        if value is None:
            target.pop(last, None)
        else:
            target[last] = value


def _prune(value: Any) -> Any:
    """Nested objects left empty become None (no stay, no car); empty list entries go."""
    if isinstance(value, dict):
        pruned = {key: _prune(item) for key, item in value.items()}
        pruned = {key: item for key, item in pruned.items() if item is not None}
        return pruned or None
    if isinstance(value, list):
        return [item for item in (_prune(item) for item in value) if item is not None]
    return value


def request_body(specs: list[FieldSpec], values: dict[str, Any], row: BaseModel | None) -> dict[str, Any]:
    """The wire body of a create (row None) or a PATCH of `row`.

    Nested objects start from the row's current value, so fields the form does not show (a
    stay's door code, a leg's second flight) are sent back unchanged, not dropped."""
    original = wire(row)
    data = copy.deepcopy(original)
    for spec in specs:
        _put(data, spec.path, _typed(spec, values.get(spec.path)))
    tops = list(dict.fromkeys(spec.path.split(".")[0] for spec in specs))
    body: dict[str, Any] = {}
    for top in tops:
        value = data.get(top)
        if isinstance(value, (dict, list)):
            value = _prune(value)
            if isinstance(value, list) and not value:
                value = [] if row is not None else None
        if row is None:
            if value is not None:
                body[top] = value
        elif value != original.get(top):
            body[top] = value  # None clears a field
    return body


def changed_fields(specs: list[FieldSpec], before: BaseModel, after: BaseModel) -> list[tuple[str, str, str]]:
    """(label, before, after) for each form field whose value differs between two versions."""
    old, new = form_values(specs, before), form_values(specs, after)
    return [
        (spec.label, _shown(old[spec.path]), _shown(new[spec.path]))
        for spec in specs
        if old[spec.path] != new[spec.path]
    ]


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)
