"""File formats for a trip's data, shared by the command line and the TUI: iCalendar and GeoJSON
exports, and the JSON snapshot that `trip import` syncs in chunks. Depends only on `app.domain`."""

from app.formats.geojson import to_geojson
from app.formats.ics import to_ics

__all__ = ["to_geojson", "to_ics"]
