"""Local times and the zones they are read in (API-CONTRACT section 12): airports' zones from the
`airportsdata` package, the zones of a flight, DST gaps and folds, and instants as RFC 3339.

A local time is `YYYY-MM-DDTHH:mm` (or a date and an `HH:mm`) without an offset; it means the
wall clock of one zone. A time in the spring-forward gap does not exist there (`gap()` says so);
an ambiguous time of the fall-back hour means its first occurrence (fold 0: the offset before
the change). Server, SDK and file formats share these rules, so they agree on every instant."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Literal, NamedTuple

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"

ZoneSource = Literal["given", "airport", "leg"]
"""Where a flight's zone came from: its own `departureTimezone`/`arrivalTimezone` (given), the
airport database (airport), or, when neither resolves, the leg's `timezone` (leg)."""


@lru_cache(maxsize=512)
def zone(name: str | None) -> zoneinfo.ZoneInfo | None:
    """The zone of an IANA name, or None for no name or one the zone database does not know."""
    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


# --- airports --------------------------------------------------------------------------------

# One line of airportsdata's airports.csv per airport: "icao","iata","name",...,"tz","lid". Only
# the IATA code and the zone are kept; a pattern over the whole file reads it several times
# faster than the csv module would.
_AIRPORT_LINE = re.compile(r'^"[^"\n]*","([A-Z]{3})",[^\n]*,"([^"\n]*)","[^"\n]*"$', re.M)


@lru_cache(maxsize=1)
def _airport_zones() -> dict[str, str]:
    """IATA code -> IANA zone of every airport airportsdata knows, read once per process."""
    from importlib.resources import files

    try:
        text = files("airportsdata").joinpath("airports.csv").read_text(encoding="utf-8")
    except (ImportError, OSError):  # pragma: no cover - airportsdata is a dependency
        return {}
    return {code: name for code, name in _AIRPORT_LINE.findall(text) if name}


def airport_zone(code: Any) -> str | None:
    """The zone of an airport given by its IATA code (`ZRH`, ` nrt `), or None when the text is
    not a code the database knows (a city name, a train station, an ICAO code)."""
    if not isinstance(code, str):
        return None
    return _airport_zone(code)


@lru_cache(maxsize=4096)
def _airport_zone(code: str) -> str | None:
    key = code.strip().upper()
    if len(key) != 3 or not key.isalpha():
        return None
    name = _airport_zones().get(key)
    return name if zone(name) is not None else None


class FlightZones(NamedTuple):
    departure: str | None
    departure_source: ZoneSource | None
    arrival: str | None
    arrival_source: ZoneSource | None


def flight_zones(flight: Mapping[str, Any], leg_zone: str | None) -> FlightZones:
    """The zones of a flight (a camelCase wire dict as stored): the given zone wins, then the
    airport of `from` / `to`, then the leg's zone."""

    def one(given: Any, code: Any) -> tuple[str | None, ZoneSource | None]:
        if isinstance(given, str) and zone(given) is not None:
            return given, "given"
        if (found := airport_zone(code)) is not None:
            return found, "airport"
        if zone(leg_zone) is not None:
            return leg_zone, "leg"
        return None, None

    departure = one(flight.get("departureTimezone"), flight.get("from"))
    arrival = one(flight.get("arrivalTimezone"), flight.get("to"))
    return FlightZones(departure[0], departure[1], arrival[0], arrival[1])


# --- local times -----------------------------------------------------------------------------


def parse_local(value: Any) -> dt.datetime | None:
    """`YYYY-MM-DDTHH:mm` as a naive datetime; anything else is None. (fromisoformat after a shape
    check: strptime was most of a big trip's summary.)"""
    if (
        not isinstance(value, str)
        or len(value) != 16
        or value[10] != "T"
        or value[4] != "-"
        or value[13] != ":"
    ):
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return None


def combine(date: Any, time: Any) -> dt.datetime | None:
    """A date `YYYY-MM-DD` and a time `HH:mm` as one naive datetime, or None."""
    if not isinstance(date, str) or not isinstance(time, str):
        return None
    return parse_local(f"{date}T{time}")


def exists(local: dt.datetime, tz: zoneinfo.ZoneInfo) -> bool:
    """Whether the wall clock of `tz` ever reads `local` (False in a spring-forward gap)."""
    try:
        back = local.replace(tzinfo=tz).astimezone(dt.UTC).astimezone(tz)
    except OverflowError:  # years 1 and 9999: no DST there
        return True
    return back.replace(tzinfo=None) == local


class Gap(NamedTuple):
    start: dt.datetime
    """The first wall-clock minute that does not exist."""
    end: dt.datetime
    """The wall-clock time the clocks jump to."""


def gap(local: dt.datetime, tz: zoneinfo.ZoneInfo) -> Gap | None:
    """The spring-forward gap that `local` falls in, or None when the time exists.

    In a gap, the offsets before and after the jump are those of fold 0 and fold 1 (PEP 495), and
    the jump's instant lies within the gap's length before `local`: a binary search over that
    span finds it in a few conversions, whether an hour, Lord Howe's half hour or Samoa's lost
    day (a minute-by-minute walk cost 1,440 conversions there)."""
    if exists(local, tz):
        return None
    before = local.replace(tzinfo=tz, fold=0).utcoffset()
    after = local.replace(tzinfo=tz, fold=1).utcoffset()
    if before is None or after is None or after <= before:  # pragma: no cover - not a gap after all
        return None
    # The jump's instant T (UTC): local - after < T <= local - before. Find the first instant at
    # which the zone's offset is the later one.
    low = (local - after).replace(tzinfo=dt.UTC)
    high = (local - before).replace(tzinfo=dt.UTC)
    while high - low > dt.timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(tz).utcoffset() == after:
            high = middle
        else:
            low = middle
    jump = high.replace(tzinfo=None, microsecond=0)
    return Gap(jump + before, jump + after)


def gap_message(local: dt.datetime, zone_name: str, found: Gap) -> str:
    same_day = found.start.date() == found.end.date()
    start = f"{found.start:%H:%M}" if same_day else f"{found.start:%Y-%m-%d %H:%M}"
    end = f"{found.end:%H:%M}" if same_day else f"{found.end:%Y-%m-%d %H:%M}"
    return (
        f"{local.strftime(LOCAL_FORMAT)} does not exist in {zone_name}: on {found.start.date().isoformat()} "
        f"the clocks go forward from {start} to {end}"
    )


def aware(local: dt.datetime | None, zone_name: str | None) -> dt.datetime | None:
    """`local` on the wall clock of the zone, as an aware datetime (its first occurrence when the
    fall-back hour makes it ambiguous), or None without a time or a known zone."""
    tz = zone(zone_name)
    if local is None or tz is None:
        return None
    return local.replace(tzinfo=tz, fold=0)


def utc(moment: dt.datetime | None) -> dt.datetime | None:
    """An aware datetime as UTC, or None (also when it falls off the calendar, years 1 and 9999)."""
    if moment is None:
        return None
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:
        return None


def rfc3339(moment: dt.datetime | None) -> str | None:
    """`2027-01-14T13:05:00+01:00`: the wall-clock time with the offset of its zone at that
    moment. (Offsets of whole minutes: local mean times before ~1900 lose their seconds.)"""
    if moment is None:
        return None
    offset = moment.utcoffset()
    if offset is None:
        return None
    if not offset.seconds % 60:  # whole minutes: isoformat writes exactly RFC 3339 (one C call)
        return moment.isoformat(timespec="seconds")
    minutes = (
        int(offset.total_seconds()) // 60
        if offset >= dt.timedelta(0)
        else -(int(-offset.total_seconds()) // 60)
    )
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"{moment.replace(tzinfo=None).isoformat(timespec='seconds')}{sign}{hours:02d}:{rest:02d}"
