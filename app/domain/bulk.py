"""Models of the bulk endpoints: batch upserts, sync, export and the shared (no auth) views."""

# Annotations are real objects here, not strings (no `from __future__ import annotations`):
# pydantic would otherwise evaluate each string at class creation, which makes importing it slow.
from typing import Annotated, Any, Literal

from pydantic import Field, WithJsonSchema

from app.domain.fields import ApiModel, InputModel
from app.domain.models import (
    ActionItem,
    ActionItemCreate,
    Commitment,
    Leg,
    LegCreate,
    MapPin,
    MapPinCreate,
    Member,
    Trip,
)

BATCH_MAX = 50
SYNC_MAX = 500


class ErrorDetail(ApiModel):
    path: str
    reason: str


class ErrorBody(ApiModel):
    code: str
    message: str
    request_id: str | None = None
    details: list[ErrorDetail] | None = None


class ErrorEnvelope(ApiModel):
    error: ErrorBody


def items_schema(model: str, maximum: int, minimum: int = 0) -> WithJsonSchema:
    """For `Annotated[list[Any], items_schema(...)]`: a list whose items are validated one by one
    by the service (a bad item fails alone, so the envelope accepts any JSON value), documented in
    OpenAPI as a list of `model`."""
    schema: dict[str, Any] = {
        "type": "array",
        "items": {"$ref": f"#/components/schemas/{model}"},
        "maxItems": maximum,
    }
    if minimum:
        schema["minItems"] = minimum
    return WithJsonSchema(schema)


class LegBatch(InputModel):
    items: Annotated[list[Any], items_schema("LegCreate", BATCH_MAX, 1)] = Field(
        min_length=1, max_length=BATCH_MAX
    )


class ActionItemBatch(InputModel):
    items: Annotated[list[Any], items_schema("ActionItemCreate", BATCH_MAX, 1)] = Field(
        min_length=1, max_length=BATCH_MAX
    )


class MapPinBatch(InputModel):
    items: Annotated[list[Any], items_schema("MapPinCreate", BATCH_MAX, 1)] = Field(
        min_length=1, max_length=BATCH_MAX
    )


class ItemResult(ApiModel):
    index: int
    status: Literal["created", "updated", "error"]
    id: str | None = Field(default=None, alias="_id")
    client_ref: str | None = None
    error: ErrorBody | None = None


class BatchResult(ApiModel):
    created: int
    updated: int
    errors: int
    results: list[ItemResult]


class SyncRequest(InputModel):
    legs: Annotated[list[Any], items_schema("LegCreate", SYNC_MAX)] | None = Field(
        default=None, max_length=SYNC_MAX
    )
    action_items: Annotated[list[Any], items_schema("ActionItemCreate", SYNC_MAX)] | None = Field(
        default=None, max_length=SYNC_MAX
    )
    map_pins: Annotated[list[Any], items_schema("MapPinCreate", SYNC_MAX)] | None = Field(
        default=None, max_length=SYNC_MAX
    )


class SyncCategory(ApiModel):
    created: int = 0
    updated: int = 0
    errors: int = 0
    items: list[ItemResult] = []


class SyncResult(ApiModel):
    dry_run: bool
    legs: SyncCategory
    action_items: SyncCategory
    map_pins: SyncCategory


class TripExport(ApiModel):
    trip: Trip
    legs: list[Leg]
    map_pins: list[MapPin]
    action_items: list[ActionItem]
    commitments: list[Commitment]
    members: list[Member]


class SharedTrip(ApiModel):
    """A trip as a share token shows it (the same fields as `Trip`)."""

    id: str = Field(alias="_id")
    creation_time: int = Field(alias="_creationTime")
    group_id: str
    title: str
    start_date: str
    end_date: str
    status: str
    revision: int
    created_by: str
    member_count: int | None = None
    min_connection_minutes: int | None = None


class SharedStay(ApiModel):
    name: str | None = None
    address: str | None = None
    lat: float | None = None
    lng: float | None = None
    check_in: str | None = None
    check_out: str | None = None


class SharedFlight(ApiModel):
    airline: str | None = None
    flight_number: str | None = None
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    departure_time: str | None = None
    arrival_time: str | None = None
    departure_timezone: str | None = None
    departure_timezone_source: str | None = None
    arrival_timezone: str | None = None
    arrival_timezone_source: str | None = None


class SharedRentalCar(ApiModel):
    company: str | None = None
    pickup_location: str | None = None
    pickup_time: str | None = None
    dropoff_location: str | None = None
    dropoff_time: str | None = None


class SharedLeg(ApiModel):
    id: str = Field(alias="_id")
    creation_time: int = Field(alias="_creationTime")
    trip_id: str
    order: float
    title: str
    destination: str
    start_date: str
    end_date: str
    timezone: str
    accommodation: SharedStay | None = None
    stays: list[SharedStay]
    flights: list[SharedFlight]
    rental_car: SharedRentalCar | None = None


class SharedActionItem(ApiModel):
    id: str = Field(alias="_id")
    creation_time: int = Field(alias="_creationTime")
    trip_id: str
    text: str
    urgency: str
    owner: str | None = None
    done: bool


class SharedMapPin(ApiModel):
    id: str = Field(alias="_id")
    creation_time: int = Field(alias="_creationTime")
    trip_id: str
    name: str
    lat: float
    lng: float
    category: str | None = None
    notes: str | None = None


class SharedMember(ApiModel):
    user_id: str
    name: str
    role: str


class SharedExport(ApiModel):
    """The export's shape with the safe projection: see `app/server/share.py` for the allowlist."""

    trip: SharedTrip
    legs: list[SharedLeg]
    map_pins: list[SharedMapPin]
    action_items: list[SharedActionItem]
    commitments: list[Commitment]
    members: list[SharedMember]


class ShareToken(ApiModel):
    token: str
    url: str


# The item schemas a batch or sync item is validated against (documented in OpenAPI).
BATCH_ITEM_MODELS = {"legs": LegCreate, "actionItems": ActionItemCreate, "mapPins": MapPinCreate}
