"""Models of the bulk endpoints: batch upserts, sync, export and the shared (no auth) views."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

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


class LegBatch(InputModel):
    items: list[dict[str, Any]] = Field(min_length=1, max_length=BATCH_MAX)


class ActionItemBatch(InputModel):
    items: list[dict[str, Any]] = Field(min_length=1, max_length=BATCH_MAX)


class MapPinBatch(InputModel):
    items: list[dict[str, Any]] = Field(min_length=1, max_length=BATCH_MAX)


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
    legs: list[dict[str, Any]] | None = Field(default=None, max_length=SYNC_MAX)
    action_items: list[dict[str, Any]] | None = Field(default=None, max_length=SYNC_MAX)
    map_pins: list[dict[str, Any]] | None = Field(default=None, max_length=SYNC_MAX)


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


class ShareToken(ApiModel):
    token: str
    url: str


# The item schemas a batch or sync item is validated against (documented in OpenAPI).
BATCH_ITEM_MODELS = {"legs": LegCreate, "actionItems": ActionItemCreate, "mapPins": MapPinCreate}
