"""Models of the activity feed and revert (API-CONTRACT section 13): who changed what in a trip,
field by field, and the revert that undoes one change as a new operation. Like the operations
they describe, they keep the Travelmode snake_case names; the actor is camelCase (`userId`)."""

# Annotations are real objects here, not strings (see app/domain/models.py).
from typing import Any, Literal

from pydantic import ConfigDict, Field

from app.domain.fields import ApiModel, BaseRevision
from app.domain.itinerary import SnakeModel
from app.domain.models import Page

RowKind = Literal["trip", "leg", "commitment", "map_pin", "action_item"]


class ActivityActor(ApiModel):
    user_id: str | None = Field(
        default=None, description="null for operations logged before the feed kept it"
    )
    name: str | None = None
    key_name: str | None = Field(default=None, description="The name of the API key that made the change")


class FieldChange(SnakeModel):
    before: Any = None
    after: Any = None


class RowChange(SnakeModel):
    id: str = Field(description="The row's `_id` (the trip's own id for changes of the trip)")
    kind: RowKind
    change: Literal["created", "updated", "deleted"]
    label: str | None = Field(default=None, description="The row's title, name or text, as it was then")
    fields: dict[str, FieldChange] = Field(
        description="camelCase field name -> {before, after}: only the fields that changed (all of them "
        "for a created or deleted row, the other side null)"
    )


class Activity(SnakeModel):
    op_id: str
    operation_type: str
    result_revision: int
    created_at: int = Field(description="Milliseconds since the epoch")
    actor: ActivityActor
    summary: str = Field(
        description="One sentence for people: “Maya moved “Flamenco class” from 15:30 to 17:30”"
    )
    changes: list[RowChange] = Field(
        description="The rows it changed, the first 50 of them (see changes_total)"
    )
    changes_total: int = Field(default=0, description="How many rows it changed in all")
    reverted_by: str | None = Field(default=None, description="The op_id of a later revert of this operation")
    reverts: str | None = Field(default=None, description="For a revert: the op_id it undid")


class ActivityPage(Page):
    """One page of the activity feed, newest first."""

    items: list[Activity]


class RevertRequest(SnakeModel):
    model_config = ConfigDict(extra="forbid")

    base_revision: BaseRevision


class RevertResult(SnakeModel):
    operation: Activity
    revision: int
