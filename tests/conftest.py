"""Shared fixtures: the real server in-process on a temp SQLite file (or PostgreSQL with
TRIP_TEST_DATABASE_URL), and helpers that make users, keys and trips."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import AsyncIterator

import httpx
import pytest

from app.server.app import create_app
from app.server.settings import Settings
from app.server.storage.accounts import create_key, ensure_user
from app.server.storage.database import Database

BASE = "http://tripdeck.test/api/v1"


def database_url(tmp_path) -> str:
    """SQLite in a temp dir by default; TRIP_TEST_DATABASE_URL runs the suite on PostgreSQL."""
    url = os.environ.get("TRIP_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite+aiosqlite:///{tmp_path / 'trip.db'}"


@dataclass
class Server:
    app: object
    db: Database

    def client(self, key: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url=BASE, headers=headers, timeout=30
        )

    async def user_key(self, email: str | None = None, name: str | None = None, scopes: list[str] | None = None) -> tuple[str, str]:
        email = email or f"{uuid.uuid4().hex[:8]}@example.com"
        async with self.db.write() as conn:
            user_id = await ensure_user(conn, email, name)
            key = await create_key(conn, user_id, scopes)
        return user_id, key


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(database_url=database_url(tmp_path), rate_limit=100_000)


@pytest.fixture
async def server(settings) -> AsyncIterator[Server]:
    db = Database(settings.database_url)
    if not db.is_sqlite:
        await reset_postgres(db)
    app = create_app(settings, db)
    async with app.router.lifespan_context(app):
        yield Server(app, db)


async def reset_postgres(db: Database) -> None:
    from sqlalchemy import text

    async with db.write_engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))


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

    async def make(email: str | None = None, name: str | None = None, scopes: list[str] | None = None) -> Actor:
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


async def new_trip(actor: Actor, title: str = "Cotswolds", start: str = "2026-07-15", end: str = "2026-07-22") -> dict:
    me = (await actor.http.get("/me")).json()
    response = await actor.http.post(
        "/trips", json={"groupId": me["defaultGroupId"], "title": title, "startDate": start, "endDate": end}
    )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
async def trip(alice) -> dict:
    return await new_trip(alice)
