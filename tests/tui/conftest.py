"""TUI test helpers: the SDK on the in-process server through a transport that can go offline,
and a way to wait for something to appear on screen without pressing a key."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from app.client import TripClient
from app.tui.app import TripdeckApp
from app.tui.clock import Clock
from tests.conftest import BASE


class SwitchableTransport(httpx.AsyncBaseTransport):
    """The in-process server, until `offline` is set: then every request fails to connect. With
    `answers_lost` set, requests reach the server but their answers do not come back."""

    def __init__(self, app) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.offline = False
        self.answers_lost = False
        self.requests: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.method} {request.url.path}")
        if self.offline:
            raise httpx.ConnectError("the network is down (test)", request=request)
        response = await self.inner.handle_async_request(request)
        if self.answers_lost:
            await response.aread()
            raise httpx.ReadError("the connection dropped before the answer (test)", request=request)
        return response


@pytest.fixture
def tui(server, tmp_path):
    """Makes a TripdeckApp for a key: `app, transport = tui(key, trip_id=...)`."""

    def make(key: str, **options) -> tuple[TripdeckApp, SwitchableTransport]:
        transport = SwitchableTransport(server.app)
        client = TripClient(api_key=key, base_url=BASE, transport=transport, max_retries=0)
        options.setdefault("clock", Clock.frozen("2026-07-16T10:30", "Europe/London"))
        options.setdefault("outbox_path", tmp_path / "data" / "outbox.jsonl")
        options.setdefault("log_path", tmp_path / "data" / "tripdeck.log")
        options.setdefault("reconnect_after", 0.2)
        app = TripdeckApp(client=client, url=BASE, key=key, cursor_blink=False, **options)
        return app, transport

    return make


async def wait_for(
    pilot,
    condition: Callable[[], object],
    timeout: float = 30.0,
    what: str = "condition",
    state: Callable[[], object] | None = None,
) -> None:
    """Let the app run (no key pressed) until `condition()` is true; on a time-out, say what
    `state()` was then. The deadline is generous: a passing test returns as soon as the condition
    holds, and a machine busy with the other workers (and other jobs) may take many seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        await pilot.pause(0.05)
    seen = f" (it was {state()!r})" if state is not None else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what}{seen}")


@pytest.fixture
def server_factory(settings, tmp_path):
    """For tests that run their own event loop (hypothesis): `async with server_factory() as
    (server, alice, tui)` starts the real server in-process in that loop."""
    import contextlib

    from app.server.app import create_app
    from app.server.storage.database import Database
    from tests.conftest import Actor, Server

    @contextlib.asynccontextmanager
    async def start():
        db = Database(settings.database_url)
        app = create_app(settings, db)
        async with app.router.lifespan_context(app):
            server = Server(app, db)
            user_id, key = await server.user_key("alice@example.com", "Alice")
            http = server.client(key)
            try:

                def make(key: str, **options):
                    transport = SwitchableTransport(server.app)
                    client = TripClient(api_key=key, base_url=BASE, transport=transport, max_retries=0)
                    options.setdefault("clock", Clock.frozen("2026-07-16T10:30", "Europe/London"))
                    options.setdefault("outbox_path", tmp_path / "data" / "outbox.jsonl")
                    options.setdefault("log_path", tmp_path / "data" / "tripdeck.log")
                    return TripdeckApp(
                        client=client, url=BASE, key=key, cursor_blink=False, **options
                    ), transport

                yield server, Actor(user_id, key, http, "alice@example.com"), make
            finally:
                await http.aclose()

    return start
