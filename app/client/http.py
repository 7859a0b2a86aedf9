"""The SDK's transport core: one logical call becomes up to `1 + max_retries` HTTP attempts.

It owns the httpx client, the Idempotency-Key of each mutating call (one key for all of that
call's attempts, so a retried POST can never create a second row), retries with exponential
backoff and full jitter, `Retry-After`, the total deadline, and the mapping of failures onto
`app.client.errors`.
"""

from __future__ import annotations

import asyncio
import random
import ssl
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from app.client.errors import (
    IdempotencyInProgressError,
    RateLimitedError,
    ServerError,
    TripConnectionError,
    TripError,
    TripTimeoutError,
    error_from_response,
)

MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
IDEMPOTENCY_KEY_MAX = 255
DEFAULT_TIMEOUT = 30.0


def new_idempotency_key() -> str:
    return f"tripdeck-{uuid.uuid4()}"


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one call tries.

    `max_retries` bounds the attempts (1 + max_retries); `deadline` bounds the whole call in
    seconds, waits included (None: no bound). Backoff is "full jitter": a uniform random wait
    in [0, min(backoff_max, backoff_base * 2**n)] before retry n+1, unless the service said how
    long to wait with `Retry-After`, which wins.
    """

    max_retries: int = 3
    deadline: float | None = 60.0
    backoff_base: float = 0.5
    backoff_max: float = 8.0

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if self.deadline is not None and self.deadline <= 0:
            raise ValueError("deadline must be positive (or None)")

    def backoff(self, retry_number: int, uniform: Callable[[], float]) -> float:
        return uniform() * min(self.backoff_max, self.backoff_base * (2**retry_number))


def is_retryable(error: TripError) -> bool:
    """Retry what a later attempt may fix; never a 4xx other than 429 and the in-flight 409."""
    if isinstance(error, TripConnectionError):
        return True
    return isinstance(error, (RateLimitedError, IdempotencyInProgressError, ServerError))


def _capped(timeout: httpx.Timeout, remaining: float) -> httpx.Timeout:
    """The attempt's timeout, never past the call's deadline."""
    remaining = max(remaining, 0.001)

    def cap(value: float | None) -> float:
        return remaining if value is None else min(value, remaining)

    return httpx.Timeout(
        connect=cap(timeout.connect), read=cap(timeout.read), write=cap(timeout.write), pool=cap(timeout.pool)
    )


@dataclass
class RateLimitStatus:
    """The last `X-RateLimit-*` headers seen."""

    limit: int | None
    remaining: int | None


class HTTPCore:
    """Sends requests for the clients; not part of the public API."""

    def __init__(
        self,
        *,
        base_url: str,
        headers: Mapping[str, str],
        transport: httpx.AsyncBaseTransport | None,
        timeout: float | httpx.Timeout | None,
        retry: RetryPolicy,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        uniform: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self.retry = retry
        self.rate_limit: RateLimitStatus | None = None
        self._sleep = sleep
        self._uniform = uniform
        self._clock = clock
        if transport is None and urlsplit(base_url).scheme == "http":
            # Plain HTTP (`trip demo`'s loopback server, a local service): redirects are not
            # followed, so no request can use TLS, and loading the CA bundle into a default SSL
            # context would cost start-up time for nothing. This context trusts no
            # certificate: were TLS ever used, it would fail closed.
            transport = httpx.AsyncHTTPTransport(verify=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            headers=dict(headers),
            transport=transport,
            timeout=self.timeout,
            follow_redirects=False,
        )

    @property
    def base_url(self) -> str:
        return str(self._client.base_url)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotency_key: str | None = None,
        timeout: httpx.Timeout | None = None,
        extra_deadline: float = 0.0,
    ) -> httpx.Response:
        """Send, retrying what is worth retrying; return a 2xx response or raise a TripError."""
        method = method.upper()
        headers: dict[str, str] = {}
        if method in MUTATING_METHODS:
            key = new_idempotency_key() if idempotency_key is None else idempotency_key
            if not key or len(key) > IDEMPOTENCY_KEY_MAX or not (key.isascii() and key.isprintable()):
                raise ValueError(
                    f"idempotency_key must be 1..{IDEMPOTENCY_KEY_MAX} printable ASCII characters"
                )
            headers["Idempotency-Key"] = key
        elif idempotency_key is not None:
            raise ValueError(f"{method} requests take no idempotency key")
        if params:
            params = {k: v for k, v in params.items() if v is not None}
        timeout = timeout or self.timeout
        started = self._clock()
        deadline = None if self.retry.deadline is None else started + self.retry.deadline + extra_deadline
        retries = 0
        while True:
            attempt_timeout = timeout if deadline is None else _capped(timeout, deadline - self._clock())
            error: TripError
            try:
                response = await self._client.request(
                    method, path, params=params, json=json, headers=headers, timeout=attempt_timeout
                )
            except httpx.TimeoutException as exc:
                error = TripTimeoutError(
                    f"{method} {path}: timed out ({type(exc).__name__})", request=_request_of(exc)
                )
                error.__cause__ = exc
            except httpx.TransportError as exc:
                error = TripConnectionError(
                    f"{method} {path}: {type(exc).__name__}: {exc}", request=_request_of(exc)
                )
                error.__cause__ = exc
            else:
                self._note_rate_limit(response)
                if response.is_success:
                    return response
                error = error_from_response(response)
            if not is_retryable(error) or retries >= self.retry.max_retries:
                raise error
            delay = self.retry.backoff(retries, self._uniform)
            asked = getattr(error, "retry_after", None)
            if asked is not None:
                delay = asked
            if deadline is not None and self._clock() + delay >= deadline:
                raise error
            retries += 1
            await self._sleep(delay)

    def _note_rate_limit(self, response: httpx.Response) -> None:
        limit = response.headers.get("x-ratelimit-limit")
        remaining = response.headers.get("x-ratelimit-remaining")
        if limit is None and remaining is None:
            return
        self.rate_limit = RateLimitStatus(_int(limit), _int(remaining))


def _request_of(exc: httpx.RequestError) -> httpx.Request | None:
    try:
        return exc.request
    except RuntimeError:  # raised outside a client's request context
        return None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


__all__ = ["HTTPCore", "RateLimitStatus", "RetryPolicy", "is_retryable", "new_idempotency_key"]
