"""Field types shared by every model of the contract: dates, times, zones, ids, bounded text."""

# Annotations are real objects here, not strings (no `from __future__ import annotations`):
# pydantic would otherwise evaluate each string at class creation, which makes importing it slow.
import datetime as dt
import zoneinfo
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

TITLE_MAX = 200
NAME_MAX = 200
TEXT_MAX = 2000
NOTES_MAX = 10_000
MESSAGE_MAX = 4_000
CLIENT_REF_MAX = 200
ID_MAX = 100
ORDER_MAX = 1_000_000
"""A leg's `order` is a whole number 0..ORDER_MAX (a reorder numbers the legs 0, 1, 2, ...; a
trip has at most 1,000 legs to reorder)."""
MAX_DETAILS = 50
"""A validation error names at most this many failing fields and counts the others."""


def _real_date(value: str) -> str:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("invalid_date", "not a real calendar date") from None
    return value


def _real_local_datetime(value: str) -> str:
    try:
        dt.datetime.strptime(value, "%Y-%m-%dT%H:%M")
    except ValueError:
        raise PydanticCustomError("invalid_datetime", "not a real local date and time") from None
    return value


@lru_cache(maxsize=1)
def known_zones() -> frozenset[str]:
    """The zone names of the IANA database, as the tzdata package lists them (the same on every
    machine), without `Factory` (tzdata's placeholder for "no zone set"). Not
    `zoneinfo.available_timezones()`, which adds whatever the system's zoneinfo directory holds:
    `localtime`, `posixrules`, ..."""
    try:
        from importlib.resources import files

        names = files("tzdata").joinpath("zones").read_text(encoding="utf-8").split()
    except (ImportError, OSError):  # no tzdata package: the system's database, less its extras
        return frozenset(zoneinfo.available_timezones() - {"localtime", "posixrules", "Factory"})
    return frozenset(names) - {"Factory"}


def _real_zone(value: str) -> str:
    if value not in known_zones():
        raise PydanticCustomError("invalid_timezone", "not an IANA time zone")
    return value


_Value = TypeVar("_Value")

if TYPE_CHECKING:
    Omittable: TypeAlias = _Value | None
else:

    class Omittable:
        """`title: Omittable[Title] = None`: a field that may be left out (it then reads None) but
        not sent as null. Pydantic sees the bare type, so it rejects an explicit null like any
        other wrong type and does not validate the default; the type checker sees `Title | None`,
        which is what the attribute holds."""

        def __class_getitem__(cls, value_type: Any) -> Any:
            return value_type


Date = Annotated[
    str,
    Field(pattern=r"^\d{4}-\d{2}-\d{2}$", examples=["2026-07-15"], json_schema_extra={"format": "date"}),
    AfterValidator(_real_date),
]
Time = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["19:30"])]
LocalDateTime = Annotated[
    str,
    Field(pattern=r"^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d$", examples=["2026-07-15T14:05"]),
    AfterValidator(_real_local_datetime),
]
TimeZone = Annotated[
    str, Field(min_length=1, max_length=64, examples=["Europe/London"]), AfterValidator(_real_zone)
]
Title = Annotated[str, Field(min_length=1, max_length=TITLE_MAX)]
Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX)]
ShortText = Annotated[str, Field(max_length=NAME_MAX)]
Notes = Annotated[str, Field(max_length=NOTES_MAX)]
ClientRef = Annotated[str, Field(min_length=1, max_length=CLIENT_REF_MAX)]
Id = Annotated[str, Field(min_length=1, max_length=ID_MAX)]
# Numbers and booleans are strict: JSON `false` or `"12"` is not a latitude, `"yes"` not a bool.
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False, strict=True)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False, strict=True)]
Number = Annotated[float, Field(allow_inf_nan=False, strict=True)]


def _whole_float_as_int(value: Any) -> Any:
    # 7.0 is 7 (a client may keep orders as floats); 7.5, true and "7" stay as they are and fail.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


LegOrder = Annotated[
    int,
    Field(
        ge=0,
        le=ORDER_MAX,
        strict=True,
        examples=[0],
        description=f"The leg's place in the trip (legs are listed by order): a whole number "
        f"0..{ORDER_MAX}. A reorder op numbers the legs 0, 1, 2, ...",
    ),
    BeforeValidator(_whole_float_as_int),  # after Field: the schema then says minimum/maximum
]
BaseRevision = Annotated[
    int,
    Field(
        ge=1,
        le=2**31 - 1,
        strict=True,
        description="The revision you last saw; the change applies only at it",
    ),
    BeforeValidator(_whole_float_as_int),  # 3.0 is 3; "3" and true are refused, as for every number
]
Flag = Annotated[bool, Field(strict=True)]
MinConnection = Annotated[
    int,
    Field(
        ge=0,
        le=1440,
        strict=True,
        examples=[45],
        description="The minimum connection between two flights of the trip, in minutes (0..1440; default "
        "45): a shorter one is an impossible_transfer in the itinerary summary",
    ),
    BeforeValidator(_whole_float_as_int),
]


# pydantic error types -> the contract's validation `reason` vocabulary (API-CONTRACT.md section 3);
# any other type is "invalid". Shared by the server's error details and the SDK's own checks.
VALIDATION_REASONS = {
    "missing": "required",
    "extra_forbidden": "unknown_field",
    "string_too_long": "too_long",
    "too_long": "too_long",
    "greater_than": "out_of_range",
    "greater_than_equal": "out_of_range",
    "less_than": "out_of_range",
    "less_than_equal": "out_of_range",
    "too_many_unknown_fields": "unknown_field",
}


def few_unknown_fields(cls: type[BaseModel], data: Any) -> Any:
    """A model-level "before" validator for models that forbid unknown fields: more than
    MAX_DETAILS of them is one error naming the first MAX_DETAILS (in `ctx["fields"]`) and the
    count (`ctx["count"]`), instead of one error per field: a body within the size limit can hold
    tens of thousands of unknown fields, and building and copying an error for each would cost
    more CPU than the rest of the request."""
    if not isinstance(data, dict) or len(data) <= MAX_DETAILS or cls.model_config.get("extra") != "forbid":
        return data
    accepted = set(cls.model_fields)
    for field in cls.model_fields.values():
        accepted.update(alias for alias in (field.alias, field.validation_alias) if isinstance(alias, str))
    unknown = [key for key in data if key not in accepted]
    if len(unknown) > MAX_DETAILS:
        raise PydanticCustomError(
            "too_many_unknown_fields",
            "{count} unknown fields",
            {"count": len(unknown), "fields": unknown[:MAX_DETAILS]},
        )
    return data


class ApiModel(BaseModel):
    """Base of every model: camelCase on the wire, snake_case in Python.

    Models are built on first use (`defer_build`): a client process (the TUI, the SDK, MCP) pays
    only for the few models it parses, not for the whole contract at import. A server calls
    `build_models_now()` before it defines its routes (see there)."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", defer_build=True
    )

    def to_wire(self) -> dict:
        return self.model_dump(by_alias=True, exclude_unset=True)


def reject_nul(value: object) -> object:
    """U+0000 cannot be stored in PostgreSQL text, so no backend accepts it (one contract)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise PydanticCustomError("nul_character", "text may not contain the NUL character (U+0000)")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, str):
                reject_nul(item)
    return value


class InputModel(ApiModel):
    """A request body: unknown fields are rejected, and so is U+0000 in any text field (nested
    models check their own fields; free-form dicts are parsed into models later)."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", defer_build=True
    )

    _few_unknown_fields = model_validator(mode="before")(few_unknown_fields)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        return reject_nul(value)


def build_models_now() -> None:
    """Build every model of the contract now and stop deferring, for a server process.

    FastAPI wraps each request body model in its own `TypeAdapter(Annotated[Model, Field(alias=...)])`
    when a route is defined, and a TypeAdapter follows its model's `defer_build`: with deferral the
    adapters would be built on the first request of each route (latency on the event loop, and
    outside the place where FastAPI expects that build, hence pydantic's warning about the `alias`
    Field). Turning deferral off for every model of `app` defined so far (and, through inheritance of
    `model_config`, for models defined later) before the routes are imported gives the server
    exactly the eager build it had before deferral."""
    # Every module of the contract first: `app.domain` loads them lazily (see there).
    from app.domain import activity, bulk, itinerary, models  # noqa: F401

    pending: list[type[BaseModel]] = [BaseModel]
    deferred: set[type[BaseModel]] = set()
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("app.") and cls.model_config.get("defer_build"):
            cls.model_config["defer_build"] = False
            deferred.add(cls)
    for cls in deferred:
        if not cls.__pydantic_complete__:
            cls.model_rebuild()


class StoredModel(ApiModel):
    """Every stored object carries `_id` and `_creationTime` (ms since the epoch)."""

    id: str = Field(alias="_id")
    creation_time: int = Field(alias="_creationTime")
