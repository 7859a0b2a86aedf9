"""Rate limits: per key, the headers on every authenticated response, 429, recovery, across
server instances, and per share token; failed attempts (bad keys, share-token guesses) per client
address, X-Forwarded-For from trusted proxies only, and refusals that write nothing."""

import asyncio
import secrets
import time

import httpx
import pytest
from sqlalchemy import select, text

from app.server.app import create_app
from app.server.ratelimit import SYNC_BATCH, FailedAttempts, RateLimiter
from app.server.storage import tables as t
from app.server.storage.accounts import create_key, ensure_user
from app.server.storage.database import Database
from tests.conftest import database_url, new_trip
from tests.processes import start_servers, stop_servers


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
    refused = await alice.http.post(
        f"/trips/{trip['_id']}/map-pins", json=body, headers={"Idempotency-Key": "p"}
    )
    assert refused.status_code == 429
    clock.now += 60
    done = await alice.http.post(
        f"/trips/{trip['_id']}/map-pins", json=body, headers={"Idempotency-Key": "p"}
    )
    assert done.status_code == 201 and "Idempotent-Replayed" not in done.headers
    pins = (await alice.http.get(f"/trips/{trip['_id']}/map-pins")).json()["items"]
    assert len(pins) == 1


async def test_limit_holds_across_server_instances(server, alice):
    """Two apps with their own engines on one database share the count, as two processes do."""
    clock = Clock(2_000_000.0)
    first_limiter = server.app.state.rate_limiter = RateLimiter(server.db, 60, clock=clock)
    second_db = Database(server.db.url)
    second = create_app(server.app.state.settings, second_db)
    async with second.router.lifespan_context(second):
        second_limiter = second.state.rate_limiter = RateLimiter(second_db, 60, clock=clock)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=second),
            base_url=str(alice.http.base_url),
            headers={"Authorization": f"Bearer {alice.key}"},
        ) as other:
            responses = await asyncio.gather(*(client.get("/me") for client in [alice.http, other] * 35))
        await first_limiter.sync()
        await second_limiter.sync()
    codes = [r.status_code for r in responses]
    # Each process counts far from the limit in memory and sends its count in batches: the other
    # may overshoot by what it admitted and had not sent yet, under SYNC_BATCH; never under 60.
    assert 60 <= codes.count(200) < 60 + SYNC_BATCH, codes
    assert all(int(r.headers["X-RateLimit-Remaining"]) >= 0 for r in responses)
    async with server.db.read() as conn:
        counted = (
            await conn.execute(
                select(t.rate_limit_windows.c.count).where(
                    t.rate_limit_windows.c.window_start == 2_000_000 // 60 * 60
                )
            )
        ).scalar()
    assert counted == codes.count(200)  # every admitted request reaches the shared count, refusals none


class HeldDatabase:
    """The real database, but the first `held` statements wait until the test lets them go."""

    def __init__(self, db: Database, held: int) -> None:
        self.db, self.is_sqlite = db, db.is_sqlite
        self.gates = [asyncio.Event() for _ in range(held)]
        self.waiting = 0

    async def fetch(self, *args, **kwargs):
        if self.waiting < len(self.gates):
            gate = self.gates[self.waiting]
            self.waiting += 1
            await gate.wait()
        return await self.db.fetch(*args, **kwargs)


class Probe:
    def __init__(self) -> None:
        self.scope: dict = {}


async def test_counts_made_while_a_first_request_waits_on_the_database_are_kept(server):
    """Two first requests of a window both wait on the database; the first back opens the
    window and a third request counts in memory; the second back must not replace that window
    (it did, and the third request's count never reached the database)."""
    clock = Clock(4_000_000.0)
    held = HeldDatabase(server.db, held=2)
    limiter = RateLimiter(held, 60, clock=clock)
    first = asyncio.create_task(limiter.check(Probe(), "k"))
    second = asyncio.create_task(limiter.check(Probe(), "k"))
    while held.waiting < 2:
        await asyncio.sleep(0)
    held.gates[0].set()
    await first
    await limiter.check(Probe(), "k")  # far from the limit: counted in memory
    held.gates[1].set()
    await second
    await limiter.sync()
    async with server.db.read() as conn:
        counted = (
            await conn.execute(
                select(t.rate_limit_windows.c.count).where(
                    t.rate_limit_windows.c.window_start == 4_000_000 // 60 * 60
                )
            )
        ).scalar()
    assert counted == 3


async def test_one_process_is_exact_though_it_counts_in_memory(server, alice):
    """The first request of a window counts in the database; far from the limit the process
    counts in memory; near it every request is counted in the database: exactly 60, the
    remaining count going down by one each time, and the database knows them all."""
    clock = Clock(3_000_000.0)
    limiter = server.app.state.rate_limiter = RateLimiter(server.db, 60, clock=clock)
    answers = [await alice.http.get("/me") for _ in range(70)]
    assert [a.status_code for a in answers] == [200] * 60 + [429] * 10
    assert [int(a.headers["X-RateLimit-Remaining"]) for a in answers[:60]] == list(range(59, -1, -1))
    await limiter.sync()
    async with server.db.read() as conn:
        counted = (
            await conn.execute(
                select(t.rate_limit_windows.c.count).where(
                    t.rate_limit_windows.c.window_start == 3_000_000 // 60 * 60
                )
            )
        ).scalar()
    assert counted == 60


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


# --- failed attempts per client address --------------------------------------------------------

BAD_KEY = "Bearer osk_" + "x" * 43


def random_bad_key() -> dict[str, str]:
    return {"Authorization": f"Bearer osk_{secrets.token_urlsafe(32)}"}


async def away_from_a_window_end() -> None:
    """Tests on the real clock: start early enough in a 60 s window to finish inside it. Call it
    right before the counted requests, after any slow setup (a server starting)."""
    if time.time() % 60 > 50:
        await asyncio.sleep(61 - time.time() % 60)


async def rate_rows(db: Database, prefix: str) -> dict[str, int]:
    async with db.read() as conn:
        rows = (await conn.execute(text("SELECT bucket, count FROM rate_limit_windows"))).all()
    return {bucket: count for bucket, count in rows if bucket.startswith(prefix)}


async def test_thirty_failed_keys_a_minute_then_429_for_the_address(server, alice):
    await away_from_a_window_end()
    async with server.client() as anonymous:
        for attempt in range(30):
            response = await anonymous.get("/me", headers=random_bad_key())
            assert response.status_code == 401, (attempt, response.text)
        refused = await anonymous.get("/me", headers=random_bad_key())
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "RATE_LIMITED"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert refused.headers["x-request-id"] == refused.json()["error"]["requestId"]
        # Every request from the address now: a missing key, a malformed body, even a good key.
        assert (await anonymous.post("/trips", content=b"{")).status_code == 429
    assert (await alice.http.get("/me")).status_code == 429


async def test_share_token_guesses_are_failed_attempts(server, alice, trip):
    await away_from_a_window_end()
    token = (await alice.http.post(f"/trips/{trip['_id']}/share-token")).json()["token"]
    async with server.client() as anonymous:
        assert (
            await anonymous.get(f"/shared/trips/{token}")
        ).status_code == 200  # a good token is no failure
        for _ in range(30):
            guess = f"shr_{secrets.token_urlsafe(32)}"
            assert (await anonymous.get(f"/shared/trips/{guess}")).status_code == 404
        assert (
            await anonymous.get(f"/shared/trips/shr_{secrets.token_urlsafe(32)}/export")
        ).status_code == 429
        # The real token is refused too while the address is over the limit: a guess that hit
        # would otherwise still be told apart.
        assert (await anonymous.get(f"/shared/trips/{token}")).status_code == 429


async def test_successful_requests_write_no_failure_count(server, alice, trip):
    for _ in range(5):
        assert (await alice.http.get("/me")).status_code == 200
        assert (await alice.http.get(f"/trips/{trip['_id']}/legs")).status_code == 200
        assert (
            await alice.http.get(f"/trips/{trip['_id']}/legs/nope")
        ).status_code == 404  # not an auth failure
    assert await rate_rows(server.db, "addr:") == {}


@pytest.fixture
def failures_clock(server) -> Clock:
    """Failed attempts (limit 30) on a clock the test moves: 20 s into a window."""
    clock = Clock(1_000_040.0)
    server.app.state.failed_attempts = FailedAttempts(server.db, 30, clock=clock)
    return clock


async def test_the_address_recovers_when_the_window_ends(server, failures_clock, alice):
    async with server.client() as anonymous:
        for _ in range(30):
            assert (await anonymous.get("/me", headers=random_bad_key())).status_code == 401
        refused = await anonymous.get("/me", headers=random_bad_key())
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "40"
        failures_clock.now += 40
        assert (await alice.http.get("/me")).status_code == 200
        assert (await anonymous.get("/me", headers=random_bad_key())).status_code == 401


async def test_a_refused_request_writes_nothing(server, failures_clock, alice, clock):
    """Neither the per-key limit nor the failed-attempt limit counts past its limit."""
    for _ in range(60):
        assert (await alice.http.get("/me")).status_code == 200
    async with server.client() as anonymous:
        for _ in range(30):
            assert (await anonymous.get("/me", headers=random_bad_key())).status_code == 401
        counts = await rate_rows(server.db, "")
        assert sorted(counts.values()) == [30, 60]
        for _ in range(20):
            assert (await alice.http.get("/me")).status_code == 429
            assert (await anonymous.get("/me", headers=random_bad_key())).status_code == 429
    assert await rate_rows(server.db, "") == counts


async def test_failed_attempt_limit_holds_across_server_instances(server, alice):
    """Two apps with their own engines on one database share the count, as two processes do."""
    clock = Clock(3_000_000.0)
    server.app.state.failed_attempts = FailedAttempts(server.db, 30, clock=clock)
    second_db = Database(server.db.url)
    second = create_app(server.app.state.settings, second_db)
    async with second.router.lifespan_context(second):
        second.state.failed_attempts = FailedAttempts(second_db, 30, clock=clock)
        async with (
            server.client() as first,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=second), base_url=str(alice.http.base_url)
            ) as other,
        ):
            responses = await asyncio.gather(
                *(client.get("/me", headers=random_bad_key()) for client in [first, other] * 30)
            )
            codes = [r.status_code for r in responses]
            assert codes.count(401) == 30 and codes.count(429) == 30
            for client in (first, other):
                assert (
                    await client.get("/me", headers={"Authorization": f"Bearer {alice.key}"})
                ).status_code == 429


def behind(*hops: str, peer: str = "127.0.0.1") -> dict:
    """An ASGI scope from `peer` with these X-Forwarded-For hops (one header)."""
    headers = [(b"x-forwarded-for", ", ".join(hops).encode())] if hops else []
    return {"type": "http", "client": (peer, 40000), "headers": headers}


def test_forwarded_for_is_believed_only_from_a_trusted_proxy():
    untrusted = FailedAttempts(None, 30)
    assert untrusted.address(behind("203.0.113.7")) == "127.0.0.1"
    proxy = FailedAttempts(None, 30, trusted_proxies=("127.0.0.1", "10.0.0.0/8"))
    assert proxy.address(behind("203.0.113.7")) == "203.0.113.7"
    # The right-most address that is not a trusted proxy: what the client wrote on the left is not.
    assert proxy.address(behind("198.51.100.1", "203.0.113.7")) == "203.0.113.7"
    assert proxy.address(behind("198.51.100.1", "203.0.113.7", "10.1.2.3")) == "203.0.113.7"
    assert proxy.address(behind("not-an-address", "203.0.113.7")) == "203.0.113.7"
    assert proxy.address(behind("203.0.113.7", "garbage")) == "127.0.0.1"
    assert proxy.address(behind("203.0.113.7", peer="192.0.2.9")) == "192.0.2.9"  # peer not trusted
    assert proxy.address(behind(peer="127.0.0.1")) == "127.0.0.1"
    assert proxy.address(behind("10.0.0.1", "10.0.0.2")) == "10.0.0.1"  # only proxies: the farthest
    several = behind("198.51.100.1")
    several["headers"].append((b"x-forwarded-for", b"203.0.113.8"))  # a second header continues the list
    assert proxy.address(several) == "203.0.113.8"
    # IPv6 counts per /64 (one subscriber's network), IPv4-mapped IPv6 as IPv4.
    assert proxy.address(behind("2001:db8:1:2:aaaa::1")) == proxy.address(behind("2001:db8:1:2:bbbb::9"))
    assert proxy.address(behind("2001:db8:1:2::1")) != proxy.address(behind("2001:db8:1:3::1"))
    assert proxy.address(behind("::ffff:203.0.113.7")) == "203.0.113.7"


async def test_forwarded_addresses_have_their_own_budgets_behind_a_trusted_proxy(server, alice):
    server.app.state.failed_attempts = FailedAttempts(
        server.db, 30, trusted_proxies=("127.0.0.1",), clock=Clock(4_000_000.0)
    )
    async with server.client() as anonymous:
        for _ in range(30):
            forged = {"X-Forwarded-For": f"{secrets.token_hex(2)}.example, 203.0.113.7", **random_bad_key()}
            assert (await anonymous.get("/me", headers=forged)).status_code == 401
        assert (
            await anonymous.get("/me", headers={"X-Forwarded-For": "203.0.113.7", **random_bad_key()})
        ).status_code == 429
        other = {"X-Forwarded-For": "203.0.113.8", "Authorization": f"Bearer {alice.key}"}
        assert (await anonymous.get("/me", headers=other)).status_code == 200


async def test_serve_flags_for_failed_attempts_and_trusted_proxies():
    from app.cli import build_parser

    args = build_parser().parse_args(
        ["serve", "--trusted-proxy", "10.0.0.1", "--trusted-proxy", "fd00::/8", "--failed-auth-limit", "5"]
    )
    assert args.trusted_proxy == ["10.0.0.1", "fd00::/8"] and args.failed_auth_limit == 5
    defaults = build_parser().parse_args(["serve"])
    assert defaults.trusted_proxy == [] and defaults.failed_auth_limit == 30
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--trusted-proxy", "proxy.example"])


@pytest.mark.slow
async def test_two_real_servers_refuse_the_thirty_first_failure_whatever_forwarded_for_says(
    tmp_path, drop_schemas
):
    """Real `trip serve` processes on one database: failures count once across both, and
    X-Forwarded-For from a peer that is no trusted proxy changes nothing (uvicorn's own proxy
    handling would believe it from 127.0.0.1)."""
    url = database_url(tmp_path)
    drop_schemas.append(url)
    servers = start_servers(url, 2)
    try:
        db = Database(url)
        try:
            async with db.write() as conn:
                key = await create_key(conn, await ensure_user(conn, "real@example.com", "Real"))
        finally:
            await db.dispose()
        codes = []
        await away_from_a_window_end()
        async with httpx.AsyncClient(timeout=30) as http:
            for attempt in range(40):
                server = servers[attempt % 2]
                forged = {"X-Forwarded-For": f"198.51.100.{attempt}", **random_bad_key()}
                codes.append((await http.get(f"{server.url}/me", headers=forged)).status_code)
            assert codes == [401] * 30 + [429] * 10
            for server in servers:
                good = await http.get(f"{server.url}/me", headers={"Authorization": f"Bearer {key}"})
                assert good.status_code == 429 and int(good.headers["Retry-After"]) >= 1
    finally:
        stop_servers(servers)
