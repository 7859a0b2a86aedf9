"""`trip export` and `trip import` as real commands against a real `trip serve`."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import uuid

import httpx
import icalendar
import pytest

from app import transfer
from tests.cli_server import ROOT, api_server, child_env  # noqa: F401  (api_server is a fixture)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def account(api_server):
    key = api_server.key(f"porter-{uuid.uuid4().hex[:8]}@example.com")
    http = httpx.Client(base_url=api_server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    yield api_server.url, key, http
    http.close()


def new_trip(http: httpx.Client, title: str = "Andes") -> str:
    group = http.get("/me").json()["defaultGroupId"]
    response = http.post("/trips", json={"groupId": group, "title": title, "startDate": "2026-12-01",
                                         "endDate": "2026-12-20"})
    assert response.status_code == 201, response.text
    return response.json()["_id"]


def trip_cli(url: str, key: str, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, input=input, capture_output=True,
                          text=True, env=child_env(TRIP_API_URL=url, TRIP_API_KEY=key), timeout=300)


def test_export_writes_ics_geojson_and_json(account, tmp_path):
    url, key, http = account
    trip_id = new_trip(http, "Andes \x1b[31m; road trip")
    leg = http.post(f"/trips/{trip_id}/legs", json={
        "order": 1, "title": "Cusco", "destination": "Cusco", "startDate": "2026-12-02", "endDate": "2026-12-06",
        "timezone": "America/Lima", "stays": [{"name": "Casa", "checkIn": "2026-12-02T14:00", "doorCode": "9999"}],
    }).json()
    pin = http.post(f"/trips/{trip_id}/map-pins", json={"name": "Sacsayhuamán", "lat": -13.5083, "lng": -71.9817}).json()
    http.post(f"/trips/{trip_id}/commitments", json={
        "title": "Pisco sour, then salsa", "startDate": "2026-12-03", "category": "dinner", "startTime": "20:00",
        "endTime": "23:00", "legId": leg["_id"], "mapPinId": pin["_id"]})

    result = trip_cli(url, key, "export", "--trip", trip_id, "--format", "ics", "-o", str(tmp_path / "trip.ics"))
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stderr
    raw = (tmp_path / "trip.ics").read_bytes()
    assert raw.count(b"\r\n") == raw.count(b"\n") and b"9999" not in raw
    events = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(raw).walk("VEVENT")}
    dinner = next(e for e in events.values() if str(e["SUMMARY"]) == "Pisco sour, then salsa")
    assert dinner["DTSTART"].params["TZID"] == "America/Lima"  # the leg's zone
    assert dinner.decoded("DTSTART").astimezone(dt.timezone.utc) == dt.datetime(2026, 12, 4, 1, 0, tzinfo=dt.timezone.utc)
    assert f"{leg['_id']}.accommodation.0@tripdeck" in events

    geojson = trip_cli(url, key, "export", "--trip", trip_id, "--format", "geojson")
    assert geojson.returncode == 0, geojson.stderr
    features = json.loads(geojson.stdout)["features"]
    assert [f["geometry"]["coordinates"] for f in features] == [[-71.9817, -13.5083]]

    as_json = trip_cli(url, key, "export", "--trip", trip_id, "--format", "json")
    assert json.loads(as_json.stdout) == http.get(f"/trips/{trip_id}/export").json()

    missing = trip_cli(url, key, "export", "--trip", "no-such-trip", "--format", "json")
    assert missing.returncode == 1 and "404 NOT_FOUND" in missing.stderr and "[request " in missing.stderr
    assert missing.stdout == ""


def snapshot(n_legs: int) -> dict:
    return {
        "legs": [{"order": i, "title": f"Day {i} \x1b]0;pwned\x07", "destination": "Somewhere",
                  "startDate": "2026-12-01", "endDate": "2026-12-02", "timezone": "America/Lima",
                  "clientRef": f"day-{i}"} for i in range(n_legs)],
        "mapPins": [{"name": "Machu Picchu", "lat": -13.1631, "lng": -72.545, "clientRef": "mapi"}],
    }


def count_all(http: httpx.Client, trip_id: str, path: str) -> int:
    total, cursor = 0, None
    while True:
        page = http.get(f"/trips/{trip_id}/{path}", params={"limit": 200, **({"cursor": cursor} if cursor else {})}).json()
        total += len(page["items"])
        cursor = page.get("nextCursor")
        if not cursor:
            return total


def test_import_shows_the_dry_run_then_applies_in_chunks(account, tmp_path):
    url, key, http = account
    trip_id = new_trip(http)
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(snapshot(620)))

    dry = trip_cli(url, key, "import", str(path), "--trip", trip_id, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "620 to create" in dry.stdout and "in 2 requests" in dry.stdout
    assert "+ legs[0] 'Day 0 \\x1b]0;pwned\\x07' (clientRef 'day-0')" in dry.stdout
    assert "... and 600 more legs" in dry.stdout
    assert "\x1b" not in dry.stdout and "\x07" not in dry.stdout
    assert count_all(http, trip_id, "legs") == 0

    unasked = trip_cli(url, key, "import", str(path), "--trip", trip_id, input="y\n")
    assert unasked.returncode == 2 and "--yes" in unasked.stderr
    assert count_all(http, trip_id, "legs") == 0

    applied = trip_cli(url, key, "import", str(path), "--trip", trip_id, "--yes")
    assert applied.returncode == 0, applied.stderr
    assert "Importing: 500/621 items" in applied.stderr and "Importing: 621/621 items" in applied.stderr
    assert "620 created" in applied.stdout
    assert count_all(http, trip_id, "legs") == 620 and count_all(http, trip_id, "map-pins") == 1

    again = trip_cli(url, key, "import", str(path), "--trip", trip_id, "--yes")
    assert again.returncode == 0 and "620 updated" in again.stdout
    assert count_all(http, trip_id, "legs") == 620


def test_import_reports_bad_items_and_asks_on_a_terminal(account, tmp_path, monkeypatch, capsys):
    url, key, http = account
    trip_id = new_trip(http)
    data = snapshot(2)
    data["legs"][1]["startDate"] = "2026-02-30"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))

    args = argparse.Namespace(file=str(path), trip=trip_id, dry_run=False, yes=False, url=url, key=key)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    questions: list[str] = []
    code = transfer.cmd_import(args, ask=lambda question: questions.append(question) or "n")
    out = capsys.readouterr().out
    assert code == 1 and "Nothing applied." in out
    assert "! legs[1]" in out and "VALIDATION_ERROR" in out and "startDate" in out
    assert questions == ["Apply 2 changes to 'Andes' (1 items will fail)? [y/N] "]
    assert count_all(http, trip_id, "legs") == 0

    code = transfer.cmd_import(args, ask=lambda question: "yes")
    assert code == 1  # applied, but one item failed
    assert count_all(http, trip_id, "legs") == 1 and count_all(http, trip_id, "map-pins") == 1


def test_import_refuses_files_it_cannot_read(account, tmp_path):
    url, key, http = account
    trip_id = new_trip(http)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    result = trip_cli(url, key, "import", str(broken), "--trip", trip_id, "--dry-run")
    assert result.returncode == 2 and "not valid JSON" in result.stderr
    result = trip_cli(url, key, "import", str(tmp_path / "absent.json"), "--trip", trip_id, "--dry-run")
    assert result.returncode == 2 and "cannot read" in result.stderr
