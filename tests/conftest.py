"""Shared fixtures: the real server in-process on a temp SQLite file (or PostgreSQL with
TRIP_TEST_DATABASE_URL), and helpers that make users, keys and trips.

On PostgreSQL every test gets a schema of its own (`t_<random>`, dropped afterwards), so several
runs of the suite (other checkouts, CI) can share one database at the same time. On SQLite every
test gets a copy of one file migrated once per test process.

The suite runs in parallel (pytest-xdist, `-n` in pyproject's addopts). Tests that share a
module-scoped server, and the benchmarks that time things, are kept together on one worker (`xdist_group`, run
with `--dist loadgroup`); `-s`, `--pdb` and TRIP_BENCH_SIZE=full run everything in this process.
"""

from __future__ import annotations

import asyncio
import functools
import os
import secrets
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

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


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config) -> None:
    """Run in this one process, not on xdist's workers, when the output must reach the terminal
    (`-s`: the benchmarks' tables), for a debugger (`--pdb`), and for full-size benchmarks (their
    figures would count the other workers' load)."""
    serial = (
        config.getoption("capture", "fd") == "no"
        or config.getoption("usepdb", False)
        or os.environ.get("TRIP_BENCH_SIZE", "smoke") == "full"
    )
    if serial and config.pluginmanager.hasplugin("xdist"):
        config.option.numprocesses = 0


def pytest_sessionstart(session) -> None:
    url = postgres_url()
    if url and (why := postgres_unreachable(url)):
        pytest.exit(f"TRIP_TEST_DATABASE_URL is set but {why}", returncode=4)


# Modules whose tests share one module-scoped server (or, for the fuzzer, build on each other's
# rows): on one worker, that server starts once, as in a serial run.
ONE_WORKER_MODULES = ("tests/ssh/", "tests/server/test_scale_out.py", "tests/server/test_openapi_fuzz.py")
# Benchmarks that assert on time even at smoke size: one at a time, so that no two of them
# measure each other. The others count requests, bytes or rows and run anywhere.
TIMED_BENCHMARKS = tuple(
    f"tests/benchmarks/{name}.py"
    for name in (
        "test_activity_feed",
        "test_import_speed",
        "test_long_poll",
        "test_mcp_overhead",
        "test_sdk_overhead",
        "test_ssh_bandwidth",
    )
)


def pytest_collection_modifyitems(config, items) -> None:
    """Group tests for xdist (see the module docstring); `@pytest.mark.postgres` tests run only in
    the PostgreSQL run, elsewhere they skip, saying why."""
    root = Path(config.rootpath)
    for item in items:
        where = Path(item.path).relative_to(root).as_posix()
        if where in TIMED_BENCHMARKS:
            item.add_marker(pytest.mark.xdist_group("timed benchmarks"))
        elif where.startswith(ONE_WORKER_MODULES):
            item.add_marker(pytest.mark.xdist_group(where))
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


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """An SQLite file at the newest migration, made once per test process; tests start from a
    copy rather than each running every migration."""
    path = tmp_path_factory.mktemp("migrated") / "trip.db"

    async def migrate() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        try:
            await db.migrate()
        finally:
            await db.dispose()

    asyncio.run(migrate())
    return path


@pytest.fixture
def settings(tmp_path, drop_schemas, migrated_sqlite) -> Settings:
    url = database_url(tmp_path)
    drop_schemas.append(url)
    if not postgres_url():
        for suffix in ("", "-wal", "-shm"):
            if (template := Path(f"{migrated_sqlite}{suffix}")).exists():
                shutil.copyfile(template, tmp_path / f"trip.db{suffix}")
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
    actor: Actor | httpx.AsyncClient,
    title: str = "Cotswolds",
    start: str = "2026-07-15",
    end: str = "2026-07-22",
) -> dict:
    """A trip in the default group of `actor` (or of the key an HTTP client sends)."""
    http = actor.http if isinstance(actor, Actor) else actor
    me = (await http.get("/me")).json()
    response = await http.post(
        "/trips", json={"groupId": me["defaultGroupId"], "title": title, "startDate": start, "endDate": end}
    )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
async def trip(alice) -> dict:
    return await new_trip(alice)
