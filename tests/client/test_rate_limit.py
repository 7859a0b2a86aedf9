"""The SDK against the server's real rate limiter (3 requests a minute here)."""

from __future__ import annotations

import time

import pytest

from app.client import RateLimitedError, TripClient
from app.server.settings import Settings
from tests.client.conftest import in_process
from tests.conftest import BASE, database_url

LIMIT = 3


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(database_url=database_url(tmp_path), rate_limit=LIMIT)


def window_clock(seconds_left: float):
    """A limiter clock `seconds_left` before the end of a 60 s window, then running in real time."""
    started = time.time()
    base = 60 * 1000 - seconds_left
    return lambda: base + (time.time() - started)


async def test_over_the_limit_fails_fast_when_the_wait_passes_the_deadline(server, alice):
    server.app.state.rate_limiter.clock = window_clock(50)
    async with TripClient(
        api_key=alice.key, base_url=BASE, transport=in_process(server), deadline=5
    ) as client:
        for remaining in range(LIMIT - 1, -1, -1):
            await client.me()
            assert (client.rate_limit.limit, client.rate_limit.remaining) == (LIMIT, remaining)
        started = time.monotonic()
        with pytest.raises(RateLimitedError) as caught:
            await client.me()
    assert time.monotonic() - started < 1
    assert caught.value.status == 429 and caught.value.code == "RATE_LIMITED"
    assert 49 <= caught.value.retry_after <= 51 and caught.value.request_id


async def test_over_the_limit_waits_for_the_next_window(server, alice):
    server.app.state.rate_limiter.clock = window_clock(1.5)  # the window ends during the test
    async with TripClient(
        api_key=alice.key, base_url=BASE, transport=in_process(server), deadline=10
    ) as client:
        me = await client.me()
        for _ in range(LIMIT - 1):
            await client.create_trip(
                group_id=me.default_group_id, title="Kyoto", start_date="2026-07-15", end_date="2026-07-22"
            )
        started = time.monotonic()
        # Over the limit now: the SDK sleeps Retry-After and the next window lets it through.
        trip = await client.create_trip(
            group_id=me.default_group_id, title="Nara", start_date="2026-07-15", end_date="2026-07-22"
        )
        waited = time.monotonic() - started
    assert trip.title == "Nara" and waited >= 0.5
    async with TripClient(api_key=alice.key, base_url=BASE, transport=in_process(server)) as client:
        titles = [t.title async for t in client.iterate_trips()]
    assert titles == ["Kyoto"] * (LIMIT - 1) + ["Nara"]
