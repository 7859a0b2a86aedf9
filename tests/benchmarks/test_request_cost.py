"""Request cost near the floor (issue 18): server CPU per request of `trip serve` against bare
baselines doing the same work, measured from outside, in one run.

Two real processes on this machine: `trip serve` (tests/processes.py) and
`tests/benchmarks/bare_baselines.py` (Starlette + `sqlite3` / `asyncpg` + `json`; it imports none
of our code, so it cannot hide where our cost is). The trip has 100 legs with stays, flights and
some rental cars, seeded through the API; the bare app is handed the same legs (trip serve's own
answer) and stores them in a plain table with the nested parts as JSON text. Then, per request:

    GET  /me                                       bare: a small JSON dict, no database
    GET  /trips/{id}/legs   (100 legs)              bare: one SELECT, json.loads of the nested parts, json.dumps
    POST /trips/{id}/channels/{cid}/messages       bare: one INSERT + commit (SQLite WAL, synchronous=NORMAL)
         sent as the SDK sends it (a fresh Idempotency-Key each time) and without a key

Each request runs against both servers alternately, in rounds (the order flips every round), so
noise from the other engineers' work on these 2 shared cores lands on both sides; warm-up
requests are not counted. CPU per request is user + system time of the server process (all its
threads) from /proc/<pid>/stat over the measured requests. The load generator is a minimal
keep-alive HTTP/1.1 client over loopback (CONCURRENCY connections, opened before each
round's measurement starts), lighter than httpx so it takes fewer cycles from the servers it measures; req/s and
latency are informative, CPU per request is the number. The bare app runs the uvicorn loop and
HTTP implementation that `trip serve` ended up with (read from its /proc/<pid>/maps).

    python3 -m pytest -s -q tests/benchmarks/test_request_cost.py                     # smoke, SQLite
    TRIP_BENCH_SIZE=full python3 -m pytest -s -q tests/benchmarks/test_request_cost.py
    TRIP_TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test TRIP_BENCH_SIZE=full \\
        python3 -m pytest -s -q tests/benchmarks/test_request_cost.py                  # + PostgreSQL rows

Smoke size (the default, in CI) asserts sanity only: every answer 200/201, the same legs from
both. Full size prints the table and asserts the same sanity, nothing about the goal yet.
"""

from __future__ import annotations

import ast
import asyncio
import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from app.server.storage.accounts import create_key as create_key_for
from app.server.storage.accounts import ensure_user
from app.server.storage.database import Database, with_schema
from tests.conftest import new_schema_name, postgres_url
from tests.processes import ServeProcess, percentile_ms, start_servers, stop_servers

pytestmark = pytest.mark.slow

FULL = os.environ.get("TRIP_BENCH_SIZE", "smoke") == "full"
REQUESTS = 2000 if FULL else 40
"""Measured requests per row and server."""
WARMUP = 200 if FULL else 8
ROUNDS = 5 if FULL else 2
CONCURRENCY = 8 if FULL else 4
BATCH_SECONDS = 120.0 if FULL else 5.0
"""A round on one server stops here even if short of its requests (the count is printed)."""
LEGS = 100
NO_LIMIT = ["--rate-limit", "1000000000"]
BARE = Path(__file__).with_name("bare_baselines.py")


# --- the load generator ------------------------------------------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection: write a request, read the status and the body."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> Connection:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        return self

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length, closing = None, False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection":
                closing = value.strip().lower() == b"close"
            elif name == b"transfer-encoding":
                raise AssertionError(
                    f"chunked answer on port {self.port}; the load generator reads Content-Length only"
                )
        body = await self.reader.readexactly(length or 0)
        if closing:  # the server ends this connection after this answer: take a new one
            await self.close()
            await self.open()
        return status, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass


def http_request(
    method: str, path: str, port: int, key: str, body: bytes | None = None, idempotency_key: str | None = None
) -> bytes:
    lines = [
        f"{method} /api/v1{path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Accept: */*",
        "User-Agent: tripdeck-bench",
        f"Authorization: Bearer {key}",
    ]
    if idempotency_key:
        lines.append(f"Idempotency-Key: {idempotency_key}")
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


@dataclass
class Tally:
    requests: int = 0
    seconds: float = 0.0
    cpu: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def cpu_ms(self) -> float:
        return self.cpu / self.requests * 1000

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, q: float) -> float:
        return percentile_ms(self.latencies, q)

    def unexpected(self, expected: int) -> dict[int, int]:
        return {status: n for status, n in self.statuses.items() if status != expected}


@dataclass
class Side:
    """One server answering one kind of request: `make(n)` builds the n-th request's bytes."""

    label: str
    server: ServeProcess
    make: Callable[[int], bytes]
    expected: int
    tally: Tally = field(default_factory=Tally)
    sent: int = 0

    async def run(self, count: int, *, measure: bool) -> None:
        """`count` requests over CONCURRENCY connections, for at most BATCH_SECONDS; measured
        (server CPU, wall time, latencies, statuses) unless a warm-up."""
        first = self.sent
        self.sent += count
        numbers = iter(range(first, first + count))
        deadline = time.monotonic() + BATCH_SECONDS
        latencies: list[float] = []
        statuses: dict[int, int] = {}

        async def worker(conn: Connection) -> None:
            for n in numbers:
                if time.monotonic() > deadline:
                    return
                raw = self.make(n)
                started = time.perf_counter()
                status, _ = await conn.send(raw)
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1

        # Fresh connections per batch, opened before and closed after the measurement: uvicorn
        # closes a keep-alive connection idle for 5 s, as one is while the other side runs.
        connections = [await Connection(self.server.port).open() for _ in range(CONCURRENCY)]
        await asyncio.sleep(0.02)  # let the server finish accepting them
        try:
            cpu_before = self.server.cpu()
            started = time.perf_counter()
            await asyncio.gather(*(worker(conn) for conn in connections))
            seconds = time.perf_counter() - started
            cpu = self.server.cpu() - cpu_before
        finally:
            for conn in connections:
                await conn.close()
        if measure:
            t = self.tally
            t.requests += len(latencies)
            t.seconds += seconds
            t.cpu += cpu
            t.latencies += latencies
            for status, n in statuses.items():
                t.statuses[status] = t.statuses.get(status, 0) + n
        elif unexpected := {s: n for s, n in statuses.items() if s != self.expected}:
            raise AssertionError(f"{self.label} warm-up answered {unexpected}")


async def measure(sides: list[Side]) -> None:
    """Warm each side up, then ROUNDS rounds over all sides, the order flipped every round."""
    for side in sides:
        await side.run(WARMUP, measure=False)
    per_round = [REQUESTS // ROUNDS + (1 if r < REQUESTS % ROUNDS else 0) for r in range(ROUNDS)]
    for r, count in enumerate(per_round):
        for side in sides if r % 2 == 0 else sides[::-1]:
            await side.run(count, measure=True)


# --- the servers and their data ----------------------------------------------------------------


def leg_body(i: int) -> dict:
    """A leg with two stays and a flight; every fourth one also has a rental car."""
    day = 15 + i % 6
    date, next_day = f"2026-07-{day:02d}", f"2026-07-{day + 1:02d}"
    stay = lambda n: {  # noqa: E731
        "name": f"Inn {i}.{n}",
        "address": f"{i} High Street, Town {i}",
        "lat": 38.7 + i / 1000,
        "lng": -9.1 - n / 1000,
        "checkIn": f"{date}T15:00",
        "checkOut": f"{next_day}T11:00",
        "wifiPassword": f"pw-{i}",
        "confirmationNumber": f"BK{i:04d}{n}",
    }
    body = {
        "order": i,
        "title": f"Leg {i}",
        "destination": f"Town {i}",
        "startDate": date,
        "endDate": next_day,
        "timezone": "Europe/Lisbon",
        "clientRef": f"leg-{i}",
        "stays": [stay(1), stay(2)],
        "flights": [
            {
                "airline": "TP",
                "flightNumber": f"TP{1000 + i}",
                "from": "LHR",
                "to": "LIS",
                "departureTime": f"{date}T08:00",
                "arrivalTime": f"{date}T10:45",
                "seat": "12A",
            }
        ],
    }
    if i % 4 == 0:
        body["rentalCar"] = {
            "company": "Hertz",
            "pickupLocation": "LIS T1",
            "pickupTime": f"{date}T11:30",
            "dropoffLocation": "LIS T1",
            "dropoffTime": f"{next_day}T18:00",
        }
    return body


@dataclass
class Fixture:
    key: str
    trip_id: str
    channel_id: str
    me: dict
    legs_answer: bytes


async def create_key(db_url: str) -> str:
    """A user and an API key in trip serve's (migrated) database, as the test fixtures make them."""
    db = Database(db_url)
    try:
        async with db.write() as conn:
            return await create_key_for(conn, await ensure_user(conn, "bench@example.com", "Bench"))
    finally:
        await db.dispose()


async def seed(server: ServeProcess, key: str) -> Fixture:
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=60
    ) as http:
        me = (await http.get("/me")).json()
        trip = await http.post(
            "/trips",
            json={
                "groupId": me["defaultGroupId"],
                "title": "Request cost",
                "startDate": "2026-07-15",
                "endDate": "2026-07-22",
            },
        )
        assert trip.status_code == 201, trip.text
        trip_id = trip.json()["_id"]
        for start in range(0, LEGS, 50):
            batch = await http.post(
                f"/trips/{trip_id}/legs:batch",
                json={"items": [leg_body(i) for i in range(start, min(LEGS, start + 50))]},
            )
            assert batch.status_code == 200, batch.text
        channels = (await http.get(f"/trips/{trip_id}/channels")).json()["items"]
        legs = await http.get(f"/trips/{trip_id}/legs")
        assert legs.status_code == 200, legs.text
    return Fixture(key, trip_id, channels[0]["_id"], me, legs.content)


def uvicorn_flavour(pid: int) -> tuple[str, str]:
    """The uvicorn loop and HTTP implementation a process runs, from the extension modules it has
    mapped (uvicorn imports uvloop/httptools only to use them)."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    loop = "zuvloop" if "/zuvloop/" in maps else "uvloop" if "/uvloop/" in maps else "asyncio"
    http = "zttp" if "/zttp/" in maps else "httptools" if "/httptools/" in maps else "h11"
    return loop, http


def urls(backend: str, tmp_path: Path) -> tuple[str, str]:
    """(trip serve's database, the bare app's database): separate files or separate schemas."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'trip.db'}", f"sqlite:{tmp_path / 'bare.db'}"
    url = postgres_url()
    return with_schema(url, new_schema_name()), with_schema(url, new_schema_name())


def table(title: str, header: list[str], rows: list[list[str]], notes: list[str]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=False)]

    def line(cells: list[str]) -> str:
        return " | ".join(
            str(c).rjust(w) if i else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=False))
        )

    return "\n".join(
        [f"\n{title}", line(header), "-+-".join("-" * w for w in widths), *map(line, rows), *notes]
    )


# --- the benchmark -------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def test_request_cost_against_bare_baselines(backend, tmp_path, drop_schemas, capsys):
    trip_url, bare_url = urls(backend, tmp_path)
    if backend == "postgresql":
        drop_schemas.extend([trip_url, bare_url])
    serve = (await asyncio.to_thread(start_servers, trip_url, 1, args=NO_LIMIT))[0]
    servers = [serve]
    try:
        fx = await seed(serve, await create_key(trip_url))
        loop, http_impl = uvicorn_flavour(serve.pid)
        seed_file = tmp_path / "bare-seed.json"
        seed_file.write_text(json.dumps({"me": fx.me, "legs": json.loads(fx.legs_answer)["items"]}))
        bare = (
            await asyncio.to_thread(
                start_servers,
                bare_url,
                1,
                command=[str(BARE)],
                args=["--seed", str(seed_file), "--loop", loop, "--http", http_impl],
            )
        )[0]
        servers.append(bare)
        assert uvicorn_flavour(bare.pid) == (loop, http_impl)

        legs_path = f"/trips/{fx.trip_id}/legs"
        messages_path = f"/trips/{fx.trip_id}/channels/{fx.channel_id}/messages"
        answers = {}
        for name, server in (("serve", serve), ("bare", bare)):
            conn = await Connection(server.port).open()
            try:
                answers[name] = await conn.send(http_request("GET", legs_path, server.port, fx.key))
            finally:
                await conn.close()
            assert answers[name][0] == 200, (name, answers[name])
        serve_items, bare_items = (json.loads(answers[n][1])["items"] for n in ("serve", "bare"))
        assert len(serve_items) == len(bare_items) == LEGS
        legs_note = (
            f"legs answer: trip serve {len(answers['serve'][1])} bytes, bare {len(answers['bare'][1])} bytes"
            f" ({'identical' if answers['serve'][1] == answers['bare'][1] else 'different'} bytes)"
        )

        def get(path: str, server: ServeProcess) -> Callable[[int], bytes]:
            raw = http_request("GET", path, server.port, fx.key)
            return lambda n: raw

        def post(server: ServeProcess, idempotent: bool) -> Callable[[int], bytes]:
            def make(n: int) -> bytes:
                body = json.dumps({"content": f"message {n} \u2708"}, ensure_ascii=False).encode()
                return http_request(
                    "POST",
                    messages_path,
                    server.port,
                    fx.key,
                    body,
                    f"tripdeck-{uuid.uuid4()}" if idempotent else None,
                )

            return make

        groups = {
            "GET /me": [
                Side("serve", serve, get("/me", serve), 200),
                Side("bare", bare, get("/me", bare), 200),
            ],
            f"GET /trips/{{id}}/legs ({LEGS} legs)": [
                Side("serve", serve, get(legs_path, serve), 200),
                Side("bare", bare, get(legs_path, bare), 200),
            ],
            "POST .../messages": [
                Side("serve, Idempotency-Key", serve, post(serve, True), 201),
                Side("serve, no key", serve, post(serve, False), 201),
                Side("bare", bare, post(bare, False), 201),
            ],
        }
        started = time.perf_counter()
        for sides in groups.values():
            await measure(sides)
        elapsed = time.perf_counter() - started
    finally:
        await asyncio.to_thread(stop_servers, servers)

    rows = []
    for request, sides in groups.items():
        *ours, base = sides
        for side in ours:
            label = request if len(ours) == 1 else f"{request} ({side.label.split(', ')[1]})"
            s, b = side.tally, base.tally
            rows.append(
                [
                    label,
                    f"{s.cpu_ms:.2f}",
                    f"{b.cpu_ms:.2f}",
                    f"{s.cpu_ms / b.cpu_ms:.1f}x" if b.cpu else "-",
                    f"{s.rps:.0f} / {b.rps:.0f}",
                    f"{s.pct(0.5):.1f} / {b.pct(0.5):.1f}",
                    f"{s.pct(0.99):.1f} / {b.pct(0.99):.1f}",
                    f"{s.requests} / {b.requests}",
                ]
            )
    db = "SQLite" if backend == "sqlite" else "PostgreSQL"
    notes = [
        f"CPU: user+system of the server process per measured request (/proc); req/s, p50, p99 (ms): trip serve / bare;"
        f" {CONCURRENCY} keep-alive connections per server; {ROUNDS} alternating rounds after {WARMUP} warm-up requests"
        f" per side; {elapsed:.0f} s measuring.",
        "POST rows share one bare measurement; 'Idempotency-Key' sends a fresh key per request, as the SDK does.",
        legs_note,
    ]
    if not FULL:
        notes.append(
            "smoke size: /proc counts CPU in 1/100 s ticks, too coarse for these few requests; TRIP_BENCH_SIZE=full to compare."
        )
    with capsys.disabled():
        print(
            table(
                f"Request cost on {db}: trip serve vs bare baselines (uvicorn loop={loop}, http={http_impl}; size {'full' if FULL else 'smoke'})",
                [
                    "request",
                    "trip serve CPU ms/req",
                    "bare CPU ms/req",
                    "ratio",
                    "req/s",
                    "p50 ms",
                    "p99 ms",
                    "requests",
                ],
                rows,
                notes,
            )
        )
    for sides in groups.values():
        for side in sides:
            t = side.tally
            assert t.requests > 0, f"{side.label}: no request finished within {BATCH_SECONDS}s"
            assert not t.unexpected(side.expected), (side.label, t.statuses)


def test_bare_baselines_share_none_of_our_code():
    """The baseline must not share the code it judges: no import from app or tests."""
    tree = ast.parse(BARE.read_text())
    imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    imported += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert not [name for name in imported if name.split(".")[0] in ("app", "tests")], imported
