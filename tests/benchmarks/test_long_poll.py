"""Benchmark: many idle long polls of the changes feed on ONE real server process.

Full size (by hand): TRIP_BENCH_SIZE=full python -m pytest -s tests/benchmarks/test_long_poll.py
holds 1,000 long polls (500 trips x 2 clients) on one `trip serve` process (uvicorn) and reports
the server's CPU while they idle (% of one core, from /proc/<pid>/stat), its memory per waiting
client (RSS delta / clients), and the delivery latency from posting a message to both clients of
that trip having it. Baselines measured in the same run: the idle server with no waiters, and a
plain request's round trip (`GET /changes?wait=0`). Targets: idle CPU < 5%, p50 < 50 ms,
p99 < 250 ms. The default (smoke) size runs in the normal test run and checks delivery only.
"""

from __future__ import annotations

import asyncio
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
FULL = os.environ.get("TRIP_BENCH_SIZE", "smoke") == "full"
TRIPS = 500 if FULL else 10
CLIENTS_PER_TRIP = 2
WAIT = 30 if FULL else 2
QUIET_WINDOW = 10.0 if FULL else 1.0  # between re-polls: nothing but waiting
CYCLE_WINDOW = WAIT + 1.0  # one whole wait, so every client's re-poll at expiry is included
SAMPLES = 200 if FULL else 10
RAMP_UP = 5.0 if FULL else 0.5
TICKS = os.sysconf("SC_CLK_TCK")


def raise_open_files(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(needed, soft)), hard))


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


async def cpu_percent(pid: int, seconds: float) -> float:
    start_cpu, start = cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(seconds)
    return 100 * (cpu_seconds(pid) - start_cpu) / (time.monotonic() - start)


async def settle(pid: int, limit: float = 90.0) -> float:
    """Wait until the server is quiet (under 5% of a core for a whole second); returns when."""
    start = time.monotonic()
    while await cpu_percent(pid, 1.0) > 5 and time.monotonic() - start < limit:
        pass
    return time.monotonic()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Watcher:
    """One long-polling client: re-polls from its cursor and records when each message arrives."""

    def __init__(self, http: httpx.AsyncClient, trip_id: str, cursor: str) -> None:
        self.http, self.trip_id, self.cursor = http, trip_id, cursor
        self.arrivals: dict[str, float] = {}
        self.got_message = asyncio.Event()
        self.polls = 0
        self.errors = 0
        self.reconnects = 0
        self.last_error = ""

    async def run(self) -> None:
        while True:
            try:
                response = await self.http.get(
                    f"/trips/{self.trip_id}/changes", params={"since": self.cursor, "wait": WAIT}
                )
            except httpx.TimeoutException as exc:  # never answered: a real failure
                self.errors += 1
                self.last_error = repr(exc)
                continue
            except httpx.TransportError:
                # The server closed a kept-alive connection just as it was reused (uvicorn drops
                # connections idle 5 s; a client backlogged by a burst can miss that): reconnect
                # and resume from the cursor, as any client does. Nothing is lost.
                self.reconnects += 1
                continue
            except httpx.HTTPError as exc:
                self.errors += 1
                self.last_error = repr(exc)
                await asyncio.sleep(0.1)
                continue
            now = time.perf_counter()
            self.polls += 1
            if response.status_code != 200:
                self.errors += 1
                self.last_error = f"{response.status_code} {response.text[:200]}"
                await asyncio.sleep(0.1)
                continue
            body = response.json()
            self.cursor = body["cursor"]
            for message in body["messages"]:
                self.arrivals[message["_id"]] = now
            if body["messages"]:
                self.got_message.set()


async def run_benchmark(tmp_path: Path) -> dict[str, float]:
    raise_open_files(TRIPS * CLIENTS_PER_TRIP * 2 + 256)
    db = tmp_path / "bench.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    key = subprocess.run(
        [sys.executable, "-m", "app.cli", "keys", "create", "--email", "bench@example.com", "--db", str(db)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app.cli",
            "serve",
            "--port",
            str(port),
            "--db",
            str(db),
            "--rate-limit",
            "100000000",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    clients = TRIPS * CLIENTS_PER_TRIP
    # Idle connections expire on the client before uvicorn's 5 s keep-alive closes them, so a
    # re-poll never lands on a connection the server is closing.
    limits = httpx.Limits(
        max_connections=clients + 50, max_keepalive_connections=clients + 50, keepalive_expiry=3
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    headers = {"Authorization": f"Bearer {key}"}
    tasks: list[asyncio.Task] = []
    try:
        async with (
            httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=WAIT + 30) as http,
            httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as poster,
        ):
            for _ in range(200):
                try:
                    if (await poster.get("/me")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.05)
            else:
                raise RuntimeError(
                    server.stderr.read().decode() if server.poll() is not None else "server did not start"
                )
            group = (await poster.get("/me")).json()["defaultGroupId"]
            trips = []
            for i in range(TRIPS):
                trip = (
                    await poster.post(
                        "/trips",
                        json={
                            "groupId": group,
                            "title": f"Trip {i}",
                            "startDate": "2026-07-01",
                            "endDate": "2026-07-10",
                        },
                    )
                ).json()
                channel = (await poster.get(f"/trips/{trip['_id']}/channels")).json()["items"][0]["_id"]
                cursor = (await poster.get(f"/trips/{trip['_id']}/changes")).json()["cursor"]
                trips.append((trip["_id"], channel, cursor))

            # Baselines: the server idle with nobody waiting, and a plain request's round trip.
            await asyncio.sleep(1.0)
            rss_before = rss_bytes(server.pid)
            cpu_no_waiters = await cpu_percent(server.pid, QUIET_WINDOW)
            round_trips = []
            for trip_id, _, cursor in trips[:SAMPLES]:
                start = time.perf_counter()
                response = await poster.get(f"/trips/{trip_id}/changes", params={"since": cursor, "wait": 0})
                assert response.status_code == 200
                round_trips.append(time.perf_counter() - start)

            # Hold every long poll, let them settle, then watch the server idle.
            watchers = [
                Watcher(http, trip_id, cursor)
                for trip_id, _, cursor in trips
                for _ in range(CLIENTS_PER_TRIP)
            ]
            started = time.monotonic()
            for i, watcher in enumerate(watchers):  # clients arrive over RAMP_UP seconds
                tasks.append(asyncio.create_task(watcher.run()))
                if i % 50 == 49:
                    await asyncio.sleep(RAMP_UP * 50 / len(watchers))
            settled = await settle(server.pid) - started
            rss_waiting = rss_bytes(server.pid)
            cpu_idle = await cpu_percent(server.pid, QUIET_WINDOW)
            quiet_polls = sum(w.polls for w in watchers)
            cpu_cycle = await cpu_percent(server.pid, CYCLE_WINDOW)
            cycle_polls = sum(w.polls for w in watchers) - quiet_polls

            await settle(server.pid)
            polls_before_delivery = sum(w.polls for w in watchers)
            # Delivery: post one message at a time; latency until both of that trip's clients have it.
            latencies, posts = [], []
            by_trip = {}
            for w in watchers:
                by_trip.setdefault(w.trip_id, []).append(w)
            for n in range(SAMPLES):
                trip_id, channel, _ = trips[(n * 7) % TRIPS]
                start = time.perf_counter()
                message = (
                    await poster.post(
                        f"/trips/{trip_id}/channels/{channel}/messages", json={"content": f"ping {n}"}
                    )
                ).json()
                posts.append(time.perf_counter() - start)
                deadline = time.monotonic() + 10
                while not all(message["_id"] in w.arrivals for w in by_trip[trip_id]):
                    if time.monotonic() > deadline:
                        raise AssertionError(f"message {n} not delivered to every client of its trip in 10 s")
                    await asyncio.sleep(0.001)
                latencies.append(max(w.arrivals[message["_id"]] for w in by_trip[trip_id]) - start)
                await asyncio.sleep(0.01)
            errors = sum(w.errors for w in watchers)
            reconnects = sum(w.reconnects for w in watchers)
            delivery_polls = sum(w.polls for w in watchers) - polls_before_delivery - 2 * SAMPLES
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    return {
        "clients": clients,
        "cpu_idle": cpu_idle,
        "cpu_cycle": cpu_cycle,
        "cpu_no_waiters": cpu_no_waiters,
        "quiet_polls": quiet_polls,
        "cycle_polls": cycle_polls,
        "settled": settled,
        "delivery_polls": delivery_polls,
        "rss_before": rss_before,
        "rss_per_client": (rss_waiting - rss_before) / clients,
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "post_p50": percentile(posts, 50),
        "rt_p50": percentile(round_trips, 50),
        "rt_p99": percentile(round_trips, 99),
        "mean": statistics.mean(latencies),
        "errors": errors,
        "reconnects": reconnects,
        "last_error": next((w.last_error for w in watchers if w.last_error), ""),
    }


def report(r: dict[str, float]) -> str:
    ms = 1000
    rows = [
        ("metric", "value", "baseline", "ratio", "target"),
        (
            f"idle CPU, {r['clients']} waiting (% of a core)",
            f"{r['cpu_idle']:.2f}%",
            f"{r['cpu_no_waiters']:.2f}% (no waiters)",
            f"{r['cpu_idle'] / max(r['cpu_no_waiters'], 0.01):.1f}x",
            "< 5%",
        ),
        (
            f"CPU over one {WAIT}s wait, incl. re-polls",
            f"{r['cpu_cycle']:.2f}%",
            f"{r['cpu_no_waiters']:.2f}% (no waiters)",
            f"{r['cpu_cycle'] / max(r['cpu_no_waiters'], 0.01):.1f}x",
            "",
        ),
        (
            "memory per waiting client",
            f"{r['rss_per_client'] / 1024:.1f} KiB",
            f"{r['rss_before'] / 2**20:.1f} MiB RSS idle",
            f"{r['rss_per_client'] * r['clients'] / r['rss_before']:.2f}x total",
            "",
        ),
        (
            "delivery p50 (post -> both clients)",
            f"{r['p50'] * ms:.1f} ms",
            f"{r['rt_p50'] * ms:.1f} ms (GET wait=0)",
            f"{r['p50'] / r['rt_p50']:.1f}x",
            "< 50 ms",
        ),
        ("  of which the POST's own round trip, p50", f"{r['post_p50'] * ms:.1f} ms", "", "", ""),
        (
            "delivery p99",
            f"{r['p99'] * ms:.1f} ms",
            f"{r['rt_p99'] * ms:.1f} ms (GET wait=0)",
            f"{r['p99'] / r['rt_p99']:.1f}x",
            "< 250 ms",
        ),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    size = "full" if FULL else "smoke"
    extra = (
        f"({size}: {TRIPS} trips x {CLIENTS_PER_TRIP} clients, wait={WAIT}s; settled in {r['settled']:.1f}s; "
        f"quiet window {QUIET_WINDOW:.0f}s with {r['quiet_polls']} polls answered, cycle window {CYCLE_WINDOW:.0f}s "
        f"with {r['cycle_polls']}; {SAMPLES} messages, with {r['delivery_polls']} other polls answered meanwhile; "
        f"{r['errors']} client errors, {r['reconnects']} reconnects)"
    )
    return "\n".join([*lines, extra])


@pytest.mark.slow
async def test_idle_long_polls_on_one_server_process(tmp_path):
    result = await run_benchmark(tmp_path)
    print("\n" + report(result))
    assert result["errors"] == 0, result["last_error"]
    if FULL:
        assert result["cpu_idle"] < 5.0
        assert result["p50"] < 0.050 and result["p99"] < 0.250
    else:
        # Smoke size on a shared CI machine: delivery works and is not absurdly slow.
        assert result["p99"] < 2.0
