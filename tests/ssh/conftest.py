"""One `trip serve` and one `trip ssh` per test module, on a temp SQLite file or (with
TRIP_TEST_DATABASE_URL) a fresh PostgreSQL schema; members are made per test."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from app.server.storage.database import with_schema
from tests.conftest import drop_schema_of, new_schema_name, postgres_url
from tests.ssh.support import Stack

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def module_stack(tmp_path_factory) -> Iterator[Stack]:
    directory = tmp_path_factory.mktemp("ssh")
    base = postgres_url()
    url = with_schema(base, new_schema_name()) if base else f"sqlite+aiosqlite:///{directory / 'trip.db'}"
    stack = Stack(url, directory)
    try:
        yield stack
    finally:
        stack.stop()
        if base:
            asyncio.run(drop_schema_of(url))


@pytest.fixture
def stack(module_stack: Stack) -> Stack:
    """The module's stack once the sessions of the tests before have ended: a session's `trip ui`
    process exits in its own time (slower on a loaded machine), and a test that counts the
    server's session processes must not count the last test's."""
    deadline = time.monotonic() + 30
    while module_stack.ssh.session_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    return module_stack
