"""The itinerary summary of a trip's models (as the SDK returns them), computed by the same code
as the service's (`app.domain.timeline.summary` of its stored rows): for a client of a service
that has no itinerary endpoints, the same conflicts as ours would report."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from pydantic.alias_generators import to_snake

from app.domain.itinerary import ItinerarySummary
from app.domain.models import Commitment, Leg, MapPin, Trip


def row(model: BaseModel) -> dict[str, Any]:
    """A model as the service stores it: snake_case columns (`start_date`, `leg_id`), JSON
    columns such as a leg's stays, flights and rental car kept in their wire (camelCase) form."""
    wire = model.model_dump(mode="json", by_alias=True)
    return {to_snake(key.lstrip("_")): value for key, value in wire.items()}


def summary_of(
    trip: Trip, legs: Iterable[Leg], commitments: Iterable[Commitment], map_pins: Iterable[MapPin]
) -> ItinerarySummary:
    from app.domain.timeline import summary

    def leg_row(leg: Leg) -> dict[str, Any]:
        fields = row(leg)
        fields.setdefault("stays", None)
        fields.setdefault("flights", None)
        fields.setdefault("rental_car", None)
        return fields

    return ItinerarySummary.model_validate(
        summary(
            row(trip),
            [leg_row(leg) for leg in legs],
            [row(c) for c in commitments],
            [row(p) for p in map_pins],
        )
    )
