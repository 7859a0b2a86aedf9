"""Shared fixtures: the real server in-process on a temp SQLite file (or PostgreSQL with
TRIP_TEST_DATABASE_URL), and helpers that make users, keys and trips.

On PostgreSQL every test gets a schema of its own (`t_<random>`, dropped afterwards), so several
runs of the suite (other checkouts, CI) can share one database at the same time.
"""

from __future__ import annotations

import asyncio
import functools
import os
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.engine import make_url

from app.server.app import create_app
from app.server.settings import Settings
from app.server.storage.accounts import create_key, ensure_user
from app.server.storage.database import Database, normalise_url, split_schema, with_schema

BASE = "http://tripdeck.test/api/v1"


def postgres_url() -> str | None:
    """TRIP_TEST_DATABASE_URL when it names PostgreSQL (the switch for the PostgreSQL run)."""
    url = os.environ.get("TRIP_TEST_DATABASE_URL")
    if url and make_url(normalise_url(url)).get_backend_name() == "postgresql":
        return normalise_url(url)
    return None


@functools.cache
def postgres_unreachable(url: str) -> str | None:
    """Why PostgreSQL at `url` does not answer, or None when it does."""
    import asyncpg

    parsed, _ = split_schema(url)

    async def probe() -> None:
        conn = await asyncpg.connect(
            host=parsed.host or "127.0.0.1",
            port=parsed.port or 5432,
            user=parsed.username,
            password=parsed.password,
            database=parsed.database,
            timeout=3,
        )
        await conn.close()

    try:
        asyncio.run(probe())
    except Exception as exc:  # any failure to connect means: not usable here
        return f"PostgreSQL not reachable at {parsed.render_as_string(hide_password=True)}: {exc.__class__.__name__}: {exc}"
    return None


def pytest_sessionstart(session) -> None:
    url = postgres_url()
    if url and (why := postgres_unreachable(url)):
        pytest.exit(f"TRIP_TEST_DATABASE_URL is set but {why}", returncode=4)


def pytest_collection_modifyitems(config, items) -> None:
    """`@pytest.mark.postgres` tests run only in the PostgreSQL run; elsewhere they skip, saying why."""
    if postgres_url():
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL: set TRIP_TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def new_schema_name() -> str:
    return f"t_{secrets.token_hex(6)}"


def database_url(tmp_path) -> str:
    """SQLite in a temp dir by default; TRIP_TEST_DATABASE_URL runs the suite on PostgreSQL, in
    a fresh schema per test."""
    url = postgres_url()
    if url:
        return with_schema(url, new_schema_name())
    return f"sqlite+aiosqlite:///{tmp_path / 'trip.db'}"


@pytest.fixture
async def drop_schemas() -> AsyncIterator[list[str]]:
    """Database URLs appended here have their schema dropped after the test."""
    urls: list[str] = []
    yield urls
    for url in urls:
        await drop_schema_of(url)


async def drop_schema_of(url: str) -> None:
    """Drop the PostgreSQL schema a test's URL names (nothing for SQLite or a URL without one)."""
    db = Database(url)
    try:
        if db.schema:
            await db.drop_schema()
    finally:
        await db.dispose()


@dataclass
class Server:
    app: object
    db: Database

    def client(self, key: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url=BASE, headers=headers, timeout=30
        )

    async def user_key(
        self, email: str | None = None, name: str | None = None, scopes: list[str] | None = None
    ) -> tuple[str, str]:
        email = email or f"{uuid.uuid4().hex[:8]}@example.com"
        async with self.db.write() as conn:
            user_id = await ensure_user(conn, email, name)
            key = await create_key(conn, user_id, scopes)
        return user_id, key


@pytest.fixture
def settings(tmp_path, drop_schemas) -> Settings:
    url = database_url(tmp_path)
    drop_schemas.append(url)
    return Settings(database_url=url, rate_limit=100_000)


@pytest.fixture
async def server(settings) -> AsyncIterator[Server]:
    db = Database(settings.database_url)
    app = create_app(settings, db)
    async with app.router.lifespan_context(app):
        yield Server(app, db)


@dataclass
class Actor:
    """A user with a key and an HTTP client using it."""

    user_id: str
    key: str
    http: httpx.AsyncClient
    email: str


@pytest.fixture
async def make_actor(server) -> AsyncIterator:
    clients: list[httpx.AsyncClient] = []

    async def make(
        email: str | None = None, name: str | None = None, scopes: list[str] | None = None
    ) -> Actor:
        email = email or f"{uuid.uuid4().hex[:8]}@example.com"
        user_id, key = await server.user_key(email, name, scopes)
        http = server.client(key)
        clients.append(http)
        return Actor(user_id, key, http, email)

    yield make
    for http in clients:
        await http.aclose()


@pytest.fixture
async def alice(make_actor) -> Actor:
    return await make_actor("alice@example.com", "Alice")


@pytest.fixture
async def bob(make_actor) -> Actor:
    return await make_actor("bob@example.com", "Bob")


async def new_trip(
    actor: Actor, title: str = "Cotswolds", start: str = "2026-07-15", end: str = "2026-07-22"
) -> dict:
    me = (await actor.http.get("/me")).json()
    response = await actor.http.post(
        "/trips", json={"groupId": me["defaultGroupId"], "title": title, "startDate": start, "endDate": end}
    )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
async def trip(alice) -> dict:
    return await new_trip(alice)
