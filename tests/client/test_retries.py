"""Retries, backoff, deadlines and idempotency keys, against the real server behind a transport
that fails on purpose."""

from __future__ import annotations

import dataclasses
import time

import httpx
import pytest

from app.client import (
    IdempotencyConflictError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TripClient,
    TripConnectionError,
    TripTimeoutError,
    UnexpectedResponseError,
    ValidationError,
)
from app.client.http import RetryPolicy
from tests.client.conftest import error_response
from tests.conftest import BASE


def sdk(alice, transport, **options) -> TripClient:
    return TripClient(api_key=alice.key, base_url=BASE, transport=transport, **options)


def record_sleeps(client: TripClient) -> list[float]:
    """Make backoff instant and keep the waits it asked for."""
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    client._http._sleep = sleep
    return slept


async def trip_titles(alice) -> list[str]:
    response = await alice.http.get("/trips")
    return [t["title"] for t in response.json()["items"]]


async def create(client: TripClient, title: str = "Cotswolds", **options):
    me = await client.me()
    return await client.create_trip(
        group_id=me.default_group_id, title=title, start_date="2026-07-15", end_date="2026-07-22", **options
    )


async def test_503_then_success_creates_one_row_with_one_key(alice, flaky):
    transport = flaky(None, error_response(503, "INTERNAL_ERROR"))  # GET /me passes, the POST gets 503 once
    async with sdk(alice, transport) as client:
        trip = await create(client)
    assert trip.title == "Cotswolds"
    posts = [r for r in transport.requests if r.method == "POST"]
    assert len(posts) == 2
    keys = {r.headers["idempotency-key"] for r in posts}
    assert len(keys) == 1 and keys != {""}
    assert await trip_titles(alice) == ["Cotswolds"]


async def test_429_honours_retry_after_and_creates_one_row(alice, flaky):
    transport = flaky(None, error_response(429, "RATE_LIMITED", {"Retry-After": "1"}))
    async with sdk(alice, transport) as client:
        me_done = time.monotonic()
        trip = await create(client)
        elapsed = time.monotonic() - me_done
    assert trip.title == "Cotswolds"
    assert elapsed >= 1.0, f"retried after {elapsed:.3f}s, before Retry-After"
    posts = [r for r in transport.requests if r.method == "POST"]
    assert len(posts) == 2 and posts[0].headers["idempotency-key"] == posts[1].headers["idempotency-key"]
    assert await trip_titles(alice) == ["Cotswolds"]


async def test_connection_errors_are_retried_with_the_same_key(alice, flaky):
    transport = flaky(None, httpx.ConnectError("refused"), httpx.RemoteProtocolError("reset"))
    async with sdk(alice, transport) as client:
        slept = record_sleeps(client)
        trip = await create(client, idempotency_key="my-own-key")
    assert trip.title == "Cotswolds" and len(slept) == 2
    assert transport.keys()[1:] == ["my-own-key"] * 3
    assert await trip_titles(alice) == ["Cotswolds"]


async def test_attempts_are_bounded(alice, flaky):
    transport = flaky(*[error_response(502, "INTERNAL_ERROR")] * 10)
    async with sdk(alice, transport, max_retries=2) as client:
        slept = record_sleeps(client)
        with pytest.raises(ServerError) as caught:
            await client.me()
    assert caught.value.status == 502 and caught.value.code == "INTERNAL_ERROR"
    assert len(transport.requests) == 3 and len(slept) == 2


async def test_backoff_is_exponential_with_full_jitter():
    policy = RetryPolicy(backoff_base=0.5, backoff_max=4.0)
    assert [policy.backoff(n, lambda: 1.0) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert [policy.backoff(n, lambda: 0.0) for n in range(3)] == [0.0, 0.0, 0.0]
    assert policy.backoff(2, lambda: 0.25) == 0.5


async def test_waits_follow_the_policy(alice, flaky):
    transport = flaky(*[error_response(503, "INTERNAL_ERROR")] * 3)
    async with sdk(alice, transport, max_retries=3) as client:
        slept = record_sleeps(client)
        client._http._uniform = lambda: 1.0  # the top of each jitter window
        await client.me()
    assert slept == [0.5, 1.0, 2.0]


@pytest.mark.parametrize(
    "status, code, error",
    [
        (400, "VALIDATION_ERROR", ValidationError),
        (404, "NOT_FOUND", NotFoundError),
        (409, "IDEMPOTENCY_CONFLICT", IdempotencyConflictError),
    ],
)
async def test_other_4xx_are_never_retried(alice, flaky, status, code, error):
    transport = flaky(error_response(status, code, {"Retry-After": "0"}))
    async with sdk(alice, transport) as client:
        slept = record_sleeps(client)
        with pytest.raises(error) as caught:
            await client.update_trip("some-trip", title="x")
    assert (caught.value.status, caught.value.code) == (status, code)
    assert len(transport.requests) == 1 and slept == []


async def test_idempotency_in_progress_is_retried(alice, flaky):
    transport = flaky(None, error_response(409, "IDEMPOTENCY_IN_PROGRESS", {"Retry-After": "2"}))
    async with sdk(alice, transport) as client:
        slept = record_sleeps(client)
        await create(client)
    assert slept == [2.0]
    assert transport.keys()[1] == transport.keys()[2]
    assert await trip_titles(alice) == ["Cotswolds"]


async def test_deadline_stops_a_wait_that_would_pass_it(alice, flaky):
    transport = flaky(error_response(429, "RATE_LIMITED", {"Retry-After": "30"}))
    async with sdk(alice, transport, deadline=5) as client:
        started = time.monotonic()
        with pytest.raises(RateLimitedError) as caught:
            await client.me()
    assert time.monotonic() - started < 1
    assert caught.value.retry_after == 30 and len(transport.requests) == 1


async def test_timeouts_raise_a_timeout_error(alice, flaky):
    transport = flaky(httpx.ReadTimeout("slow"), httpx.ReadTimeout("slow"))
    async with sdk(alice, transport, max_retries=1) as client:
        record_sleeps(client)
        with pytest.raises(TripTimeoutError) as caught:
            await client.me()
    assert isinstance(caught.value, TripConnectionError) and isinstance(caught.value, TimeoutError)
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)
    assert len(transport.requests) == 2


async def test_every_mutating_call_gets_its_own_key_and_reads_none(alice, flaky):
    transport = flaky()
    async with sdk(alice, transport) as client:
        trip = await create(client)
        await client.update_trip(trip.id, title="B")
        await client.archive_trip(trip.id)
        await client.get_trip(trip.id)
    methods = [r.method for r in transport.requests]
    keys = transport.keys()
    assert methods == ["GET", "POST", "PATCH", "DELETE", "GET"]
    assert keys[0] is None and keys[4] is None
    assert len(set(keys[1:4])) == 3 and all(keys[1:4])


async def test_a_bad_idempotency_key_is_refused_before_sending(alice, flaky):
    transport = flaky()
    async with sdk(alice, transport) as client:
        with pytest.raises(ValueError):
            await client.archive_trip("t", idempotency_key="k" * 256)
        with pytest.raises(ValueError):
            await client.archive_trip("t", idempotency_key="line\nbreak")
        with pytest.raises(ValueError):
            await client.archive_trip("t", idempotency_key="clé")
    assert transport.requests == []


async def test_html_from_a_proxy_is_still_a_typed_error(alice, flaky):
    transport = flaky(*[httpx.Response(502, content=b"<html>Bad gateway</html>")] * 2)
    async with sdk(alice, transport, max_retries=1) as client:
        record_sleeps(client)
        with pytest.raises(ServerError) as caught:
            await client.me()
    assert caught.value.status == 502 and caught.value.code == "INTERNAL_ERROR"


def test_retry_policy_rejects_nonsense():
    with pytest.raises(ValueError):
        RetryPolicy(max_retries=-1)
    with pytest.raises(ValueError):
        dataclasses.replace(RetryPolicy(), deadline=0)


async def test_no_attempt_may_outlive_the_deadline(alice, flaky):
    transport = flaky()
    async with sdk(alice, transport, timeout=30, deadline=5) as client:
        await client.me()
    timeouts = transport.requests[0].extensions["timeout"]
    assert 4 < timeouts["read"] <= 5 and 4 < timeouts["connect"] <= 5


async def test_long_poll_read_timeout_outlasts_wait(alice, flaky):
    body = b'{"cursor": "c2", "revision": 3, "operations": [], "messages": []}'
    transport = flaky(httpx.Response(200, content=body))
    async with sdk(alice, transport, timeout=10, deadline=15) as client:
        changes = await client.changes("some-trip", since="c1", wait=25)
    assert changes.cursor == "c2"
    request = transport.requests[0]
    assert request.url.params["since"] == "c1" and request.url.params["wait"] == "25"
    assert request.extensions["timeout"]["read"] > 25
    with pytest.raises(ValueError):
        await client.changes("some-trip", wait=31)


async def test_no_timeout_stays_no_timeout_for_long_polls(alice, flaky):
    body = b'{"cursor": "c2", "revision": 3}'
    transport = flaky(httpx.Response(200, content=body))
    async with sdk(alice, transport, timeout=None, deadline=None) as client:
        await client.changes("some-trip", since="c1", wait=5)
    assert transport.requests[0].extensions["timeout"]["read"] is None


async def test_a_503_with_retry_after_waits_that_long(alice, flaky):
    transport = flaky(error_response(503, "INTERNAL_ERROR", {"Retry-After": "3"}))
    async with sdk(alice, transport) as client:
        slept = record_sleeps(client)
        await client.me()
    assert slept == [3.0] and len(transport.requests) == 2


def lost_on_the_way_back(real: httpx.Response) -> httpx.Response:
    """The server did the work; the client sees a 503 from a proxy instead of its answer."""
    assert real.status_code in (200, 201), real.text
    return httpx.Response(503, content=b"upstream went away")


async def test_a_lost_response_is_replayed_not_executed_twice(alice, flaky):
    transport = flaky(None, lost_on_the_way_back)
    async with sdk(alice, transport) as client:
        record_sleeps(client)
        trip = await create(client)
    posts = [r for r in transport.requests if r.method == "POST"]
    assert len(posts) == 2 and transport.passed_through == 3  # GET /me, the lost POST, its retry
    assert posts[0].headers["idempotency-key"] == posts[1].headers["idempotency-key"]
    assert await trip_titles(alice) == ["Cotswolds"], "the retry created a second trip"
    assert trip.title == "Cotswolds"


async def test_a_dropped_connection_after_the_write_creates_one_message(alice, flaky):
    async with sdk(alice, flaky()) as setup:
        trip = await create(setup)
        general = (await setup.list_channels(trip.id)).items[0]

    def dropped(real: httpx.Response) -> httpx.Response:
        raise httpx.ReadError("connection reset after the server answered")

    transport = flaky(dropped)
    async with sdk(alice, transport) as client:
        record_sleeps(client)
        message = await client.send_message(trip.id, general.id, "only once")
        messages = [m.content async for m in client.iterate_messages(trip.id, general.id)]
    assert messages == ["only once"] and message.content == "only once"


async def test_reusing_a_key_for_another_request_is_a_conflict(alice, flaky):
    transport = flaky()
    async with sdk(alice, transport) as client:
        record_sleeps(client)
        await create(client, "First", idempotency_key="same-key")
        again = await create(client, "First", idempotency_key="same-key")  # a replay: fine
        with pytest.raises(IdempotencyConflictError) as caught:
            await create(client, "Second", idempotency_key="same-key")
    assert caught.value.status == 409 and caught.value.request_id
    assert again.title == "First"
    assert sum(1 for r in transport.requests if r.headers.get("idempotency-key") == "same-key") == 3
    assert await trip_titles(alice) == ["First"]


async def test_a_success_with_a_body_off_contract_is_an_unexpected_response(alice, flaky):
    transport = flaky(
        httpx.Response(200, content=b"<html>captive portal</html>"), httpx.Response(200, json={"_id": 1})
    )
    async with sdk(alice, transport) as client:
        with pytest.raises(UnexpectedResponseError) as caught:
            await client.me()
        assert caught.value.status == 200
        with pytest.raises(UnexpectedResponseError):
            await client.get_trip("t")
    assert len(transport.requests) == 2  # not retried: the same answer would come back


async def test_a_cursor_that_does_not_move_stops_the_iterator(alice, flaky):
    page = {"items": [], "nextCursor": "same"}
    transport = flaky(httpx.Response(200, json=page), httpx.Response(200, json=page))
    async with sdk(alice, transport) as client:
        with pytest.raises(UnexpectedResponseError):
            [leg async for leg in client.iterate_legs("t")]
    assert len(transport.requests) == 2


async def test_a_real_refused_connection_is_a_connection_error():
    async with TripClient(
        api_key="osk_x", base_url="http://127.0.0.1:1/api/v1", max_retries=1, timeout=5
    ) as client:
        record_sleeps(client)
        with pytest.raises(TripConnectionError) as caught:
            await client.me()
    assert "ConnectError" in str(caught.value) and caught.value.request is not None


async def test_a_share_token_whose_answer_was_lost_is_made_anew_not_replayed(server, alice, flaky):
    """The service keeps no token to replay: the SDK's retry hears SECRET_NOT_REPLAYED and makes
    one new token with a new key; the token it returns works, the lost one does not."""
    async with sdk(alice, flaky()) as setup:
        trip = await create(setup)

    def dropped(real: httpx.Response) -> httpx.Response:
        dropped.lost = real.json()["token"]
        raise httpx.ReadError("connection reset after the server answered")

    transport = flaky(dropped)
    async with sdk(alice, transport) as client:
        record_sleeps(client)
        share = await client.create_share_token(trip.id)
    keys = [r.headers["idempotency-key"] for r in transport.requests]
    assert len(keys) == 3 and keys[0] == keys[1] != keys[2]
    assert share.token != dropped.lost
    async with server.client() as anonymous:
        assert (await anonymous.get(f"/shared/trips/{share.token}")).status_code == 200
        assert (await anonymous.get(f"/shared/trips/{dropped.lost}")).status_code == 404
