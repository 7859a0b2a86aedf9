"""What the SDK costs on top of plain httpx, against the same in-process server in the same run.

Baseline: a bare `httpx.AsyncClient` that sends the same requests and only decodes the JSON.
SDK: `TripClient`, which also validates ids, adds an Idempotency-Key to writes, runs the retry
loop and parses every answer into `app.domain` models. The server's own work is in both.

    TRIP_BENCH_SIZE=full python -m pytest tests/benchmarks/test_sdk_overhead.py -s -q
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Awaitable, Callable

import httpx

from app.client import TripClient
from tests.conftest import BASE

SIZES = {"smoke": {"legs": 30, "calls": 20}, "full": {"legs": 400, "calls": 300}}
SIZE = os.environ.get("TRIP_BENCH_SIZE", "smoke")
# The SDK parses into pydantic models; more than this times the baseline would mean the
# client, not the server, dominates a call.
MAX_RATIO = 3.0


def leg(i: int) -> dict:
    return {
        "order": i,
        "title": f"Leg {i}",
        "destination": "Kyoto",
        "startDate": "2026-07-15",
        "endDate": "2026-07-18",
        "timezone": "Asia/Tokyo",
        "flights": [{"airline": "JL", "flightNumber": f"JL{i}", "departureTime": "2026-07-15T09:00"}],
        "accommodation": {"name": f"Ryokan {i}", "checkIn": "2026-07-15T15:00"},
    }


ROUNDS = 5


async def timed(calls: int, *works: Callable[[int], Awaitable[object]]) -> list[float]:
    """Milliseconds per call of each `work`, best of ROUNDS rounds; the works take turns within
    a round so that load from other processes on the shared machine hits them alike."""
    best = [float("inf")] * len(works)
    for _ in range(ROUNDS):
        for n, work in enumerate(works):
            started = time.perf_counter()
            for i in range(calls):
                await work(i)
            best[n] = min(best[n], (time.perf_counter() - started) * 1000 / calls)
    return best


async def test_sdk_overhead(server, alice):
    size = SIZES[SIZE]
    transport = httpx.ASGITransport(app=server.app)
    raw = httpx.AsyncClient(
        transport=transport, base_url=BASE, headers={"Authorization": f"Bearer {alice.key}"}
    )
    sdk = TripClient(api_key=alice.key, base_url=BASE, transport=transport)
    try:
        me = (await raw.get("/me")).json()
        trip = (
            await raw.post(
                "/trips",
                json={
                    "groupId": me["defaultGroupId"],
                    "title": "Bench",
                    "startDate": "2026-07-15",
                    "endDate": "2026-07-22",
                },
            )
        ).json()
        trip_id = trip["_id"]
        for i in range(size["legs"]):
            assert (await raw.post(f"/trips/{trip_id}/legs", json=leg(i))).status_code == 201

        async def raw_list_all(_: int) -> int:
            count, cursor = 0, None
            while True:
                params = {"limit": 50, **({"cursor": cursor} if cursor else {})}
                page = (await raw.get(f"/trips/{trip_id}/legs", params=params)).json()
                count += len(page["items"])
                cursor = page["nextCursor"]
                if not cursor:
                    return count

        async def sdk_list_all(_: int) -> int:
            return len([x async for x in sdk.iterate_legs(trip_id, page_size=50)])

        assert await raw_list_all(0) == await sdk_list_all(0) == size["legs"]

        async def raw_get(_: int) -> object:
            return (await raw.get(f"/trips/{trip_id}")).json()

        async def sdk_get(_: int) -> object:
            return await sdk.get_trip(trip_id)

        async def raw_create(i: int) -> object:
            response = await raw.post(
                f"/trips/{trip_id}/map-pins",
                json={"name": f"Pin {i}", "lat": 35.0, "lng": 135.0},
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )
            return response.json()

        async def sdk_create(i: int) -> object:
            return await sdk.create_map_pin(trip_id, name=f"Pin {i}", lat=35.0, lng=135.0)

        rows = []
        for name, baseline, ours, calls in (
            ("GET one trip", raw_get, sdk_get, size["calls"]),
            ("POST one map pin", raw_create, sdk_create, size["calls"]),
            (f"list {size['legs']} legs, 50 a page", raw_list_all, sdk_list_all, max(3, size["calls"] // 20)),
        ):
            raw_ms, sdk_ms = await timed(calls, baseline, ours)
            rows.append((name, raw_ms, sdk_ms, sdk_ms / raw_ms))
    finally:
        await raw.aclose()
        await sdk.aclose()

    print(
        f"\nSDK overhead ({SIZE}: {size['legs']} legs, {size['calls']} calls; ms per call, best of {ROUNDS})"
    )
    print(f"{'operation':<30}{'httpx':>10}{'TripClient':>12}{'ratio':>8}")
    for name, raw_ms, sdk_ms, ratio in rows:
        print(f"{name:<30}{raw_ms:>10.2f}{sdk_ms:>12.2f}{ratio:>8.2f}")
    for name, _, _, ratio in rows:
        assert ratio < MAX_RATIO, f"{name}: the SDK takes {ratio:.1f}x the bare httpx time"
