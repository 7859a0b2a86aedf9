"""Scale-out benchmark: a mixed workload against real `trip serve` processes.

Reads of legs and export, message posts and commitment edits against one process on SQLite, one
on PostgreSQL and two on PostgreSQL: requests/s, p50/p99 latency and server CPU milliseconds per
request (user + system time of the server processes from /proc/<pid>/stat). The cost of single
requests against bare endpoints that share none of our code is tests/benchmarks/test_request_cost.py.

The load generator runs in this process and shares the machine's cores with the servers and the
database, so throughput is informative; CPU per request is the bar.

    TRIP_BENCH_SIZE=full TRIP_TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test \\
        python -m pytest -s tests/benchmarks/test_scale_out_bench.py

The default (smoke) size runs in seconds in the test suite; the PostgreSQL rows need
TRIP_TEST_DATABASE_URL, as every PostgreSQL test does.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from dataclasses import dataclass, field

import httpx
import pytest

from app.server.storage.accounts import create_key, ensure_user
from app.server.storage.database import Database, with_schema
from tests.conftest import new_schema_name, postgres_url
from tests.processes import percentile_ms, start_servers, stop_servers

pytestmark = pytest.mark.slow

FULL = os.environ.get("TRIP_BENCH_SIZE", "smoke") == "full"
MIXED_REQUESTS = 4000 if FULL else 120
CONCURRENCY = 16 if FULL else 4
WARMUP = 100 if FULL else 10
LEGS = 100
COMMITMENTS = 20
USERS = 4
NO_LIMIT = ["--rate-limit", "1000000000"]
MIX = [("legs", 40), ("export", 10), ("message", 30), ("commitment", 20)]
"""Operation weights of the mixed workload (per cent)."""


@dataclass
class Fixture:
    trip_id: str
    channel_id: str
    commitment_ids: list[str]
    keys: list[str]


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    latencies: list[float]
    cpu: float
    errors: dict[int, int] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, q: float) -> float:
        return percentile_ms(self.latencies, q)

    @property
    def cpu_ms(self) -> float:
        return self.cpu / self.requests * 1000


def leg_body(i: int) -> dict:
    day = 15 + i % 7
    return {
        "order": i,
        "title": f"Leg {i}",
        "destination": f"Town {i}",
        "startDate": f"2026-07-{day:02d}",
        "endDate": f"2026-07-{day:02d}",
        "timezone": "Europe/Lisbon",
        "clientRef": f"leg-{i}",
        "accommodation": {"name": f"Inn {i}", "checkIn": f"2026-07-{day:02d}T15:00", "wifiPassword": "pw"},
        "flights": [
            {
                "airline": "TP",
                "flightNumber": f"TP{i}",
                "from": "LHR",
                "to": "LIS",
                "departureTime": f"2026-07-{day:02d}T08:00",
            }
        ],
    }


async def seed(url: str, server_url: str) -> Fixture:
    """A trip with 100 legs, 20 commitments and USERS members, each with a key of their own."""
    db = Database(url)
    keys, emails = [], []
    try:
        async with db.write() as conn:
            for i in range(USERS):
                email = f"bench{i}@example.com"
                user_id = await ensure_user(conn, email, f"Bench {i}")
                keys.append(await create_key(conn, user_id))
                emails.append(email)
    finally:
        await db.dispose()
    async with httpx.AsyncClient(
        base_url=server_url, headers={"Authorization": f"Bearer {keys[0]}"}, timeout=60
    ) as http:
        me = (await http.get("/me")).json()
        trip = await http.post(
            "/trips",
            json={
                "groupId": me["defaultGroupId"],
                "title": "Bench",
                "startDate": "2026-07-15",
                "endDate": "2026-07-22",
            },
        )
        trip_id = trip.json()["_id"]
        for email in emails[1:]:
            added = await http.post(f"/trips/{trip_id}/members", json={"email": email, "role": "editor"})
            assert added.status_code == 201, added.text
        for i in range(LEGS):
            created = await http.post(f"/trips/{trip_id}/legs", json=leg_body(i))
            assert created.status_code == 201, created.text
        commitment_ids = []
        for i in range(COMMITMENTS):
            created = await http.post(
                f"/trips/{trip_id}/commitments",
                json={
                    "title": f"Dinner {i}",
                    "startDate": f"2026-07-{15 + i % 7:02d}",
                    "startTime": "19:00",
                    "endTime": "21:00",
                    "category": "dinner",
                    "isAllDay": False,
                },
            )
            assert created.status_code == 201, created.text
            commitment_ids.append(created.json()["_id"])
        channel_id = (await http.get(f"/trips/{trip_id}/channels")).json()["items"][0]["_id"]
    return Fixture(trip_id, channel_id, commitment_ids, keys)


def mixed_request(rng: random.Random, fx: Fixture, n: int) -> tuple[str, str, dict | None]:
    op = rng.choices([name for name, _ in MIX], weights=[w for _, w in MIX])[0]
    trip = f"/trips/{fx.trip_id}"
    if op == "legs":
        return "GET", f"{trip}/legs", None
    if op == "export":
        return "GET", f"{trip}/export", None
    if op == "message":
        return "POST", f"{trip}/channels/{fx.channel_id}/messages", {"content": f"message {n} \u2708"}
    return (
        "PATCH",
        f"{trip}/commitments/{rng.choice(fx.commitment_ids)}",
        {"notes": f"edit {n}", "startTime": f"{18 + n % 3}:00"},
    )


async def drive(
    name: str, servers, fx: Fixture, total: int, make_request, *, concurrency: int = CONCURRENCY
) -> Result:
    """`total` requests from `concurrency` workers, spread over the servers and the users' keys."""
    clients = [
        [
            httpx.AsyncClient(base_url=s.url, headers={"Authorization": f"Bearer {key}"}, timeout=60)
            for key in fx.keys
        ]
        for s in servers
    ]
    latencies: list[float] = []
    errors: dict[int, int] = {}
    counter = iter(range(total))

    async def worker(w: int) -> None:
        rng = random.Random(w)
        for n in counter:
            method, path, body = make_request(rng, fx, n)
            http = clients[n % len(servers)][n % len(fx.keys)]
            started = time.perf_counter()
            response = await http.request(method, path, json=body)
            latencies.append(time.perf_counter() - started)
            if response.status_code >= 300:
                errors[response.status_code] = errors.get(response.status_code, 0) + 1

    try:
        cpu_before = sum(s.cpu() for s in servers)
        started = time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(concurrency)))
        seconds = time.perf_counter() - started
        cpu = sum(s.cpu() for s in servers) - cpu_before
    finally:
        for row in clients:
            for http in row:
                await http.aclose()
    return Result(name, total, seconds, latencies, cpu, errors)


def backends(tmp_path) -> list[tuple[str, str]]:
    """(label, URL) of each backend under test: SQLite always, PostgreSQL with the switch."""
    found = [("SQLite", f"sqlite+aiosqlite:///{tmp_path / 'bench.db'}")]
    if url := postgres_url():
        found.append(("PostgreSQL", with_schema(url, new_schema_name())))
    return found


def table(title: str, header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=False)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            str(c).rjust(w) if i else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=False))
        )

    return "\n".join([f"\n{title}", line(header), line(["-" * w for w in widths]), *map(line, rows)])


async def test_mixed_workload_on_one_and_two_processes(tmp_path, drop_schemas, capsys):
    configurations = []
    for label, url in backends(tmp_path):
        drop_schemas.append(url)
        for count in (1,) if label == "SQLite" else (1, 2):
            configurations.append((f"{label}, {count} process{'es' if count > 1 else ''}", url, count))
    results = []
    for name, url, count in configurations:
        servers = await asyncio.to_thread(start_servers, url, count, args=NO_LIMIT)
        try:
            fx = await seed(url, servers[0].url) if not results or results[-1][1] != url else results[-1][2]
            await drive("warm-up", servers, fx, WARMUP, mixed_request)
            result = await drive(name, servers, fx, MIXED_REQUESTS, mixed_request)
        finally:
            await asyncio.to_thread(stop_servers, servers)
        results.append((result, url, fx))
    base = results[0][0]
    rows = [
        [
            r.name,
            f"{r.rps:.0f}",
            f"{r.rps / base.rps:.2f}x",
            f"{r.pct(0.5):.1f}",
            f"{r.pct(0.99):.1f}",
            f"{r.cpu_ms:.2f}",
            f"{r.cpu_ms / base.cpu_ms:.2f}x",
            ",".join(f"{k}:{v}" for k, v in r.errors.items()) or "-",
        ]
        for r, _, _ in results
    ]
    mix = ", ".join(f"{name} {weight}%" for name, weight in MIX)
    with capsys.disabled():
        print(
            table(
                f"Mixed workload ({mix}; {MIXED_REQUESTS} requests, {CONCURRENCY} concurrent, size {'full' if FULL else 'smoke'})",
                [
                    "configuration",
                    "req/s",
                    "vs first",
                    "p50 ms",
                    "p99 ms",
                    "server CPU ms/req",
                    "vs first",
                    "errors",
                ],
                rows,
            )
        )
    for r, _, _ in results:
        assert not r.errors, (r.name, r.errors)
