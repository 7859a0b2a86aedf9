"""A trip's fixed data (screenshots, snapshot tests) as a read-only client: the trip session has
it at once, follows nothing and writes nothing, so the screens need no mode of their own for it."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.domain.activity import Activity
from app.tui.data import TripData


@dataclass
class FixedTripClient:
    data: TripData
    """The whole trip, already answered: shown before the first paint."""
    activity: list[Activity] = field(default_factory=list)
    """What the activity screen lists (nothing is fetched, nothing reverted)."""
