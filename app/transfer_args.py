"""The command line of `trip export` and `trip import`, apart from `app.transfer` so that building
the `trip` parser imports neither the SDK nor the file formats (`trip ui` starts faster)."""

from __future__ import annotations

import argparse

FORMATS = ("ics", "geojson", "json")


def add_commands(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser(
        "export",
        help="write a trip to an .ics calendar, GeoJSON map pins or JSON",
        description="Export a trip: --format ics (legs, flights, stays, rental cars and commitments, with "
        "their time zones), geojson (map pins) or json (everything, as GET /trips/{id}/export).",
    )
    export.add_argument("--trip", required=True, metavar="ID", help="the trip's id")
    export.add_argument("--format", required=True, choices=FORMATS, help="ics, geojson or json")
    export.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    _add_connection(export)

    imports = commands.add_parser(
        "import",
        help="sync legs, action items and map pins from a JSON file into a trip",
        description='Import FILE.json ({"legs": [...], "actionItems": [...], "mapPins": [...]}, or a '
        "`trip export --format json` file) through the sync endpoint: items whose clientRef exists are "
        "diff-merged, others created, nothing deleted. A dry run is shown first; on a terminal you are "
        "asked before anything is written.",
    )
    imports.add_argument("file", metavar="FILE.json", help="the snapshot to import")
    imports.add_argument("--trip", required=True, metavar="ID", help="the trip to import into")
    imports.add_argument("--dry-run", action="store_true", help="show what would change and write nothing")
    imports.add_argument("--yes", "-y", action="store_true", help="apply without asking")
    _add_connection(imports)


def _add_connection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url", default=None, help="API root (default: $TRIP_API_URL or http://127.0.0.1:8000/api/v1)"
    )
    parser.add_argument("--key", default=None, help="API key (default: $TRIP_API_KEY)")
