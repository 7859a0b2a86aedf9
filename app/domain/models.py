"""Pydantic models of the trip API contract: what goes over the wire, in and out.

Naming: `XCreate` is a create body, `XUpdate` a PATCH body (every field optional, only the
fields sent change), `X` the stored object as the API returns it, `XPage` one page of a list.

A field written `title: Omittable[Title] = None` may be left out but not sent as null (pydantic
does not validate the default, and rejects an explicit null like any other wrong type);
`X | None = None` fields take null to clear them.
"""

# Annotations are real objects here, not strings (no `from __future__ import annotations`):
# pydantic would otherwise evaluate each string at class creation, which makes importing it slow.
from enum import StrEnum
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import Field

from app.domain.fields import (
    MESSAGE_MAX,
    TEXT_MAX,
    ApiModel,
    ClientRef,
    Date,
    Flag,
    Id,
    InputModel,
    Latitude,
    LegOrder,
    LocalDateTime,
    Longitude,
    MinConnection,
    Name,
    Notes,
    Omittable,
    ShortText,
    StoredModel,
    Time,
    TimeZone,
    Title,
)


class TripStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    COMPLETED = "completed"


class Role(StrEnum):
    OWNER = "owner"
    PLANNER = "planner"
    EDITOR = "editor"
    VIEWER = "viewer"

    @property
    def may_edit(self) -> bool:
        return self is not Role.VIEWER

    @property
    def may_manage_members(self) -> bool:
        return self in (Role.OWNER, Role.PLANNER)


class Urgency(StrEnum):
    NOW = "now"
    BEFORE_TRIP = "before_trip"
    NICE_TO_HAVE = "nice_to_have"


class Category(StrEnum):
    DINNER = "dinner"
    ACTIVITY = "activity"
    BIRTHDAY = "birthday"
    MEETING = "meeting"
    OTHER = "other"


class Scope(StrEnum):
    TRIPS_READ = "trips:read"
    TRIPS_WRITE = "trips:write"
    MESSAGES_READ = "messages:read"
    MESSAGES_WRITE = "messages:write"


T = TypeVar("T")


class Page(ApiModel, Generic[T]):
    """A page of a list. Each concrete page (`LegPage`...) subclasses it and gives `items` its
    type rather than parametrizing it (`Page[Leg]`): parametrizing builds the generic model at
    import, which would undo the deferred build of the models (see `ApiModel`)."""

    items: list[T]
    next_cursor: str | None = None


# --- users, groups, me -------------------------------------------------------------------


class GroupMembership(ApiModel):
    id: str = Field(alias="_id")
    name: str
    role: str


class Me(ApiModel):
    id: str = Field(alias="_id")
    name: str
    email: str
    groups: list[GroupMembership]
    default_group_id: str | None = None


# --- SSH keys (`trip ssh`) -------------------------------------------------------------------

PUBLIC_KEY_MAX = 16_384
"""An OpenSSH public key line: an 8192-bit RSA key is about 1.4 KB, so this leaves room."""


class SshKeyCreate(InputModel):
    public_key: Annotated[str, Field(min_length=1, max_length=PUBLIC_KEY_MAX)]
    """One line as in `~/.ssh/id_ed25519.pub`: `ssh-ed25519 AAAA... comment`."""
    name: Omittable[ShortText] = None
    """Defaults to the key's comment."""


class SshKey(StoredModel):
    name: str | None = None
    fingerprint: str
    """`SHA256:...`, as `ssh-keygen -l` prints it."""
    last_used_time: int | None = None


class SshKeyPage(Page):
    """A user's SSH keys, oldest first (one page: `nextCursor` is always null)."""

    items: list[SshKey]


# --- trips -------------------------------------------------------------------------------


class TripCreate(InputModel):
    group_id: Id
    title: Title
    start_date: Date
    end_date: Date
    min_connection_minutes: Omittable[MinConnection] = None


class TripUpdate(InputModel):
    title: Omittable[Title] = None
    start_date: Omittable[Date] = None
    end_date: Omittable[Date] = None
    status: Omittable[TripStatus] = None
    min_connection_minutes: Omittable[MinConnection] = None


class Trip(StoredModel):
    group_id: str
    title: str
    start_date: str
    end_date: str
    status: TripStatus
    revision: int
    created_by: str
    member_count: int | None = None
    min_connection_minutes: int = 45


class TripPage(Page):
    """One page of Trip rows."""

    items: list[Trip]


# --- legs --------------------------------------------------------------------------------


class Accommodation(InputModel):
    name: ShortText | None = None
    address: Notes | None = None
    lat: Latitude | None = None
    lng: Longitude | None = None
    check_in: LocalDateTime | None = None
    check_out: LocalDateTime | None = None
    notes: Notes | None = None
    wifi_password: ShortText | None = None
    door_code: ShortText | None = None
    host_phone: ShortText | None = None
    confirmation_number: ShortText | None = None
    check_in_instructions: Notes | None = None
    client_ref: ClientRef | None = None


ZoneSource = Literal["given", "airport", "leg"]


class Flight(InputModel):
    """A flight's times are local to its airports (API-CONTRACT section 12): `departureTime` to
    the zone of `from`, `arrivalTime` to that of `to`, found in the airport database by IATA code.
    `departureTimezone` / `arrivalTimezone` given in a request win (stations, unknown codes);
    when neither resolves, the leg's `timezone` is used. Answers carry the zones in use, and
    `departureTimezoneSource` / `arrivalTimezoneSource` say where each came from."""

    airline: ShortText | None = None
    flight_number: ShortText | None = None
    from_: ShortText | None = Field(default=None, alias="from")
    to: ShortText | None = None
    departure_time: LocalDateTime | None = None
    arrival_time: LocalDateTime | None = None
    departure_timezone: TimeZone | None = Field(
        default=None,
        description="IANA zone of the departure; overrides the airport's zone (answers: the zone in use)",
    )
    arrival_timezone: TimeZone | None = Field(
        default=None,
        description="IANA zone of the arrival; overrides the airport's zone (answers: the zone in use)",
    )
    departure_timezone_source: ZoneSource | None = Field(
        default=None,
        description="Answers: where departureTimezone came from: given (this flight's own), airport (the "
        "airport database, by the IATA code in `from`) or leg (neither resolved: the leg's timezone). "
        "A request may send a read flight back as it is: a zone whose source is airport or leg was "
        "not given, so it is resolved again (from a changed `from`, say) instead of being kept.",
    )
    arrival_timezone_source: ZoneSource | None = Field(
        default=None, description="Answers: where arrivalTimezone came from (as departureTimezoneSource)"
    )
    seat: ShortText | None = None
    confirmation_number: ShortText | None = None


class RentalCar(InputModel):
    company: ShortText | None = None
    pickup_location: ShortText | None = None
    pickup_time: LocalDateTime | None = None
    dropoff_location: ShortText | None = None
    dropoff_time: LocalDateTime | None = None
    confirmation_number: ShortText | None = None


class LegCreate(InputModel):
    order: LegOrder
    title: Title
    destination: Name
    start_date: Date
    end_date: Date
    timezone: TimeZone
    accommodation: Accommodation | None = None
    stays: list[Accommodation] | None = Field(default=None, max_length=50)
    flights: list[Flight] | None = Field(default=None, max_length=50)
    rental_car: RentalCar | None = None
    client_ref: ClientRef | None = None


class LegUpdate(InputModel):
    order: Omittable[LegOrder] = None
    title: Omittable[Title] = None
    destination: Omittable[Name] = None
    start_date: Omittable[Date] = None
    end_date: Omittable[Date] = None
    timezone: Omittable[TimeZone] = None
    accommodation: Accommodation | None = None
    stays: list[Accommodation] | None = Field(default=None, max_length=50)
    flights: list[Flight] | None = Field(default=None, max_length=50)
    rental_car: RentalCar | None = None
    client_ref: ClientRef | None = None


class Leg(StoredModel):
    trip_id: str
    order: int | float  # a whole number; older data may hold a fraction
    title: str
    destination: str
    start_date: str
    end_date: str
    timezone: str
    accommodation: Accommodation | None = None
    stays: list[Accommodation] = []
    flights: list[Flight] = []
    rental_car: RentalCar | None = None
    client_ref: str | None = None


class LegPage(Page):
    """One page of Leg rows."""

    items: list[Leg]


# --- action items --------------------------------------------------------------------------


class ActionItemCreate(InputModel):
    text: Annotated[str, Field(min_length=1, max_length=TEXT_MAX)]
    urgency: Urgency
    owner: Id | None = None
    done: Omittable[Flag] = None
    client_ref: ClientRef | None = None


class ActionItemUpdate(InputModel):
    text: Omittable[Annotated[str, Field(min_length=1, max_length=TEXT_MAX)]] = None
    urgency: Omittable[Urgency] = None
    owner: Id | None = None
    done: Omittable[Flag] = None
    client_ref: ClientRef | None = None


class ActionItem(StoredModel):
    trip_id: str
    text: str
    urgency: Urgency
    owner: str | None = None
    done: bool = False
    client_ref: str | None = None


class ActionItemPage(Page):
    """One page of ActionItem rows."""

    items: list[ActionItem]


# --- commitments ---------------------------------------------------------------------------


class CommitmentCreate(InputModel):
    title: Title
    start_date: Date
    category: Category
    start_time: Time | None = None
    end_time: Time | None = None
    is_all_day: Omittable[Flag] = None
    timezone: TimeZone | None = None
    leg_id: Id | None = None
    map_pin_id: Id | None = None
    notes: Notes | None = None


class CommitmentUpdate(InputModel):
    title: Omittable[Title] = None
    start_date: Omittable[Date] = None
    category: Omittable[Category] = None
    start_time: Time | None = None
    end_time: Time | None = None
    is_all_day: Omittable[Flag] = None
    timezone: TimeZone | None = None
    leg_id: Id | None = None
    map_pin_id: Id | None = None
    notes: Notes | None = None


class Commitment(StoredModel):
    trip_id: str
    title: str
    start_date: str
    category: Category
    start_time: str | None = None
    end_time: str | None = None
    is_all_day: bool = False
    timezone: str | None = None
    leg_id: str | None = None
    map_pin_id: str | None = None
    notes: str | None = None


class CommitmentPage(Page):
    """One page of Commitment rows."""

    items: list[Commitment]


# --- map pins ------------------------------------------------------------------------------


class MapPinCreate(InputModel):
    name: Name
    lat: Latitude
    lng: Longitude
    category: ShortText | None = None
    notes: Notes | None = None
    client_ref: ClientRef | None = None


class MapPinUpdate(InputModel):
    name: Omittable[Name] = None
    lat: Omittable[Latitude] = None
    lng: Omittable[Longitude] = None
    category: ShortText | None = None
    notes: Notes | None = None
    client_ref: ClientRef | None = None


class MapPin(StoredModel):
    trip_id: str
    name: str
    lat: float
    lng: float
    category: str | None = None
    notes: str | None = None
    client_ref: str | None = None


class MapPinPage(Page):
    """One page of MapPin rows."""

    items: list[MapPin]


# --- channels and messages -----------------------------------------------------------------


class ChannelCreate(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=80)]


class Channel(StoredModel):
    trip_id: str
    name: str


class ChannelPage(Page):
    """One page of Channel rows."""

    items: list[Channel]


class MessageCreate(InputModel):
    content: Annotated[str, Field(min_length=1, max_length=MESSAGE_MAX)]
    parent_id: Id | None = None


class Message(StoredModel):
    trip_id: str
    channel_id: str
    author_id: str
    author_name: str
    content: str
    parent_id: str | None = None


class MessagePage(Page):
    """One page of Message rows."""

    items: list[Message]


# --- members -------------------------------------------------------------------------------


class MemberCreate(InputModel):
    email: Annotated[str, Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")]
    role: Role


class MemberUpdate(InputModel):
    role: Role


class Member(ApiModel):
    user_id: str
    name: str
    email: str | None = None
    phone: str | None = None
    role: Role


class MemberPage(Page):
    """One page of Member rows."""

    items: list[Member]
