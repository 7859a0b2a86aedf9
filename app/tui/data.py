"""What a trip screen shows, as plain data: the models of `app.domain` plus paging cursors.

A trip's session fills a `TripData` through the SDK (or, for screenshots, takes fixed data from
app/tui/fixed.py) and the trip screen hands each pane its part; the panes never fetch on their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from app.domain.itinerary import ItinerarySummary
from app.domain.models import ActionItem, Channel, Commitment, Leg, MapPin, Me, Member, Message, Trip

T = TypeVar("T")

PAGE = 100
"""Rows fetched per request for legs, pins, checklist and commitments: a few screenfuls."""
MESSAGE_PAGE = 50


@dataclass
class Paged(Generic[T]):
    """The rows loaded so far and the cursor of the next page (None: everything is loaded)."""

    items: list[T] = field(default_factory=list)
    next_cursor: str | None = None

    @property
    def complete(self) -> bool:
        return self.next_cursor is None


@dataclass
class TripData:
    trip: Trip
    me: Me | None
    """None in a shared, read-only view: a share link has no viewer."""
    members: list[Member] = field(default_factory=list)
    legs: Paged[Leg] = field(default_factory=Paged)
    pins: Paged[MapPin] = field(default_factory=Paged)
    action_items: Paged[ActionItem] = field(default_factory=Paged)
    commitments: Paged[Commitment] = field(default_factory=Paged)
    channels: list[Channel] = field(default_factory=list)
    summary: ItinerarySummary | None = None
    messages: dict[str, Paged[Message]] = field(default_factory=dict)
    """Per channel id, oldest first; `next_cursor` walks further back in time."""

    def member_name(self, user_id: str | None) -> str | None:
        if user_id is None:
            return None
        for member in self.members:
            if member.user_id == user_id:
                return member.name
        return None
