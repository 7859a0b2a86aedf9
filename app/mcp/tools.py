"""The MCP tools: one per capability of the trip API, each a thin call into `app.client`.

Conventions an agent can rely on:
- Arguments that pick things (`trip_id`, `leg_id`, `limit`...) are snake_case; objects that
  go into the API (`leg`, `changes`, `items`) are the API's own JSON (camelCase, as in
  `GET /trips/{id}/export`), checked against the same schema the API uses.
- A tool answers with the API's JSON. A failure answers `isError: true` with
  `{"error": {"status", "code", "message", "requestId", "details"}}`.
- Every write sends an Idempotency-Key (one per call, reused by the SDK's retries); pass
  `idempotency_key` to make a retried tool call safe as well.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from mcp.types import CallToolResult, ToolAnnotations
from pydantic import BaseModel, Field

from app.client import NOT_GIVEN, NotSupportedError
from app.domain import (
    ActionItem,
    ActionItemCreate,
    ActionItemUpdate,
    Activity,
    BatchResult,
    Changes,
    Channel,
    Commitment,
    CommitmentCreate,
    CommitmentUpdate,
    Itinerary,
    ItineraryDiff,
    ItinerarySummary,
    Leg,
    LegCreate,
    LegUpdate,
    MapPin,
    MapPinCreate,
    MapPinUpdate,
    Me,
    Member,
    Message,
    OpResult,
    Page,
    RevertResult,
    ShareToken,
    SshKeyPage,
    SyncResult,
    Trip,
    TripExport,
)
from app.domain.bulk import BATCH_MAX, SYNC_MAX
from app.domain.fields import Date
from app.domain.models import Role, TripStatus
from app.mcp.results import EXPECTED, ToolInputError, failure, success

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from app.client import TripClient

# --- argument types (the descriptions become the tools' JSON schemas) -----------------------

TripId = Annotated[str, Field(min_length=1, description="The trip's `_id` (see list_trips).")]
LegId = Annotated[str, Field(min_length=1, description="The leg's `_id` (see list_legs).")]
PinId = Annotated[str, Field(min_length=1, description="The map pin's `_id` (see list_map_pins).")]
ActionItemId = Annotated[
    str, Field(min_length=1, description="The action item's `_id` (see list_action_items).")
]
CommitmentId = Annotated[
    str, Field(min_length=1, description="The commitment's `_id` (see list_commitments).")
]
UserId = Annotated[str, Field(min_length=1, description="The member's `userId` (see list_members).")]
Limit = Annotated[
    int | None,
    Field(ge=1, description="Page size. Default 100 (max 200); messages: default 50 (max 100)."),
]
Cursor = Annotated[
    str | None, Field(min_length=1, description="`nextCursor` of the previous page; omit for the first page.")
]
IdempotencyKey = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=255,
        description="Optional. Reuse the same key when retrying a call whose outcome you did not see: "
        "the API then replays the first answer instead of doing the write twice. "
        "Omitted: a fresh key is used for this call.",
    ),
]
BatchItems = Annotated[
    list[dict[str, Any]],
    Field(
        min_length=1,
        max_length=BATCH_MAX,
        description="1..50 create bodies in the API's JSON (as for add_leg / add_action_item / add_map_pin). "
        "An item whose `clientRef` exists diff-merges into that row.",
    ),
]
SyncItems = Annotated[list[dict[str, Any]] | None, Field(max_length=SYNC_MAX)]


class Removed(BaseModel):
    """What a delete answers: the API itself answers 204 with no body."""

    removed: Literal[True] = True
    kind: str
    id: str


# --- registration -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolSpec:
    title: str
    read_only: bool
    destructive: bool
    idempotent: bool


def tool(title: str, *, read_only: bool = False, destructive: bool = False, idempotent: bool = False):
    """Marks a `TripTools` method as an MCP tool; `register` adds the marked methods."""

    def mark(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        method.__mcp_tool__ = ToolSpec(title, read_only, destructive, idempotent)  # type: ignore[attr-defined]
        return method

    return mark


def reporting_errors(method: Callable[..., Awaitable[BaseModel]]) -> Callable[..., Awaitable[CallToolResult]]:
    """The tool as the SDK calls it: its result becomes the API's JSON, its expected failures an
    error result. The signature (and so the JSON schemas) stay the method's own."""

    @functools.wraps(method)
    async def run(**arguments: Any) -> CallToolResult:
        try:
            return success(await method(**arguments))
        except EXPECTED as exc:
            return failure(exc)

    return run


class TripTools:
    """Every tool, bound to the `TripClient` that `client_source()` returns at call time (the
    server's lifespan opens it)."""

    def __init__(self, client_source: Callable[[], TripClient]) -> None:
        self._client_source = client_source

    @property
    def client(self) -> TripClient:
        return self._client_source()

    def register(self, server: MCPServer) -> None:
        # In definition order, so tools/list reads like this class.
        for name, function in vars(type(self)).items():
            spec: ToolSpec | None = getattr(function, "__mcp_tool__", None)
            if spec is None:
                continue
            method = getattr(self, name)
            server.add_tool(
                reporting_errors(method),
                name=name,
                title=spec.title,
                description=inspect.cleandoc(method.__doc__ or ""),
                annotations=ToolAnnotations(
                    title=spec.title,
                    read_only_hint=spec.read_only,
                    destructive_hint=spec.destructive if not spec.read_only else None,
                    idempotent_hint=spec.idempotent or spec.read_only,
                    open_world_hint=False,
                ),
            )

    # --- you and your trips ----------------------------------------------------------------

    @tool("Who am I", read_only=True)
    async def me(self) -> Me:
        """The user behind the API key: name, email, groups and `defaultGroupId` (where new trips go)."""
        return await self.client.me()

    @tool("List my SSH keys", read_only=True)
    async def list_ssh_keys(self) -> SshKeyPage:
        """The SSH public keys that sign this user in to `trip ssh` (name, fingerprint, last use).
        Registering or deleting one is left to the user (the terminal app, `trip keys add-ssh`):
        a key an agent registered would be a way into the account that outlives the agent."""
        return SshKeyPage(items=await self.client.list_ssh_keys())

    @tool("List trips", read_only=True)
    async def list_trips(self, limit: Limit = None, cursor: Cursor = None) -> Page[Trip]:
        """One page of the trips this key may read. Follow `nextCursor` for more."""
        return await self.client.list_trips(limit=limit, cursor=cursor)

    @tool("Get a trip", read_only=True)
    async def get_trip(self, trip_id: TripId) -> Trip:
        """One trip: title, dates, status (draft|active|completed) and its current `revision`."""
        return await self.client.get_trip(trip_id)

    @tool("Create a trip")
    async def create_trip(
        self,
        title: Annotated[str, Field(min_length=1, max_length=200, description="The trip's name.")],
        start_date: Annotated[Date, Field(description="First day, YYYY-MM-DD.")],
        end_date: Annotated[Date, Field(description="Last day, YYYY-MM-DD (not before start_date).")],
        group_id: Annotated[
            str | None,
            Field(min_length=1, description="Group that owns the trip; default: your default group."),
        ] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Trip:
        """Create a trip (status `draft`, with a `general` chat channel). You become its owner."""
        if group_id is None:
            group_id = (await self.client.me()).default_group_id
            if group_id is None:
                raise ToolInputError("NO_DEFAULT_GROUP", "You belong to no group; pass group_id.")
        return await self.client.create_trip(
            group_id=group_id,
            title=title,
            start_date=start_date,
            end_date=end_date,
            idempotency_key=idempotency_key,
        )

    @tool("Update a trip", idempotent=True)
    async def update_trip(
        self,
        trip_id: TripId,
        title: Annotated[str | None, Field(min_length=1, max_length=200, description="New name.")] = None,
        start_date: Annotated[Date | None, Field(description="New first day, YYYY-MM-DD.")] = None,
        end_date: Annotated[Date | None, Field(description="New last day, YYYY-MM-DD.")] = None,
        status: Annotated[TripStatus | None, Field(description="draft, active or completed.")] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Trip:
        """Change a trip's title, dates or status; only the arguments given change."""
        if title is None and start_date is None and end_date is None and status is None:
            raise ToolInputError(
                "NOTHING_TO_CHANGE", "Give at least one of title, start_date, end_date, status."
            )
        return await self.client.update_trip(
            trip_id,
            title=NOT_GIVEN if title is None else title,
            start_date=NOT_GIVEN if start_date is None else start_date,
            end_date=NOT_GIVEN if end_date is None else end_date,
            status=NOT_GIVEN if status is None else status,
            idempotency_key=idempotency_key,
        )

    @tool("Archive a trip", destructive=True, idempotent=True)
    async def archive_trip(self, trip_id: TripId, idempotency_key: IdempotencyKey = None) -> Trip:
        """Archive a trip: it is kept, its status becomes `completed`."""
        return await self.client.archive_trip(trip_id, idempotency_key=idempotency_key)

    @tool("Export a trip", read_only=True)
    async def export_trip(self, trip_id: TripId) -> TripExport:
        """The whole trip in one consistent read: trip, legs (stays, flights, rental cars), map pins,
        action items, commitments and members. Also readable as the resource `trip://{trip_id}/export`."""
        return await self.client.export_trip(trip_id)

    # --- itinerary and revisions -------------------------------------------------------------

    @tool("Itinerary", read_only=True)
    async def get_itinerary(self, trip_id: TripId) -> Itinerary:
        """Every event of the trip in date and time order: commitments (dinner, activity, birthday,
        meeting, other), flights, accommodation check-ins and rental-car pickups. Event ids are
        stable (`<legId>.flight.0`, `<legId>.accommodation.0`, `<legId>.rental_car`, commitment ids).
        Each event has `starts_at` / `ends_at` (RFC 3339 with its zone's offset; null when untimed)
        in `timezone`, and `end_timezone` when it ends elsewhere (a flight lands in its arrival zone)."""
        return await self.client.get_itinerary(trip_id)

    @tool("Itinerary summary and conflicts", read_only=True)
    async def get_itinerary_summary(self, trip_id: TripId) -> ItinerarySummary:
        """A compact view of the itinerary with its conflicts: overlapping_commitments,
        overlapping_legs, outside_trip, outside_leg, night_without_stay (with `dates`, the evenings
        with no bed booked) and impossible_transfer (a connection under the minimum, a flight landing
        before it departs, a commitment before the flight into its leg lands), each with event_ids
        and a message; event counts by type, the map bounds and compact events. Also the resource
        `trip://{trip_id}/summary`. From a service without the itinerary endpoints (the seed's API
        only) it is computed here from the trip's lists by the same rules."""
        try:
            return await self.client.get_itinerary_summary(trip_id)
        except NotSupportedError:
            from app.domain.summary import summary_of

            client = self.client
            trip = await client.get_trip(trip_id)
            legs = [leg async for leg in client.iterate_legs(trip_id, page_size=200)]
            commitments = [row async for row in client.iterate_commitments(trip_id, page_size=200)]
            pins = [pin async for pin in client.iterate_map_pins(trip_id, page_size=200)]
            return summary_of(trip, legs, commitments, pins)

    @tool("What changed since a revision", read_only=True)
    async def get_itinerary_diff(
        self,
        trip_id: TripId,
        since_revision: Annotated[int, Field(ge=0, description="A revision you saw earlier (see get_trip).")],
    ) -> ItineraryDiff:
        """The operations applied after `since_revision` and which events they added, updated or removed."""
        return await self.client.get_itinerary_diff(trip_id, since_revision)

    @tool("Apply an itinerary operation")
    async def apply_op(
        self,
        trip_id: TripId,
        base_revision: Annotated[
            int,
            Field(ge=1, description="The trip revision your change is based on (get_trip / get_itinerary)."),
        ],
        type: Annotated[
            Literal["add_event", "move_event", "update_event", "remove_event", "reorder"],
            Field(description="The operation."),
        ],
        payload: Annotated[
            dict[str, Any],
            Field(
                description="add_event: a commitment as for add_commitment ({title, startDate, category, "
                "startTime?, endTime?, ...}); move_event: {event_id, date (YYYY-MM-DD), time? (HH:mm)}, the "
                "duration is kept; update_event: {event_id, ...the fields to change, as for update_leg or "
                "update_commitment}; remove_event: {event_id}; reorder: {leg_ids: every leg id in the new order}."
            ),
        ] = {},  # noqa: B006  (the tool's schema default; pydantic copies it per call)
        idempotency_key: IdempotencyKey = None,
    ) -> OpResult:
        """Apply one revision-checked change to the timeline. If someone changed the trip after
        `base_revision` the answer is a STALE_REVISION error with `currentRevision`: re-read and
        retry. An operation the timeline cannot take (an event outside the trip's dates) is
        OPERATION_REJECTED with the reason."""
        return await self.client.apply_op(
            trip_id, base_revision=base_revision, type=type, payload=payload, idempotency_key=idempotency_key
        )

    @tool("Changes since a cursor", read_only=True)
    async def get_changes(
        self,
        trip_id: TripId,
        since: Annotated[
            str | None,
            Field(min_length=1, description="`cursor` of a previous answer; omit to get the current one."),
        ] = None,
        wait: Annotated[
            float, Field(ge=0, le=30, description="Seconds to wait for something to change (0..30).")
        ] = 0,
    ) -> Changes:
        """Operations (and, with messages:read, new chat messages) after the cursor `since`."""
        return await self.client.changes(trip_id, since=since, wait=wait)

    # --- activity and revert ----------------------------------------------------------------

    @tool("Activity: who changed what", read_only=True)
    async def list_activity(
        self, trip_id: TripId, limit: Limit = None, cursor: Cursor = None
    ) -> Page[Activity]:
        """One page of the trip's activity feed, newest first: each change (`op_id`) with who made it
        (`actor`: userId, name, keyName of the API key), a one-sentence `summary`, and per row the
        fields' `before` and `after`. `reverted_by` names a later revert of it. Follow `nextCursor`."""
        return await self.client.list_operations(trip_id, limit=limit, cursor=cursor)

    @tool("Revert a change", destructive=True)
    async def revert_operation(
        self,
        trip_id: TripId,
        op_id: Annotated[
            str, Field(min_length=1, description="The change to undo: an `op_id` from list_activity.")
        ],
        base_revision: Annotated[
            int,
            Field(
                ge=1, description="The trip revision you last saw (get_trip); the revert applies only at it."
            ),
        ],
        idempotency_key: IdempotencyKey = None,
    ) -> RevertResult:
        """Undo one change (your own mistake, say) as a new change: a created row is deleted, a deleted
        one re-created with its id, edited fields set back. Revert the revert to redo. STALE_REVISION
        when the trip moved on (re-read and retry); REVERT_CONFLICT when a later change touched the
        same fields (nothing is undone; `conflictingOperations` lists those changes: revert them
        first, newest first, or leave it)."""
        return await self.client.revert_operation(
            trip_id, op_id, base_revision=base_revision, idempotency_key=idempotency_key
        )

    # --- legs ----------------------------------------------------------------------------------

    @tool("List legs", read_only=True)
    async def list_legs(self, trip_id: TripId, limit: Limit = None, cursor: Cursor = None) -> Page[Leg]:
        """One page of the trip's legs, in their `order`."""
        return await self.client.list_legs(trip_id, limit=limit, cursor=cursor)

    @tool("Get a leg", read_only=True)
    async def get_leg(self, trip_id: TripId, leg_id: LegId) -> Leg:
        """One leg with its accommodation/stays, flights and rental car."""
        return await self.client.get_leg(trip_id, leg_id)

    @tool("Add a leg")
    async def add_leg(self, trip_id: TripId, leg: LegCreate, idempotency_key: IdempotencyKey = None) -> Leg:
        """Add a leg (a stretch of the trip in one place): order, title, destination, startDate,
        endDate, timezone (IANA), and optionally accommodation, stays, flights, rentalCar
        (times inside them are local `YYYY-MM-DDTHH:mm` in the leg's timezone). A leg whose
        `clientRef` already exists is diff-merged instead of duplicated."""
        return await self.client.create_leg(trip_id, leg, idempotency_key=idempotency_key)

    @tool("Update a leg", idempotent=True)
    async def update_leg(
        self, trip_id: TripId, leg_id: LegId, changes: LegUpdate, idempotency_key: IdempotencyKey = None
    ) -> Leg:
        """Change a leg: only the fields in `changes` change (null clears an optional field)."""
        return await self.client.update_leg(trip_id, leg_id, changes, idempotency_key=idempotency_key)

    @tool("Remove a leg", destructive=True, idempotent=True)
    async def remove_leg(
        self, trip_id: TripId, leg_id: LegId, idempotency_key: IdempotencyKey = None
    ) -> Removed:
        """Delete a leg."""
        await self.client.delete_leg(trip_id, leg_id, idempotency_key=idempotency_key)
        return Removed(kind="leg", id=leg_id)

    # --- map pins ------------------------------------------------------------------------------

    @tool("List map pins", read_only=True)
    async def list_map_pins(
        self, trip_id: TripId, limit: Limit = None, cursor: Cursor = None
    ) -> Page[MapPin]:
        """One page of the trip's map pins."""
        return await self.client.list_map_pins(trip_id, limit=limit, cursor=cursor)

    @tool("Get a map pin", read_only=True)
    async def get_map_pin(self, trip_id: TripId, pin_id: PinId) -> MapPin:
        """One map pin."""
        return await self.client.get_map_pin(trip_id, pin_id)

    @tool("Add a map pin")
    async def add_map_pin(
        self, trip_id: TripId, pin: MapPinCreate, idempotency_key: IdempotencyKey = None
    ) -> MapPin:
        """Pin a place: name, lat (-90..90), lng (-180..180), optional category, notes, clientRef."""
        return await self.client.create_map_pin(trip_id, pin, idempotency_key=idempotency_key)

    @tool("Update a map pin", idempotent=True)
    async def update_map_pin(
        self, trip_id: TripId, pin_id: PinId, changes: MapPinUpdate, idempotency_key: IdempotencyKey = None
    ) -> MapPin:
        """Change a map pin: only the fields in `changes` change."""
        return await self.client.update_map_pin(trip_id, pin_id, changes, idempotency_key=idempotency_key)

    @tool("Remove a map pin", destructive=True, idempotent=True)
    async def remove_map_pin(
        self, trip_id: TripId, pin_id: PinId, idempotency_key: IdempotencyKey = None
    ) -> Removed:
        """Delete a map pin."""
        await self.client.delete_map_pin(trip_id, pin_id, idempotency_key=idempotency_key)
        return Removed(kind="mapPin", id=pin_id)

    # --- action items --------------------------------------------------------------------------

    @tool("List action items", read_only=True)
    async def list_action_items(
        self, trip_id: TripId, limit: Limit = None, cursor: Cursor = None
    ) -> Page[ActionItem]:
        """One page of the trip's checklist."""
        return await self.client.list_action_items(trip_id, limit=limit, cursor=cursor)

    @tool("Get an action item", read_only=True)
    async def get_action_item(self, trip_id: TripId, item_id: ActionItemId) -> ActionItem:
        """One checklist item."""
        return await self.client.get_action_item(trip_id, item_id)

    @tool("Add an action item")
    async def add_action_item(
        self, trip_id: TripId, item: ActionItemCreate, idempotency_key: IdempotencyKey = None
    ) -> ActionItem:
        """Add a checklist item: text, urgency (now|before_trip|nice_to_have), optional owner
        (a member's userId), done, clientRef."""
        return await self.client.create_action_item(trip_id, item, idempotency_key=idempotency_key)

    @tool("Update an action item", idempotent=True)
    async def update_action_item(
        self,
        trip_id: TripId,
        item_id: ActionItemId,
        changes: ActionItemUpdate,
        idempotency_key: IdempotencyKey = None,
    ) -> ActionItem:
        """Change a checklist item (tick it off with `{"done": true}`); only the fields given change."""
        return await self.client.update_action_item(
            trip_id, item_id, changes, idempotency_key=idempotency_key
        )

    @tool("Remove an action item", destructive=True, idempotent=True)
    async def remove_action_item(
        self, trip_id: TripId, item_id: ActionItemId, idempotency_key: IdempotencyKey = None
    ) -> Removed:
        """Delete a checklist item."""
        await self.client.delete_action_item(trip_id, item_id, idempotency_key=idempotency_key)
        return Removed(kind="actionItem", id=item_id)

    # --- commitments ---------------------------------------------------------------------------

    @tool("List commitments", read_only=True)
    async def list_commitments(
        self, trip_id: TripId, limit: Limit = None, cursor: Cursor = None
    ) -> Page[Commitment]:
        """One page of the trip's commitments, by start date then start time (all-day first)."""
        return await self.client.list_commitments(trip_id, limit=limit, cursor=cursor)

    @tool("Get a commitment", read_only=True)
    async def get_commitment(self, trip_id: TripId, commitment_id: CommitmentId) -> Commitment:
        """One commitment."""
        return await self.client.get_commitment(trip_id, commitment_id)

    @tool("Add a commitment")
    async def add_commitment(
        self, trip_id: TripId, commitment: CommitmentCreate, idempotency_key: IdempotencyKey = None
    ) -> Commitment:
        """Add a commitment (a dinner, activity, birthday, meeting or other): title, startDate,
        category, optional startTime/endTime (HH:mm), isAllDay, timezone, legId or mapPinId of
        this trip, notes."""
        return await self.client.create_commitment(trip_id, commitment, idempotency_key=idempotency_key)

    @tool("Update a commitment", idempotent=True)
    async def update_commitment(
        self,
        trip_id: TripId,
        commitment_id: CommitmentId,
        changes: CommitmentUpdate,
        idempotency_key: IdempotencyKey = None,
    ) -> Commitment:
        """Change a commitment; only the fields in `changes` change."""
        return await self.client.update_commitment(
            trip_id, commitment_id, changes, idempotency_key=idempotency_key
        )

    @tool("Remove a commitment", destructive=True, idempotent=True)
    async def remove_commitment(
        self, trip_id: TripId, commitment_id: CommitmentId, idempotency_key: IdempotencyKey = None
    ) -> Removed:
        """Delete a commitment."""
        await self.client.delete_commitment(trip_id, commitment_id, idempotency_key=idempotency_key)
        return Removed(kind="commitment", id=commitment_id)

    # --- bulk ----------------------------------------------------------------------------------

    @tool("Batch upsert")
    async def batch_upsert(
        self,
        trip_id: TripId,
        kind: Annotated[
            Literal["legs", "action_items", "map_pins"], Field(description="What the items are.")
        ],
        items: BatchItems,
        idempotency_key: IdempotencyKey = None,
    ) -> BatchResult:
        """Create or update up to 50 legs, action items or map pins at once. Each item succeeds or
        fails on its own: see `results` (index, status created|updated|error, _id, error)."""
        if kind == "legs":
            return await self.client.batch_upsert_legs(trip_id, items, idempotency_key=idempotency_key)
        if kind == "action_items":
            return await self.client.batch_upsert_action_items(
                trip_id, items, idempotency_key=idempotency_key
            )
        return await self.client.batch_upsert_map_pins(trip_id, items, idempotency_key=idempotency_key)

    @tool("Sync (import) a snapshot")
    async def sync_trip(
        self,
        trip_id: TripId,
        legs: Annotated[SyncItems, Field(description="Up to 500 leg create bodies (API JSON).")] = None,
        action_items: Annotated[SyncItems, Field(description="Up to 500 action item create bodies.")] = None,
        map_pins: Annotated[SyncItems, Field(description="Up to 500 map pin create bodies.")] = None,
        dry_run: Annotated[
            bool, Field(description="true: report what would be created/updated/rejected and write nothing.")
        ] = False,
        idempotency_key: IdempotencyKey = None,
    ) -> SyncResult:
        """Import a snapshot: items whose `clientRef` exists are diff-merged, the others created;
        nothing is deleted. Run with dry_run=true first to see the counts and per-item errors;
        a dry run's counts equal those of the real run that follows it."""
        if legs is None and action_items is None and map_pins is None:
            raise ToolInputError("NOTHING_TO_SYNC", "Give at least one of legs, action_items, map_pins.")
        return await self.client.sync_trip(
            trip_id,
            legs=legs,
            action_items=action_items,
            map_pins=map_pins,
            dry_run=dry_run,
            idempotency_key=idempotency_key,
        )

    # --- chat ----------------------------------------------------------------------------------

    @tool("List channels", read_only=True)
    async def list_channels(
        self, trip_id: TripId, limit: Limit = None, cursor: Cursor = None
    ) -> Page[Channel]:
        """The trip's chat channels (every trip has `general`)."""
        return await self.client.list_channels(trip_id, limit=limit, cursor=cursor)

    @tool("Create a channel")
    async def create_channel(
        self,
        trip_id: TripId,
        name: Annotated[str, Field(min_length=1, max_length=80, description="The channel's name.")],
        idempotency_key: IdempotencyKey = None,
    ) -> Channel:
        """Add a chat channel to the trip."""
        return await self.client.create_channel(trip_id, name, idempotency_key=idempotency_key)

    @tool("List messages", read_only=True)
    async def list_messages(
        self,
        trip_id: TripId,
        channel_id: Annotated[
            str | None,
            Field(min_length=1, description="The channel's `_id`; default: the `general` channel."),
        ] = None,
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> Page[Message]:
        """One page of a channel's messages, newest first; `nextCursor` walks back in time."""
        channel_id = channel_id or await self._general_channel(trip_id)
        return await self.client.list_messages(trip_id, channel_id, limit=limit, cursor=cursor)

    @tool("Send a message")
    async def send_message(
        self,
        trip_id: TripId,
        content: Annotated[str, Field(min_length=1, max_length=4000, description="The message text.")],
        channel_id: Annotated[
            str | None,
            Field(min_length=1, description="The channel's `_id`; default: the `general` channel."),
        ] = None,
        parent_id: Annotated[
            str | None, Field(min_length=1, description="Reply to this message (same channel).")
        ] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Message:
        """Post a message to the trip's chat, as the key's user."""
        channel_id = channel_id or await self._general_channel(trip_id)
        return await self.client.send_message(
            trip_id, channel_id, content, parent_id, idempotency_key=idempotency_key
        )

    async def _general_channel(self, trip_id: str) -> str:
        first: Channel | None = None
        async for channel in self.client.iterate_channels(trip_id):
            if channel.name == "general":
                return channel.id
            first = first or channel
        if first is None:
            raise ToolInputError(
                "NO_CHANNEL", "This trip has no chat channel; create one with create_channel."
            )
        return first.id

    # --- members and sharing -------------------------------------------------------------------

    @tool("List members", read_only=True)
    async def list_members(self, trip_id: TripId, limit: Limit = None, cursor: Cursor = None) -> Page[Member]:
        """The trip's members with their roles (owner, planner, editor, viewer)."""
        return await self.client.list_members(trip_id, limit=limit, cursor=cursor)

    @tool("Add a member")
    async def add_member(
        self,
        trip_id: TripId,
        email: Annotated[str, Field(min_length=3, max_length=320, description="Email of an existing user.")],
        role: Annotated[Role, Field(description="owner, planner, editor or viewer.")],
        idempotency_key: IdempotencyKey = None,
    ) -> Member:
        """Add a user to the trip (owners and planners only)."""
        return await self.client.add_member(trip_id, email, role, idempotency_key=idempotency_key)

    @tool("Change a member's role", idempotent=True)
    async def update_member(
        self,
        trip_id: TripId,
        user_id: UserId,
        role: Annotated[Role, Field(description="owner, planner, editor or viewer.")],
        idempotency_key: IdempotencyKey = None,
    ) -> Member:
        """Change a member's role (owners and planners only)."""
        return await self.client.update_member(trip_id, user_id, role, idempotency_key=idempotency_key)

    @tool("Remove a member", destructive=True, idempotent=True)
    async def remove_member(
        self, trip_id: TripId, user_id: UserId, idempotency_key: IdempotencyKey = None
    ) -> Removed:
        """Remove a member from the trip (the last owner cannot be removed)."""
        await self.client.remove_member(trip_id, user_id, idempotency_key=idempotency_key)
        return Removed(kind="member", id=user_id)

    @tool("Create a share link")
    async def create_share_link(self, trip_id: TripId, idempotency_key: IdempotencyKey = None) -> ShareToken:
        """A read-only link to the trip for people without a key (secrets such as door codes,
        confirmation numbers and member contacts are left out). Replaces the previous link."""
        return await self.client.create_share_token(trip_id, idempotency_key=idempotency_key)

    @tool("Revoke the share link", destructive=True, idempotent=True)
    async def revoke_share_link(self, trip_id: TripId, idempotency_key: IdempotencyKey = None) -> Removed:
        """Revoke the trip's share link; it stops working at once."""
        await self.client.revoke_share_token(trip_id, idempotency_key=idempotency_key)
        return Removed(kind="shareLink", id=trip_id)
