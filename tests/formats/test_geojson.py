"""Map pins as GeoJSON."""

from __future__ import annotations

import json

from app.formats import to_geojson
from tests.formats.sample import export, pin


def test_pins_are_point_features_with_longitude_first():
    trip = export(
        pins=[
            pin(),
            pin(
                "p2",
                name="Café «Ñ» </script>",
                lat=-33.8568,
                lng=151.2153,
                category=None,
                notes="line\nbreak",
                clientRef="ref-2",
            ),
        ]
    )
    collection = json.loads(json.dumps(to_geojson(trip)))
    assert collection["type"] == "FeatureCollection"
    first, second = collection["features"]
    assert first == {
        "type": "Feature",
        "id": "p1",
        "geometry": {"type": "Point", "coordinates": [-0.0754, 51.5055]},
        "properties": {
            "name": "Tower Bridge",
            "category": "sight",
            "notes": None,
            "clientRef": None,
            "tripId": "trip1",
            "trip": "Summer",
        },
    }
    assert second["geometry"]["coordinates"] == [151.2153, -33.8568]
    assert (
        second["properties"]["name"] == "Café «Ñ» </script>"
        and second["properties"]["notes"] == "line\nbreak"
    )


def test_a_trip_without_pins_is_an_empty_collection():
    assert to_geojson(export()) == {"type": "FeatureCollection", "features": []}
