"""A trip's map pins as a GeoJSON FeatureCollection (RFC 7946)."""

from __future__ import annotations

from typing import Any

from app.domain import TripExport


def to_geojson(export: TripExport) -> dict[str, Any]:
    """One Point feature per map pin. Coordinates are `[longitude, latitude]`, in that order, as
    RFC 7946 says; the pin's `_id` is the feature id and its fields are the properties."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": pin.id,
                "geometry": {"type": "Point", "coordinates": [pin.lng, pin.lat]},
                "properties": {
                    "name": pin.name,
                    "category": pin.category,
                    "notes": pin.notes,
                    "clientRef": pin.client_ref,
                    "tripId": pin.trip_id,
                    "trip": export.trip.title,
                },
            }
            for pin in export.map_pins
        ],
    }
