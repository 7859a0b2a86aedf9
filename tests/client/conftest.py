"""Clients of the SDK wired to the real server in-process, and a transport that fails on purpose."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from app.client import TripClient
from tests.conftest import BASE


def in_process(server) -> httpx.ASGITransport:
    return httpx.ASGITransport(app=server.app)


@pytest.fixture
async def client(server, alice) -> AsyncIterator[TripClient]:
    async with TripClient(api_key=alice.key, base_url=BASE, transport=in_process(server)) as sdk:
        yield sdk


@pytest.fixture
async def bob_client(server, bob) -> AsyncIterator[TripClient]:
    async with TripClient(api_key=bob.key, base_url=BASE, transport=in_process(server)) as sdk:
        yield sdk


async def poll_held(server, count: int = 1, timeout: float = 30) -> None:
    """Until the in-process server holds `count` long polls of the changes feed (a watcher has
    its cursor and is waiting), rather than sleeping and hoping it got that far."""
    hub = server.app.state.change_hub
    deadline = time.monotonic() + timeout
    while hub.waiting < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{hub.waiting} long polls held after {timeout}s, expected {count}")
        await asyncio.sleep(0.01)


def error_response(status: int, code: str, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"error": {"code": code, "message": f"on purpose: {code}", "requestId": "req_test"}}
    return httpx.Response(status, headers=headers or {}, content=json.dumps(body).encode())


class FlakyTransport(httpx.AsyncBaseTransport):
    """Wraps the real in-process transport. Each scripted step handles one request, in order;
    once the script is used up every request passes through. A step is one of:

    - an `httpx.Response`: answered instead of the server (the server never sees the request);
    - an exception instance: raised as the transport failure it stands for;
    - a callable `(real_response) -> httpx.Response`: the request reaches the server, which
      does the work, then the callable replaces its answer (a response lost on the way back).
    """

    def __init__(self, inner: httpx.AsyncBaseTransport, *script: object) -> None:
        self.inner = inner
        self.script = list(script)
        self.requests: list[httpx.Request] = []
        self.passed_through = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.script.pop(0) if self.script else None
        if isinstance(step, httpx.Response):
            return step
        if isinstance(step, BaseException):
            raise step
        await request.aread()
        self.passed_through += 1
        response = await self.inner.handle_async_request(request)
        if callable(step):
            await response.aread()
            return step(response)
        return response

    def keys(self) -> list[str | None]:
        return [r.headers.get("idempotency-key") for r in self.requests]


@pytest.fixture
def flaky(server) -> Callable[..., FlakyTransport]:
    def make(*script: object) -> FlakyTransport:
        return FlakyTransport(in_process(server), *script)

    return make
