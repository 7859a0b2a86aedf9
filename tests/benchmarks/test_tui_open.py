"""TUI open times, measured in one run against one embedded server on a loopback port:

- process start to a populated trip screen (the demo trip) versus a bare Textual app's first
  paint: target at most 2x;
- the open time of a huge trip (1,000 legs, 2,000 pins, 1,000 commitments, 50,000 messages)
  versus the small demo trip: target at most 1.5x, because nothing loads more than a page;
- with the peak memory (RSS) of each process.

`TRIP_BENCH_SIZE=full python -m pytest -s tests/benchmarks/test_tui_open.py` runs the real sizes
and checks the targets; the default smoke size (a tenth) only checks that it all works.
"""

from __future__ import annotations

import asyncio
import compileall
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import insert

from app.client import TripClient
from app.demo.story import YOU
from app.demo_server import DemoServer
from app.server.clock import new_id
from app.server.storage import tables as t
from app.server.storage.database import Database

ROOT = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("tui_probe.py")
SIZE = os.environ.get("TRIP_BENCH_SIZE", "smoke")
HUGE = {
    "full": {"legs": 1000, "pins": 2000, "commitments": 1000, "messages": 50_000},
    "smoke": {"legs": 100, "pins": 200, "commitments": 100, "messages": 5_000},
}[SIZE]
RUNS = 7 if SIZE == "full" else 2


async def huge_trip(url: str, database_url: str, key: str) -> str:
    """A trip made through the API, then filled in bulk straight into its tables (making 54,000
    rows through HTTP would take longer than the measurement it feeds). Legs follow each other
    day by day and commitments fall one a day, as in a real (long) trip: no conflict storm."""
    async with TripClient(api_key=key, base_url=url) as client:
        me = await client.me()
        trip = await client.create_trip(
            group_id=me.default_group_id, title="Huge", start_date="2026-01-01", end_date="2028-12-31"
        )
        channel = (await client.list_channels(trip.id)).items[0].id
    db = Database(database_url)
    now = int(time.time() * 1000)
    first = dt.date(2026, 1, 1)

    def day(offset: int) -> str:
        return (first + dt.timedelta(days=offset)).isoformat()

    try:
        async with db.write() as conn:
            legs = [
                {
                    "id": new_id(),
                    "trip_id": trip.id,
                    "order": float(i),
                    "title": f"Leg {i}",
                    "destination": f"Place {i}",
                    "start_date": day(i),
                    "end_date": day(i + 1),
                    "timezone": "Europe/Lisbon",
                    "stays": [{"name": f"Stay {i}", "lat": 38.7, "lng": -9.1}],
                    "flights": [],
                    "rental_car": None,
                    "client_ref": None,
                    "created_at": now + i,
                }
                for i in range(HUGE["legs"])
            ]
            await conn.execute(insert(t.legs), legs)
            await conn.execute(
                insert(t.map_pins),
                [
                    {
                        "id": new_id(),
                        "trip_id": trip.id,
                        "name": f"Pin {i}",
                        "lat": 30 + (i % 100) / 10,
                        "lng": -10 + (i // 100) / 10,
                        "category": ("food", "sight", "view")[i % 3],
                        "notes": None,
                        "client_ref": None,
                        "created_at": now + i,
                    }
                    for i in range(HUGE["pins"])
                ],
            )
            await conn.execute(
                insert(t.commitments),
                [
                    {
                        "id": new_id(),
                        "trip_id": trip.id,
                        "title": f"Commitment {i}",
                        "start_date": day(i),
                        "start_time": f"{8 + i % 12:02d}:00",
                        "end_time": f"{9 + i % 12:02d}:30",
                        "is_all_day": False,
                        "timezone": "Europe/Madrid",
                        "category": "activity",
                        "leg_id": None,
                        "map_pin_id": None,
                        "notes": None,
                        "created_at": now + i,
                    }
                    for i in range(HUGE["commitments"])
                ],
            )
            for start in range(0, HUGE["messages"], 5000):
                await conn.execute(
                    insert(t.messages),
                    [
                        {
                            "id": new_id(),
                            "trip_id": trip.id,
                            "channel_id": channel,
                            "author_id": me.id,
                            "author_name": me.name,
                            "content": f"Message number {i}",
                            "parent_id": None,
                            "created_at": now + i,
                        }
                        for i in range(start, min(start + 5000, HUGE["messages"]))
                    ],
                )
    finally:
        await db.dispose()
    return trip.id


def probe(*args: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    spawned = time.time()
    result = subprocess.run(
        [sys.executable, str(PROBE), repr(spawned), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def summary(runs: list[dict]) -> dict:
    return {
        "ready": statistics.median(r["ready"] for r in runs),
        "cpu": statistics.median(r["cpu"] for r in runs),
        "rss_mb": max(r["rss_mb"] for r in runs),
        "rows": runs[-1].get("rows"),
    }


def measure(cases: dict[str, tuple[str, ...]]) -> dict[str, dict]:
    """RUNS fresh processes per case, the cases taking turns (bare, small, huge, bare, ...), so
    that a machine that slows down or speeds up meanwhile weighs on each case alike."""
    runs: dict[str, list[dict]] = {name: [] for name in cases}
    for _ in range(RUNS):
        for name, args in cases.items():
            runs[name].append(probe(*args))
    return {name: summary(found) for name, found in runs.items()}


@pytest.mark.slow
def test_tui_open_times(tmp_path):
    # Each probe is a fresh process. An installed package has its bytecode compiled (pip does it
    # at install, Python caches it at first import), as Textual's is for the bare app; a checkout
    # run with PYTHONDONTWRITEBYTECODE set would compile every module of `app` from source in
    # every probe instead, and measure the compiler.
    compileall.compile_dir(ROOT / "app", quiet=1)
    server = DemoServer(database_url=f"sqlite+aiosqlite:///{tmp_path / 'bench.db'}", companions=False)
    server.start()
    try:
        assert server.trip is not None
        key = server.keys[YOU.ref]
        huge_id = asyncio.run(huge_trip(server.url, server.database_url, key))
        imported = measure({"imports": ("80x24", "imports")})["imports"]
        results = {}
        for size in ("80x24", "160x48"):
            found = measure(
                {
                    "bare": (size, "bare"),
                    "small": (size, "trip", server.url, key, server.trip.trip_id),
                    "huge": (size, "trip", server.url, key, huge_id),
                }
            )
            results[size] = (found["bare"], found["small"], found["huge"])
    finally:
        server.stop()

    print(
        f"\nTUI open benchmark ({SIZE}: huge = {HUGE}; median of {RUNS} fresh processes per row, "
        "the three rows of a size taking turns)"
    )
    # CPU: the process's own CPU seconds at that moment, and their ratio (same baseline): a check
    # on the wall-clock ratio when other processes load the machine.
    print(f"{'case':<50}{'ready (s)':>10}{'ratio':>8}{'CPU (s)':>9}{'ratio':>8}{'peak RSS (MB)':>15}")
    print(
        f"{'process start to `import app.tui.app` done':<50}{imported['ready']:>10.3f}{'':>8}"
        f"{imported['cpu']:>9.3f}{'':>8}{imported['rss_mb']:>15.1f}"
    )
    for size, (bare, small, huge) in results.items():
        startup_ratio = small["ready"] / bare["ready"]
        huge_ratio = huge["ready"] / small["ready"]
        print(
            f"{f'{size} bare Textual app, first paint':<50}{bare['ready']:>10.3f}{1:>8.2f}{bare['cpu']:>9.3f}{1:>8.2f}"
            f"{bare['rss_mb']:>15.1f}"
        )
        print(
            f"{f'{size} demo trip, process start to populated':<50}{small['ready']:>10.3f}{startup_ratio:>8.2f}"
            f"{small['cpu']:>9.3f}{small['cpu'] / bare['cpu']:>8.2f}{small['rss_mb']:>15.1f}   (target <= 2.00 x bare)"
        )
        print(
            f"{f'{size} huge trip, process start to populated':<50}{huge['ready']:>10.3f}{huge_ratio:>8.2f}"
            f"{huge['cpu']:>9.3f}{huge['cpu'] / small['cpu']:>8.2f}{huge['rss_mb']:>15.1f}   (target <= 1.50 x demo trip)"
        )
        results[size] = (startup_ratio, huge_ratio, huge["rows"])
    print(f"rows loaded for the huge trip: {huge['rows']}")

    for size, (startup_ratio, huge_ratio, rows) in results.items():
        # Only a page of each list, whatever the trip's size.
        assert rows["legs"] <= 100 and rows["pins"] <= 100 and rows["messages"] <= 50
        if SIZE == "full":
            assert huge_ratio <= 1.5, size
            assert startup_ratio <= 2.0, size
