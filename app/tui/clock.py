"""The TUI's idea of "now" and of the viewer's time zone, injectable so snapshots are stable."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.settings import environment


def local_zone(preferred: str | None = None) -> ZoneInfo:
    """The viewer's zone: `preferred` (the config's `timezone`) when it names an IANA zone, else
    $TZ when it does, else the system's, else UTC."""
    name = environment().tz
    for candidate in (preferred or "", name.lstrip(":"), _system_zone_name()):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def _system_zone_name() -> str:
    try:
        link = os.readlink("/etc/localtime")
    except OSError:
        return ""
    marker = "zoneinfo/"
    return link.split(marker, 1)[1] if marker in link else ""


@dataclass(frozen=True)
class Clock:
    """`now()` in the viewer's zone; a `fixed` instant makes every render reproducible."""

    zone: ZoneInfo = field(default_factory=local_zone)
    fixed: dt.datetime | None = None

    def now(self) -> dt.datetime:
        if self.fixed is not None:
            return self.fixed.astimezone(self.zone)
        return dt.datetime.now(self.zone)

    def today(self) -> dt.date:
        return self.now().date()

    def from_ms(self, ms: int) -> dt.datetime:
        """A server timestamp (ms since the epoch) in the viewer's zone."""
        return dt.datetime.fromtimestamp(ms / 1000, self.zone)

    @classmethod
    def frozen(cls, iso: str, zone: str) -> Clock:
        return cls(zone=ZoneInfo(zone), fixed=dt.datetime.fromisoformat(iso).replace(tzinfo=ZoneInfo(zone)))
