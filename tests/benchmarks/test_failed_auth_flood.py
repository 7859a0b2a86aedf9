"""A flood of bad keys (and of share-token guesses) from one address against a real `trip serve`:
where the 429s start and the server CPU it costs.

Each request carries a fresh random key (`Authorization: Bearer osk_<random>`), or asks for a
fresh random share token, 16 at a time over keep-alive connections. CPU is user + system time of
the server process (all its threads) from /proc/<pid>/stat over the flood; the load generator
shares the machine, so req/s is informative and CPU per request is the number.

    python3 -m pytest -s -q tests/benchmarks/test_failed_auth_flood.py                     # smoke, SQLite
    TRIP_BENCH_SIZE=full python3 -m pytest -s -q tests/benchmarks/test_failed_auth_flood.py  # 2,000 requests
    TRIP_TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test TRIP_BENCH_SIZE=full \\
        python3 -m pytest -s -q tests/benchmarks/test_failed_auth_flood.py                  # PostgreSQL

Both sizes assert the limit: 30 failures answered (401 or 404), every later request 429.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections import Counter

import httpx
import pytest

from tests.conftest import database_url
from tests.processes import start_servers, stop_servers

pytestmark = pytest.mark.slow

FULL = os.environ.get("TRIP_BENCH_SIZE", "smoke") == "full"
REQUESTS = 2000 if FULL else 200
CONCURRENCY = 16
LIMIT = 30


async def flood(url: str, kind: str) -> list[int]:
    """The status code of every answer."""
    codes: list[int] = []
    queue = iter(range(REQUESTS))
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=CONCURRENCY)) as http:

        async def worker() -> None:
            for _ in queue:
                if kind == "keys":
                    headers = {"Authorization": f"Bearer osk_{secrets.token_urlsafe(32)}"}
                    response = await http.get(f"{url}/me", headers=headers)
                else:
                    response = await http.get(f"{url}/shared/trips/shr_{secrets.token_urlsafe(32)}")
                codes.append(response.status_code)

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return codes


@pytest.mark.parametrize("kind", ["keys", "share-tokens"])
async def test_flood_from_one_address(kind, tmp_path, drop_schemas):
    url = database_url(tmp_path)
    drop_schemas.append(url)
    if time.time() % 60 > 40:  # one 60 s window for the whole flood
        await asyncio.sleep(61 - time.time() % 60)
    [server] = start_servers(url, 1, args=["--failed-auth-limit", str(LIMIT)])
    try:
        async with httpx.AsyncClient() as http:  # warm: the first request's imports and connections
            await http.get(f"{server.url}/openapi.json")
        before, started = server.cpu(), time.perf_counter()
        codes = await flood(server.url, kind)
        wall, cpu = time.perf_counter() - started, server.cpu() - before
    finally:
        stop_servers([server])
    failure = 401 if kind == "keys" else 404
    counted = Counter(codes)
    print(
        f"\n{kind} on {url.split(':', 1)[0]}: {REQUESTS} requests in {wall:.1f} s ({REQUESTS / wall:.0f}/s), "
        f"{dict(counted)}; server CPU {cpu:.2f} s "
        f"({cpu / REQUESTS * 1000:.2f} ms a request)"
    )
    assert counted == {failure: LIMIT, 429: REQUESTS - LIMIT}
