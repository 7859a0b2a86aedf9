"""`trip export` and `trip import` as real commands against a real `trip serve`."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import subprocess
import sys
import uuid

import httpx
import icalendar
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
    response = http.post(
        "/trips", json={"groupId": group, "title": title, "startDate": "2026-12-01", "endDate": "2026-12-20"}
    )
    assert response.status_code == 201, response.text
    return response.json()["_id"]


def trip_cli(url: str, key: str, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        input=input,
        capture_output=True,
        text=True,
        env=child_env(TRIP_API_URL=url, TRIP_API_KEY=key),
        timeout=300,
    )


def test_export_writes_ics_geojson_and_json(account, tmp_path):
    url, key, http = account
    trip_id = new_trip(http, "Andes \x1b[31m; road trip")
    leg = http.post(
        f"/trips/{trip_id}/legs",
        json={
            "order": 1,
            "title": "Cusco",
            "destination": "Cusco",
            "startDate": "2026-12-02",
            "endDate": "2026-12-06",
            "timezone": "America/Lima",
            "stays": [{"name": "Casa", "checkIn": "2026-12-02T14:00", "doorCode": "9999"}],
        },
    ).json()
    pin = http.post(
        f"/trips/{trip_id}/map-pins", json={"name": "Sacsayhuamán", "lat": -13.5083, "lng": -71.9817}
    ).json()
    http.post(
        f"/trips/{trip_id}/commitments",
        json={
            "title": "Pisco sour, then salsa",
            "startDate": "2026-12-03",
            "category": "dinner",
            "startTime": "20:00",
            "endTime": "23:00",
            "legId": leg["_id"],
            "mapPinId": pin["_id"],
        },
    )

    result = trip_cli(
        url, key, "export", "--trip", trip_id, "--format", "ics", "-o", str(tmp_path / "trip.ics")
    )
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stderr
    raw = (tmp_path / "trip.ics").read_bytes()
    assert raw.count(b"\r\n") == raw.count(b"\n") and b"9999" not in raw
    events = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(raw).walk("VEVENT")}
    dinner = next(e for e in events.values() if str(e["SUMMARY"]) == "Pisco sour, then salsa")
    assert dinner["DTSTART"].params["TZID"] == "America/Lima"  # the leg's zone
    assert dinner.decoded("DTSTART").astimezone(dt.UTC) == dt.datetime(2026, 12, 4, 1, 0, tzinfo=dt.UTC)
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
        "legs": [
            {
                "order": i,
                "title": f"Day {i} \x1b]0;pwned\x07",
                "destination": "Somewhere",
                "startDate": "2026-12-01",
                "endDate": "2026-12-02",
                "timezone": "America/Lima",
                "clientRef": f"day-{i}",
            }
            for i in range(n_legs)
        ],
        "mapPins": [{"name": "Machu Picchu", "lat": -13.1631, "lng": -72.545, "clientRef": "mapi"}],
    }


def count_all(http: httpx.Client, trip_id: str, path: str) -> int:
    total, cursor = 0, None
    while True:
        page = http.get(
            f"/trips/{trip_id}/{path}", params={"limit": 200, **({"cursor": cursor} if cursor else {})}
        ).json()
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


# --- hostile files, bad URLs, bad keys: one line on stderr, never a traceback -------------------

HOSTILE_FILES = {
    "a number as a leg": '{"legs": [1]}',
    "a list as a leg": '{"legs": [[]], "actionItems": [null, "x"]}',
    "a list, not an object": "[1, 2]",
    "100,000 nested brackets": "[" * 100_000 + "]" * 100_000,
    "a number too big for a float": '{"legs": [{"title": 1e400}]}',
    "NaN": '{"legs": [{"title": NaN}]}',
    "a lone surrogate": '{"legs": [{"title": "\\ud800"}]}',
    "not UTF-8": b'{"legs": [{"title": "\xff"}]}',
    "a directory": None,
}


def one_error_line(result: subprocess.CompletedProcess, command: str) -> str:
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr, result.stderr
    assert len(lines) == 1 and lines[0].startswith(f"trip {command}: "), result.stderr
    return lines[0]


@pytest.mark.parametrize("name", list(HOSTILE_FILES))
def test_import_refuses_a_hostile_file_in_one_line_with_exit_2(account, tmp_path, name):
    url, key, _http = account
    content = HOSTILE_FILES[name]
    path = tmp_path / "hostile.json"
    if content is None:
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    result = trip_cli(url, key, "import", str(path), "--trip", random_trip(account), "--dry-run")
    one_error_line(result, "import")
    assert result.returncode == 2


@pytest.mark.parametrize("command", ["import", "export"])
def test_bad_url_wrong_key_and_no_service_each_get_one_line_and_a_nonzero_exit(account, tmp_path, command):
    url, key, http = account
    trip_id = new_trip(http)
    path = tmp_path / "ok.json"
    path.write_text(
        json.dumps({"legs": [{"title": "Quito", "startDate": "2026-12-01", "endDate": "2026-12-02"}]})
    )
    args = (
        [str(path), "--trip", trip_id, "--dry-run"]
        if command == "import"
        else ["--trip", trip_id, "--format", "ics"]
    )

    bad_url = trip_cli("localhost:8000", key, command, *args)
    assert "http://" in one_error_line(bad_url, command) and bad_url.returncode == 2
    no_key = subprocess.run(
        [sys.executable, "-m", "app.cli", command, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=child_env(TRIP_API_URL=url),
        timeout=60,
    )
    assert "TRIP_API_KEY" in one_error_line(no_key, command) and no_key.returncode == 2
    wrong_key = trip_cli(url, "osk_wrong", command, *args)
    assert "UNAUTHORIZED" in one_error_line(wrong_key, command) and wrong_key.returncode == 1
    missing = trip_cli(
        url,
        key,
        command,
        *args[: -4 if command == "export" else -3],
        "--trip",
        "nosuchtrip",
        *(["--format", "ics"] if command == "export" else ["--dry-run"]),
    )
    assert "NOT_FOUND" in one_error_line(missing, command) and missing.returncode == 1
    unreachable = trip_cli("http://127.0.0.1:9/api/v1", key, command, *args)
    assert "cannot reach" in one_error_line(unreachable, command) and unreachable.returncode == 1


def test_export_to_a_file_it_cannot_write_says_so_with_exit_2(account, tmp_path):
    url, key, http = account
    trip_id = new_trip(http)
    result = trip_cli(
        url, key, "export", "--trip", trip_id, "--format", "ics", "-o", str(tmp_path / "no" / "x.ics")
    )
    assert "cannot write" in one_error_line(result, "export") and result.returncode == 2


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
item_fields = st.dictionaries(
    st.sampled_from(
        ["title", "name", "text", "clientRef", "startDate", "endDate", "lat", "lng", "_id", "order"]
    )
    | st.text(max_size=8),
    json_values,
    max_size=5,
)
snapshots = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "legs": st.lists(item_fields | json_values, max_size=3) | json_values,
            "actionItems": st.lists(item_fields | json_values, max_size=3),
            "mapPins": st.lists(item_fields, max_size=3),
            "trip": json_values,
        },
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=snapshots)
def test_import_of_random_json_never_raises_and_exits_0_1_or_2(account, tmp_path, data):
    url, key, _http = account
    path = tmp_path / "random.json"
    path.write_text(json.dumps(data))
    args = argparse.Namespace(
        file=str(path), trip=random_trip(account), dry_run=True, yes=False, url=url, key=key
    )
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = transfer.cmd_import(args)
    assert code in (0, 1, 2)
    assert "Traceback" not in err.getvalue()
    if code == 2:
        assert len(err.getvalue().strip().splitlines()) == 1


_trips: dict[str, str] = {}


def random_trip(account) -> str:
    """One trip for every example (a dry run writes nothing)."""
    if "id" not in _trips:
        _trips["id"] = new_trip(account[2], "Random")
    return _trips["id"]
