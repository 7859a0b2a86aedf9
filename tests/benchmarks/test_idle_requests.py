"""Benchmark: requests a minute of an idle `trip ui` on a trip, against both kinds of service, each
a real process with the seed's rate limit (60 a minute per key): our own (`trip serve`: the
changes feed, one long poll held open) and one of the seed's API only (`python -m
tests.seed_only`: every extension 404, so the TUI polls). The TUI runs headless in this process
over real HTTP; requests are counted from when the trip is on screen and the TUI has settled
(probes done) for WINDOW seconds. Target (issue 23): under 20 a minute for both.

Full size (by hand): TRIP_BENCH_SIZE=full python -m pytest -s tests/benchmarks/test_idle_requests.py
counts over 2 minutes; the default (smoke) size over two of the seed-only poller's ticks.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from app.client import TripClient
from app.server.storage.accounts import create_key, ensure_user
from app.server.storage.database import Database
from app.tui.app import TripdeckApp
from app.tui.clock import Clock
from app.tui.polling import PER_MINUTE
from app.tui.screens.trip import TripScreen
from tests.processes import ROOT, free_port
from tests.tui.conftest import wait_for

FULL = os.environ.get("TRIP_BENCH_SIZE", "smoke") == "full"
# The smoke window still tells a poll a tick apart from a busy loop: the seed-only service is
# asked once a tick (60 / PER_MINUTE s), so a window of two ticks holds at most two requests
# (15 a minute) and an idle long poll none.
WINDOW = 120.0 if FULL else 2 * 60 / PER_MINUTE
TARGET = 20
RESULTS: dict[str, tuple[int, float, Counter]] = {}


class Counting(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.requests: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/v1")
        self.requests.append(f"{request.method} {path}")
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def start(command: list[str], db: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIP_")}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.Popen(
        [sys.executable, *command, "--db", str(db), "--port", str(port), "--rate-limit", "60"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/api/v1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/me", timeout=2).status_code == 401:
                return proc, url
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{command} did not answer within 120 s")


async def key(db: Path, email: str) -> str:
    """A key made in this process on the database the service will open (migrated here first),
    rather than by one more `trip keys create` process."""
    database = Database(f"sqlite+aiosqlite:///{db}")
    try:
        await database.migrate()
        async with database.write() as conn:
            return await create_key(conn, await ensure_user(conn, email))
    finally:
        await database.dispose()


async def idle_rate(url: str, api_key: str, tmp: Path) -> tuple[int, Counter]:
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {api_key}"}) as http:
        me = (await http.get("/me")).json()
        trip = (
            await http.post(
                "/trips",
                json={
                    "groupId": me["defaultGroupId"],
                    "title": "Idle",
                    "startDate": "2026-07-15",
                    "endDate": "2026-07-22",
                },
            )
        ).json()
        channels = (await http.get(f"/trips/{trip['_id']}/channels")).json()["items"]
        await http.post(
            f"/trips/{trip['_id']}/channels/{channels[0]['_id']}/messages", json={"content": "hello"}
        )
    transport = Counting()
    client = TripClient(api_key=api_key, base_url=url, transport=transport)
    app = TripdeckApp(
        client=client,
        url=url,
        key=api_key,
        trip_id=trip["_id"],
        cursor_blink=False,
        clock=Clock.frozen("2026-07-16T10:30", "Europe/London"),
        outbox_path=tmp / "outbox.jsonl",
        log_path=tmp / "tripdeck.log",
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, TripScreen)
                and app.screen.data is not None
                and (app.screen.follower is not None or app.screen.poller is not None)
            ),
            timeout=30,
            what="trip",
        )
        if app.screen.poller is not None:
            await wait_for(
                pilot, lambda: client.supports("activity") is not None, timeout=30, what="the probe"
            )
        await pilot.pause(1.0)
        before = len(transport.requests)
        await pilot.pause(WINDOW)
        seen = transport.requests[before:]
    return len(seen), Counter(route(request) for request in seen)


def route(request: str) -> str:
    """'GET /trips/abc/channels/def/messages' -> 'GET /trips/{id}/channels/{id}/messages'."""
    parts = request.split("/")
    return "/".join(
        "{id}" if index > 1 and parts[index - 1] in ("trips", "channels", "legs") else part
        for index, part in enumerate(parts)
    )


@pytest.mark.parametrize("kind", ["ours", "seed only"])
async def test_an_idle_trip_ui_stays_under_20_requests_a_minute(kind, tmp_path):
    db = tmp_path / "trip.db"
    api_key = await key(db, "idle@example.com")
    command = ["-m", "app.cli", "serve"] if kind == "ours" else ["-m", "tests.seed_only"]
    proc, url = start(command, db)
    try:
        count, by_route = await idle_rate(url, api_key, Path(tempfile.mkdtemp(dir=tmp_path)))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    per_minute = count * 60 / WINDOW
    RESULTS[kind] = (count, per_minute, by_route)
    print(
        f"\nidle trip ui, {kind:9} service: {count:3} requests in {WINDOW:.0f} s = {per_minute:5.1f}/min "
        f"(target < {TARGET}) {dict(by_route)}"
    )
    if len(RESULTS) == 2:
        print("\n| service | window | requests | per minute |\n|---|---|---|---|")
        for name, (n, rate, _) in RESULTS.items():
            print(f"| {name} | {WINDOW:.0f} s | {n} | {rate:.1f} |")
    assert per_minute < TARGET
