"""The four kinds of row a trip screen lists and edits (legs, map pins, action items,
commitments), each described once: its models, the SDK calls that read and write it, the noun a
person reads, the pane that shows it, the form that edits it and how the changes feed names it.

Everything in the TUI that differs by kind looks it up here (`KINDS[name]`), instead of keeping a
dictionary of its own. `name` is the kind's one name inside the TUI: the `TripData` attribute,
the kind of a write queued in the outbox (stored on disk, so it does not change lightly) and the
key of everything below. The server and the SDK name one row of it `server_name` (`map_pin`:
`create_map_pin`, the `map_pin` in the changes feed's operation types)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar, cast

from pydantic import BaseModel

from app.client import TripClient
from app.domain import models
from app.domain.models import ActionItem, Commitment, Leg, MapPin, Page
from app.tui import forms
from app.tui.data import Paged, TripData
from app.tui.forms import FieldSpec

R = TypeVar("R", bound=BaseModel)
R_co = TypeVar("R_co", covariant=True)


class ListCall(Protocol):
    """`client.list_legs` and its kin: one page of a trip's rows."""

    def __call__(
        self, trip_id: str, /, *, limit: int | None = ..., cursor: str | None = ...
    ) -> Awaitable[Page[Any]]: ...


class CreateCall(Protocol[R_co]):
    def __call__(
        self, trip_id: str, body: Mapping[str, Any], /, *, idempotency_key: str | None = ...
    ) -> Awaitable[R_co]: ...


class GetCall(Protocol[R_co]):
    def __call__(self, trip_id: str, row_id: str, /) -> Awaitable[R_co]: ...


class UpdateCall(Protocol[R_co]):
    def __call__(
        self, trip_id: str, row_id: str, body: Mapping[str, Any], /, *, idempotency_key: str | None = ...
    ) -> Awaitable[R_co]: ...


class DeleteCall(Protocol):
    def __call__(
        self, trip_id: str, row_id: str, /, *, idempotency_key: str | None = ...
    ) -> Awaitable[None]: ...


def describe(row: Any) -> str:
    """What a person calls a row: its title, name or text."""
    return cast(str, getattr(row, "title", None) or getattr(row, "name", "") or getattr(row, "text", ""))


@dataclass(frozen=True)
class RowKind(Generic[R]):
    name: str
    """The kind's name in the TUI: the `TripData` attribute, the outbox's kind of a write."""
    server_name: str
    """The server's and the SDK's name of one row (`map_pin`); the changes feed's operation types
    contain it (`create_map_pin`), and its activity feed names the kind by it."""
    noun: str
    """What a person reads: "map pin"."""
    pane: int
    """The number of the pane that shows it (its key and its tab)."""
    list_id: str
    """The id of the pane's row list (the list that asks for the next page near its end)."""
    row: type[R]
    create_model: type[BaseModel]
    update_model: type[BaseModel]
    list_page: Callable[[TripClient], ListCall]
    create: Callable[[TripClient], CreateCall[R]]
    get: Callable[[TripClient], GetCall[R]]
    update: Callable[[TripClient], UpdateCall[R]]
    delete: Callable[[TripClient], DeleteCall]
    fields: Callable[[TripData], list[FieldSpec]]
    """The form's fields; choice lists read the trip's data when the form opens."""
    defaults: Callable[[TripData], dict[str, Any]] = field(default=lambda data: {})
    """Sensible values for a new row, so that a few keys make a valid one."""
    also_stale: frozenset[str] = frozenset()
    """Other kinds whose panes draw this one's rows, so a change of it makes them stale too."""

    def paged(self, data: TripData) -> Paged[R]:
        """This kind's rows in `data`."""
        return cast(Paged[R], getattr(data, self.name))


LEGS: RowKind[Leg] = RowKind(
    name="legs",
    server_name="leg",
    noun="leg",
    pane=1,
    list_id="leg-list",
    row=Leg,
    create_model=models.LegCreate,
    update_model=models.LegUpdate,
    list_page=lambda client: client.list_legs,
    create=lambda client: client.create_leg,
    get=lambda client: client.get_leg,
    update=lambda client: client.update_leg,
    delete=lambda client: client.delete_leg,
    fields=lambda data: forms.leg_fields(),
    defaults=forms.leg_defaults,
    also_stale=frozenset({"pins"}),  # the map draws the route between the legs' stays
)
PINS: RowKind[MapPin] = RowKind(
    name="pins",
    server_name="map_pin",
    noun="map pin",
    pane=2,
    list_id="pin-list",
    row=MapPin,
    create_model=models.MapPinCreate,
    update_model=models.MapPinUpdate,
    list_page=lambda client: client.list_map_pins,
    create=lambda client: client.create_map_pin,
    get=lambda client: client.get_map_pin,
    update=lambda client: client.update_map_pin,
    delete=lambda client: client.delete_map_pin,
    fields=lambda data: forms.pin_fields(),
)
ACTION_ITEMS: RowKind[ActionItem] = RowKind(
    name="action_items",
    server_name="action_item",
    noun="action item",
    pane=3,
    list_id="checklist-items",
    row=ActionItem,
    create_model=models.ActionItemCreate,
    update_model=models.ActionItemUpdate,
    list_page=lambda client: client.list_action_items,
    create=lambda client: client.create_action_item,
    get=lambda client: client.get_action_item,
    update=lambda client: client.update_action_item,
    delete=lambda client: client.delete_action_item,
    fields=lambda data: forms.action_item_fields(
        lambda: [(member.name, member.user_id) for member in data.members]
    ),
    defaults=forms.action_item_defaults,
)
COMMITMENTS: RowKind[Commitment] = RowKind(
    name="commitments",
    server_name="commitment",
    noun="commitment",
    pane=4,
    list_id="agenda-list",
    row=Commitment,
    create_model=models.CommitmentCreate,
    update_model=models.CommitmentUpdate,
    list_page=lambda client: client.list_commitments,
    create=lambda client: client.create_commitment,
    get=lambda client: client.get_commitment,
    update=lambda client: client.update_commitment,
    delete=lambda client: client.delete_commitment,
    fields=lambda data: forms.commitment_fields(
        lambda: [(leg.title, leg.id) for leg in data.legs.items],
        lambda: [(pin.name, pin.id) for pin in data.pins.items],
    ),
    defaults=forms.commitment_defaults,
)

KINDS: dict[str, RowKind[Any]] = {kind.name: kind for kind in (LEGS, PINS, ACTION_ITEMS, COMMITMENTS)}
"""Every kind by its name, in the order of their panes."""

BY_PANE: dict[int, RowKind[Any]] = {kind.pane: kind for kind in KINDS.values()}
BY_LIST: dict[str, RowKind[Any]] = {kind.list_id: kind for kind in KINDS.values()}

TRIP = "trip"
"""The outbox's kind of a queued edit of the trip itself (title and dates): not a row kind."""
TRIP_MOVES_ON_ITS_OWN = frozenset({"revision", "memberCount"})
"""The trip's fields that move without anyone editing it: its revision moves with every item change."""
