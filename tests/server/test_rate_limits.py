"""Rate limits: per key, the headers on every authenticated response, 429, recovery, across
server instances, and per share token."""

import asyncio

import httpx
import pytest

from app.server.app import create_app
from app.server.ratelimit import RateLimiter
from app.server.storage.database import Database
from tests.conftest import new_trip


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(server) -> Clock:
    """A limit of 60 per window on a clock the test moves (the window is 60 real seconds)."""
    clock = Clock(1_000_040.0)  # 20 s into a window (1_000_020 is a multiple of 60)
    server.app.state.rate_limiter = RateLimiter(server.db, 60, clock=clock)
    return clock


async def test_sixty_first_request_is_refused_and_the_window_recovers(clock, alice):
    for expected_remaining in range(59, -1, -1):
        ok = await alice.http.get("/me")
        assert ok.status_code == 200
        assert ok.headers["X-RateLimit-Limit"] == "60"
        assert ok.headers["X-RateLimit-Remaining"] == str(expected_remaining)
    refused = await alice.http.get("/me")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "RATE_LIMITED"
    assert refused.headers["Retry-After"] == "40"  # the window started 20 s ago
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    clock.now += 40
    recovered = await alice.http.get("/me")
    assert recovered.status_code == 200
    assert recovered.headers["X-RateLimit-Remaining"] == "59"


async def test_limit_is_per_key(clock, alice, bob):
    for _ in range(61):
        await alice.http.get("/me")
    assert (await alice.http.get("/me")).status_code == 429
    mine = await bob.http.get("/me")
    assert mine.status_code == 200 and mine.headers["X-RateLimit-Remaining"] == "59"


async def test_headers_on_errors_and_writes_but_not_without_a_key(server, clock, alice):
    missing = await alice.http.get("/trips/nope")
    assert missing.status_code == 404 and missing.headers["X-RateLimit-Remaining"] == "59"
    async with server.client() as anonymous:
        denied = await anonymous.get("/me")
    assert denied.status_code == 401 and "X-RateLimit-Limit" not in denied.headers


async def test_refused_write_does_not_execute_or_claim_its_idempotency_key(server, clock, alice):
    trip = await new_trip(alice)
    for _ in range(59):
        await alice.http.get("/me")
    body = {"name": "Pin", "lat": 1, "lng": 2}
    refused = await alice.http.post(f"/trips/{trip['_id']}/map-pins", json=body, headers={"Idempotency-Key": "p"})
    assert refused.status_code == 429
    clock.now += 60
    done = await alice.http.post(f"/trips/{trip['_id']}/map-pins", json=body, headers={"Idempotency-Key": "p"})
    assert done.status_code == 201 and "Idempotent-Replayed" not in done.headers
    pins = (await alice.http.get(f"/trips/{trip['_id']}/map-pins")).json()["items"]
    assert len(pins) == 1


async def test_limit_holds_across_server_instances(server, alice):
    """Two apps with their own engines on one database share the count, as two processes do."""
    clock = Clock(2_000_000.0)
    server.app.state.rate_limiter = RateLimiter(server.db, 60, clock=clock)
    second_db = Database(server.db.url)
    second = create_app(server.app.state.settings, second_db)
    async with second.router.lifespan_context(second):
        second.state.rate_limiter = RateLimiter(second_db, 60, clock=clock)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=second), base_url=str(alice.http.base_url),
                                     headers={"Authorization": f"Bearer {alice.key}"}) as other:
            responses = await asyncio.gather(*(client.get("/me") for client in [alice.http, other] * 35))
    codes = [r.status_code for r in responses]
    assert codes.count(200) == 60 and codes.count(429) == 10
    remaining = sorted(int(r.headers["X-RateLimit-Remaining"]) for r in responses if r.status_code == 200)
    assert remaining == list(range(60))


async def test_share_token_reads_are_limited_per_token(server, clock, alice):
    trip = await new_trip(alice)
    token = (await alice.http.post(f"/trips/{trip['_id']}/share-token")).json()["token"]
    async with server.client() as anonymous:
        for _ in range(60):
            assert (await anonymous.get(f"/shared/trips/{token}")).status_code == 200
        refused = await anonymous.get(f"/shared/trips/{token}/export")
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        other_trip = await new_trip(alice)
        other = (await alice.http.post(f"/trips/{other_trip['_id']}/share-token")).json()["token"]
        assert (await anonymous.get(f"/shared/trips/{other}")).status_code == 200
    # The key's own budget is separate from the token's.
    assert (await alice.http.get("/me")).status_code == 200


async def test_serve_flag_sets_the_limit():
    from app.cli import build_parser

    args = build_parser().parse_args(["serve", "--rate-limit", "5"])
    assert args.rate_limit == 5
