"""Benchmark: the activity feed (`GET /trips/{id}/operations`) pages in constant time per page,
however long the trip's log.

A trip with N operations (each with an actor and a typical row change, written straight into the
log) is read page by page to its end through the real app in-process, 100 a page, each page timed
(the median of a few reads of it). Measured in the same run: the first page of a trip with only
100 operations, the baseline of every ratio. `TRIP_BENCH_SIZE=full python -m pytest -s
tests/benchmarks/test_activity_feed.py` runs N = 10,000 (100 pages); the default smoke size
N = 1,000 runs in the normal test run.
"""

from __future__ import annotations

import os
import statistics
import time

from sqlalchemy import insert, update

from app.server.clock import new_id, now_ms
from app.server.storage import tables as t
from tests.conftest import new_trip
from tests.processes import percentile_ms

SIZE = os.environ.get("TRIP_BENCH_SIZE", "smoke")
N = {"full": 10_000, "smoke": 1_000}[SIZE]
PAGE = 100
READS = 5 if SIZE == "full" else 3


def operation(trip_id: str, revision: int, actor_id: str) -> dict:
    return {
        "trip_id": trip_id,
        "result_revision": revision,
        "op_id": new_id(),
        "operation_type": "update_commitment",
        "affected_event_ids": ["c1"],
        "event_changes": [{"event_id": "c1", "change": "updated"}],
        "created_at": now_ms(),
        "actor_id": actor_id,
        "actor_key_name": "laptop",
        "reverts": None,
        "reverted_by": None,
        "row_changes": [
            {
                "kind": "commitment",
                "id": "c1",
                "label": "Flamenco class",
                "change": "updated",
                "before": {"start_time": "15:30", "end_time": "16:30"},
                "after": {"start_time": "17:30", "end_time": "18:30"},
            }
        ],
    }


async def logged_trip(server, actor, count: int) -> str:
    """A trip whose log holds `count` operations (revisions 2..count+1)."""
    trip_id = (await new_trip(actor))["_id"]
    rows = [operation(trip_id, revision, actor.user_id) for revision in range(2, count + 2)]
    async with server.db.write() as conn:
        for start in range(0, len(rows), 1000):
            await conn.execute(insert(t.operations), rows[start : start + 1000])
        await conn.execute(update(t.trips).where(t.trips.c.id == trip_id).values(revision=count + 1))
    return trip_id


async def timed_page(actor, trip_id: str, cursor: str | None) -> tuple[float, dict]:
    times, body = [], {}
    for _ in range(READS):
        began = time.perf_counter()
        response = await actor.http.get(
            f"/trips/{trip_id}/operations", params={"limit": PAGE, "cursor": cursor}
        )
        times.append(time.perf_counter() - began)
        assert response.status_code == 200, response.text
        body = response.json()
    return statistics.median(times), body


async def test_the_feed_pages_in_constant_time(server, make_actor):
    maya = await make_actor("maya@example.com", "Maya")
    small = await logged_trip(server, maya, PAGE)
    big = await logged_trip(server, maya, N)
    await timed_page(maya, small, None)  # warm up: routes, statements, caches
    baseline, _ = await timed_page(maya, small, None)

    pages: list[float] = []
    cursor: str | None = None
    seen = 0
    while True:
        seconds, body = await timed_page(maya, big, cursor)
        pages.append(seconds)
        seen += len(body["items"])
        assert body["items"][0]["summary"] == "Maya moved “Flamenco class” from 15:30 to 17:30"
        cursor = body["nextCursor"]
        if cursor is None:
            break
    assert seen == N

    rows = [
        ("first page of a 100-operation trip (baseline)", baseline),
        (f"first page of the {N:,}-operation trip", pages[0]),
        (f"page {len(pages) // 2 + 1} (middle)", pages[len(pages) // 2]),
        (f"page {len(pages)} (last)", pages[-1]),
        ("median page", statistics.median(pages)),
        ("95th percentile page", percentile_ms(pages, 0.95) / 1000),
    ]
    print(
        f"\nActivity feed paging ({SIZE}: {N:,} operations, {len(pages)} pages of {PAGE}; median of {READS} reads "
        f"each; {server.db.dialect})"
    )
    print(f"{'page':<48}{'ms':>9}{'ratio':>8}")
    for name, seconds in rows:
        print(f"{name:<48}{seconds * 1000:>9.2f}{seconds / baseline:>8.2f}")
    # Keyset paging on the log's primary key: the last page costs what the first does (generous
    # bounds: a shared machine's noise, not a slope, is what they allow).
    assert pages[-1] < 3 * pages[0] + 0.01
    assert statistics.median(pages) < 3 * baseline + 0.01
