"""Models of the revision-tracked itinerary (the Travelmode pages): events, diff, summary, ops,
and the live changes feed. These keep the Travelmode snake_case names exactly."""

# Annotations are real objects here, not strings (no `from __future__ import annotations`):
# pydantic would otherwise evaluate each string at class creation, which makes importing it slow.
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.domain.fields import BaseRevision, Date, Id, Time, few_unknown_fields
from app.domain.models import Message

EventType = Literal[
    "dinner", "activity", "birthday", "meeting", "other", "flight", "accommodation", "rental_car"
]
OpType = Literal["add_event", "move_event", "update_event", "remove_event", "reorder"]


class SnakeModel(BaseModel):
    # Built on first use, like `ApiModel` (a server builds them up front: `build_models_now`).
    model_config = ConfigDict(extra="ignore", defer_build=True)

    # For the request models below that forbid unknown fields: many of them are one error.
    _few_unknown_fields = model_validator(mode="before")(few_unknown_fields)


class Event(SnakeModel):
    id: str
    type: EventType
    title: str
    date: str
    time: str | None = None
    end_date: str | None = None
    end_time: str | None = None
    timezone: str | None = Field(
        default=None,
        description="The zone of the start: a commitment's own, else its leg's; a flight's departure zone",
    )
    starts_at: str | None = Field(
        default=None,
        description="RFC 3339 with the offset of `timezone` (2027-01-14T13:05:00+01:00); null when untimed or all-day",
    )
    ends_at: str | None = Field(
        default=None,
        description="RFC 3339 with the offset of the end's zone (`end_timezone`, else `timezone`)",
    )
    end_timezone: str | None = Field(
        default=None,
        description="The zone of the end when it differs from `timezone` (a flight's arrival zone)",
    )
    leg_id: str | None = None
    map_pin_id: str | None = None
    source: Literal["commitment", "leg"]


class Itinerary(SnakeModel):
    trip_id: str
    revision: int
    status: str
    event_count: int
    events: list[Event]


class Operation(SnakeModel):
    op_id: str
    operation_type: str
    result_revision: int
    affected_event_ids: list[str]


class EventDiff(SnakeModel):
    event_id: str
    change: Literal["added", "updated", "removed"]


class ItineraryDiff(SnakeModel):
    trip_id: str
    since_revision: int
    current_revision: int
    operations: list[Operation]
    event_diffs: list[EventDiff]


class Bounds(SnakeModel):
    min_lat: float
    max_lat: float
    min_lng: float
    max_lng: float


ConflictType = Literal[
    "overlapping_commitments",
    "overlapping_legs",
    "outside_trip",
    "outside_leg",
    "night_without_stay",
    "impossible_transfer",
]


class Conflict(SnakeModel):
    type: ConflictType
    event_ids: list[str]
    message: str
    dates: list[str] | None = Field(
        default=None,
        description="night_without_stay only: the evenings (YYYY-MM-DD) of the nights without a stay",
    )


class CompactEvent(SnakeModel):
    id: str
    type: str
    date: str
    time: str | None = None
    title: str | None = None


class ItinerarySummary(SnakeModel):
    trip_id: str
    revision: int
    status: str
    event_count: int
    events_by_type: dict[str, int]
    trip_bounds: Bounds | None
    conflicts: list[Conflict]
    conflict_count: int
    compact_events: list[CompactEvent]


class OpRequest(SnakeModel):
    model_config = ConfigDict(extra="forbid")

    base_revision: BaseRevision
    type: OpType
    payload: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "add_event: commitment fields (title, startDate, category, startTime, endTime, isAllDay, "
            "timezone, legId, mapPinId, notes). move_event: {event_id, date, time?}. update_event: "
            "{event_id, ...fields of the commitment, flight, stay or rental car}. remove_event: "
            "{event_id}. reorder: {leg_ids: every leg id of the trip in the new order}."
        ),
    )


class EventRef(SnakeModel):
    """The payload of remove_event."""

    model_config = ConfigDict(extra="forbid")

    event_id: Id


class MovePayload(SnakeModel):
    model_config = ConfigDict(extra="forbid")

    event_id: Id
    date: Date
    time: Time | None = None


class ReorderPayload(SnakeModel):
    model_config = ConfigDict(extra="forbid")

    leg_ids: list[Id] = Field(max_length=1000)


class OpResultDetail(SnakeModel):
    affected_event_ids: list[str]


class OpResult(SnakeModel):
    success: Literal[True] = True
    trip_id: str
    new_revision: int
    operation: str
    result: OpResultDetail


class Changes(SnakeModel):
    cursor: str
    revision: int
    operations: list[Operation] = []
    messages: list[Message] = []
