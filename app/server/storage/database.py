"""Engines and transactions. SQLite (the embedded default) and PostgreSQL behind one interface.

On SQLite every write transaction begins IMMEDIATE on a single pooled connection, so writers of
one process queue in the pool instead of failing with "database is locked"; writers of other
processes wait on the busy timeout. Reads run on their own pool and never block on writers (WAL).
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator, Callable

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 30_000


def normalise_url(url_or_path: str) -> str:
    """`--db` takes a SQLAlchemy URL or a plain file path."""
    if "://" in url_or_path:
        url = make_url(url_or_path)
        if url.drivername in ("sqlite", "sqlite+pysqlite"):
            url = url.set(drivername="sqlite+aiosqlite")
        elif url.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
            url = url.set(drivername="postgresql+asyncpg")
        return url.render_as_string(hide_password=False)
    return f"sqlite+aiosqlite:///{Path(url_or_path).expanduser().resolve()}"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # pysqlite's own transaction handling would issue BEGIN (DEFERRED) itself; turn it off so
    # the "begin" listeners below decide.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Database:
    """Hands out read and write transactions (`async with db.write() as conn:`)."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalise_url(url)
        self.dialect = make_url(self.url).get_backend_name()
        self.commit_hooks: list[Callable[[set[str]], None]] = []
        if self.is_sqlite:
            database = make_url(self.url).database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            self.write_engine = create_async_engine(
                self.url, echo=echo, pool_size=1, max_overflow=0, pool_timeout=60
            )
            self.read_engine = create_async_engine(self.url, echo=echo, pool_size=4, max_overflow=4)
            for engine, begin in ((self.write_engine, "BEGIN IMMEDIATE"), (self.read_engine, "BEGIN")):
                event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
                event.listen(
                    engine.sync_engine,
                    "begin",
                    lambda conn, statement=begin: conn.exec_driver_sql(statement),
                )
        else:
            self.write_engine = create_async_engine(
                self.url, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True
            )
            self.read_engine = self.write_engine

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction; after it commits, `commit_hooks` hear which trips it touched."""
        touched: set[str] = set()
        async with self.write_engine.begin() as conn:
            conn.info.pop("touched_trips", None)
            try:
                yield conn
            finally:
                touched = conn.info.pop("touched_trips", set())
        for hook in self.commit_hooks:
            hook(touched)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.read_engine.connect() as conn:
            async with conn.begin():
                yield conn

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[AsyncConnection]:
        """A read transaction in which every statement sees the same moment (for exports).
        SQLite's WAL reads are that already; PostgreSQL needs REPEATABLE READ for it."""
        async with self.read_engine.connect() as conn:
            if not self.is_sqlite:
                await conn.execution_options(isolation_level="REPEATABLE READ")
            async with conn.begin():
                yield conn

    async def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (run at every start)."""
        from app.server.storage.migrate import upgrade

        async with self.write_engine.connect() as conn:
            await conn.run_sync(upgrade)
            await conn.commit()

    async def dispose(self) -> None:
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()
