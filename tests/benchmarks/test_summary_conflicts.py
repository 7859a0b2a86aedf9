"""Itinerary summary on pathological trips, measured in one run against a baseline of the same
size without conflicts (legs day after day, one commitment a day).

- `overlapping_legs`: N legs that all overlap each other (N(N-1)/2 overlapping pairs);
- `overlapping_commitments`: N timed commitments on one day that all overlap;
- `night_without_stay` and `impossible_transfer`: N legs that all overlap, each with a one-night
  stay every other night (N/2 runs of nights, each with every leg around it) and two flights a
  day 30 minutes apart (N short connections);

each timed as `timeline.summary(...)` plus the JSON rendering of the answer (what the request
does besides reading the rows), with the answer's size. `TRIP_BENCH_SIZE=full python -m pytest -s
tests/benchmarks/test_summary_conflicts.py` runs N = 1,000; the default smoke size N = 100.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import time

from app.domain import timeline
from app.server.responses import JSON

SIZE = os.environ.get("TRIP_BENCH_SIZE", "smoke")
N = {"full": 1000, "smoke": 100}[SIZE]
RUNS = 3 if SIZE == "full" else 2
FIRST = dt.date(2026, 1, 1)


def day(offset: int) -> str:
    return (FIRST + dt.timedelta(days=offset)).isoformat()


TRIP = {"id": "trip", "revision": 1, "status": "planning", "start_date": day(0), "end_date": day(3 * N)}


def leg(i: int, start: str, end: str, stays=(), flights=()) -> dict:
    return {
        "id": f"leg{i:05d}",
        "trip_id": "trip",
        "order": float(i),
        "title": f"Leg {i}",
        "destination": None,
        "start_date": start,
        "end_date": end,
        "timezone": "Europe/Lisbon",
        "stays": list(stays),
        "flights": list(flights),
        "rental_car": None,
    }


def busy_leg(i: int) -> dict:
    """Overlapping every other busy leg; a stay on night 2i; flights 10:00-11:00 and 11:30-12:30."""
    stays = [{"checkIn": f"{day(2 * i)}T15:00", "checkOut": f"{day(2 * i + 1)}T10:00"}]
    flights = [
        {"from": "LIS", "to": "OPO", "departureTime": f"{day(i)}T{hour}", "arrivalTime": f"{day(i)}T{lands}"}
        for hour, lands in (("10:00", "11:00"), ("11:30", "12:30"))
    ]
    return leg(i, day(0), day(3 * N), stays, flights)


def commitment(i: int, date: str, start: str, end: str) -> dict:
    return {
        "id": f"com{i:05d}",
        "trip_id": "trip",
        "title": f"Commitment {i}",
        "start_date": date,
        "start_time": start,
        "end_time": end,
        "is_all_day": False,
        "timezone": "Europe/Madrid",
        "category": "activity",
        "leg_id": None,
        "map_pin_id": None,
        "notes": None,
    }


def cases() -> dict[str, tuple[list, list]]:
    calm_legs = [leg(i, day(i), day(i + 1)) for i in range(N)]
    calm_commitments = [commitment(i, day(i), "09:00", "10:00") for i in range(N)]
    return {
        "baseline: N calm legs + N calm commitments": (calm_legs, calm_commitments),
        "N mutually overlapping legs": ([leg(i, day(0), day(N + i)) for i in range(N)], calm_commitments),
        "N overlapping commitments on one day": (
            calm_legs,
            [commitment(i, day(1), f"{8 + i % 8:02d}:{i % 60:02d}", "20:00") for i in range(N)],
        ),
        "N legs: nights without a stay, short connections": (
            [busy_leg(i) for i in range(N)],
            calm_commitments,
        ),
    }


def run(legs: list, commitments: list) -> tuple[float, int, dict]:
    times = []
    for _ in range(RUNS):
        began = time.perf_counter()
        body = timeline.summary(TRIP, legs, commitments, [])
        rendered = JSON(body).body
        times.append(time.perf_counter() - began)
    return statistics.median(times), len(rendered), body


def test_summary_of_pathological_trips():
    results = {name: run(*rows) for name, rows in cases().items()}
    base = results["baseline: N calm legs + N calm commitments"][0]
    print(f"\nItinerary summary benchmark ({SIZE}: N = {N}; median of {RUNS})")
    print(f"{'case':<50}{'time (s)':>10}{'ratio':>8}{'conflicts':>11}{'count':>9}{'answer (KB)':>13}")
    for name, (seconds, size, body) in results.items():
        print(
            f"{name:<50}{seconds:>10.3f}{seconds / base:>8.2f}{len(body['conflicts']):>11}"
            f"{body['conflict_count']:>9}{size / 1024:>13.1f}"
        )
    legs_body = results["N mutually overlapping legs"][2]
    assert legs_body["conflict_count"] >= 1
    busy = results["N legs: nights without a stay, short connections"][2]
    kinds = [c["type"] for c in busy["conflicts"]]
    assert kinds.count("impossible_transfer") >= N and kinds.count("night_without_stay") >= N // 2
    assert max(len(c["event_ids"]) for c in busy["conflicts"]) <= max(N, 20)
