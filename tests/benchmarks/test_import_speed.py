"""Benchmark: importing a trip through one sync call versus the same items through single POSTs.

    TRIP_BENCH_SIZE=full python -m pytest tests/benchmarks/test_import_speed.py -s   # 1,500 items
    python -m pytest tests/benchmarks/test_import_speed.py -s                         # smoke size

Both methods use the real app in-process (httpx.ASGITransport) on a fresh SQLite file each, in one
process, so the ratio compares like with like. At full size the issue's target (sync at least
20x faster per item) is asserted; the smoke size only checks that sync is faster.
"""

from __future__ import annotations

import os
import time

from app.server.app import create_app
from app.server.settings import Settings
from app.server.storage.database import Database
from tests.conftest import Actor, Server, new_trip

SIZES = {"smoke": 20, "full": 500}  # items per category (legs, map pins, action items)
TARGET = 20


def trip_items(n: int) -> dict[str, list[dict]]:
    legs = [
        {
            "order": i,
            "title": f"Stop {i}",
            "destination": f"Town {i}",
            "startDate": "2026-07-15",
            "endDate": "2026-07-22",
            "timezone": "Europe/London",
            "clientRef": f"leg-{i}",
            "accommodation": {"name": f"Inn {i}", "checkIn": "2026-07-15T15:00", "wifiPassword": "pw"},
            "flights": [{"airline": "BA", "flightNumber": f"BA{i}", "departureTime": "2026-07-15T09:00"}],
        }
        for i in range(n)
    ]
    pins = [
        {"name": f"Pin {i}", "lat": 51 + i / 1000, "lng": -1.5, "category": "sight", "clientRef": f"pin-{i}"}
        for i in range(n)
    ]
    items = [{"text": f"Task {i}", "urgency": "before_trip", "clientRef": f"item-{i}"} for i in range(n)]
    return {"legs": legs, "mapPins": pins, "actionItems": items}


async def fresh_server(tmp_path, name: str):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / name}")
    app = create_app(Settings(database_url=db.url, rate_limit=10_000_000), db)
    return app, db


async def measure(tmp_path, name: str, run) -> tuple[float, int]:
    app, db = await fresh_server(tmp_path, name)
    async with app.router.lifespan_context(app):
        server = Server(app, db)
        user_id, key = await server.user_key(f"{name}@example.com", "Bench")
        async with server.client(key) as http:
            actor = Actor(user_id, key, http, f"{name}@example.com")
            trip = await new_trip(actor)
            started = time.perf_counter()
            count = await run(http, trip["_id"])
            elapsed = time.perf_counter() - started
            exported = (await http.get(f"/trips/{trip['_id']}/export")).json()
            stored = sum(len(exported[k]) for k in ("legs", "mapPins", "actionItems"))
            assert stored == count, (stored, count)
    return elapsed, count


async def test_sync_versus_single_posts(tmp_path):
    size = os.environ.get("TRIP_BENCH_SIZE", "smoke")
    items = trip_items(SIZES[size])
    paths = {"legs": "legs", "mapPins": "map-pins", "actionItems": "action-items"}

    async def by_sync(http, trip_id) -> int:
        response = await http.post(f"/trips/{trip_id}/sync", json=items)
        assert response.status_code == 200, response.text
        return sum(response.json()[c]["created"] for c in items)

    async def by_single_posts(http, trip_id) -> int:
        for category, rows in items.items():
            for row in rows:
                response = await http.post(f"/trips/{trip_id}/{paths[category]}", json=row)
                assert response.status_code == 201, response.text
        return sum(len(rows) for rows in items.values())

    single_s, single_n = await measure(tmp_path, "single", by_single_posts)
    # One sync call is short, so one noisy moment on a shared machine swings it: take the median
    # of three, each into a fresh database like the single-POST run.
    trials = sorted([await measure(tmp_path, f"sync{i}", by_sync) for i in range(3)])
    sync_s, sync_n = trials[1]
    single_rate, sync_rate = single_n / single_s, sync_n / sync_s
    ratio = sync_rate / single_rate
    print(f"\nImport of {sync_n} items ({SIZES[size]} legs, pins, action items), size={size}")
    print(f"{'method':<16}{'items':>8}{'seconds':>10}{'items/s':>12}{'ratio':>8}")
    print(f"{'single POSTs':<16}{single_n:>8}{single_s:>10.3f}{single_rate:>12.0f}{1:>8.1f}")
    print(f"{'one sync call':<16}{sync_n:>8}{sync_s:>10.3f}{sync_rate:>12.0f}{ratio:>8.1f}  (median of 3)")
    assert ratio > 1
    if size == "full":
        assert ratio >= TARGET, f"sync is {ratio:.1f}x faster per item; the target is {TARGET}x"
