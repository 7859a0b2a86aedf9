"""Engines and transactions. SQLite (the embedded default) and PostgreSQL behind one interface.

On SQLite every write transaction begins IMMEDIATE on a single pooled connection, so writers of
one process queue in the pool instead of failing with "database is locked"; writers of other
processes wait on the busy timeout. Reads run on their own pool and never block on writers (WAL).

A request that claimed an Idempotency-Key runs in one `SharedTransaction`: the claim, every
`write()`, `transact()`, `read()`, `fetch()` and `single()` of the request, and the recorded
answer commit together, so a crash at any moment leaves either all of them or none (see
app.server.idempotency).

Hot paths skip SQLAlchemy's execution machinery: `fetch()` runs one statement and `transact()` a
whole write transaction at the driver, with each statement's SQL compiled once.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
import os
import re
import secrets
import sqlite3
import threading
import zlib
from collections.abc import AsyncIterator, Callable, Collection, Generator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar, cast

from pydantic_core import from_json, to_json
from sqlalchemy import Delete, Insert, Update, bindparam, event, func, text
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection, AsyncAdapt_aiosqlite_cursor
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.sql import ClauseElement, Executable, Select
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import EMPTY_DICT, greenlet_spawn

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 30_000
JSON_CODEC = {"json_serializer": lambda value: to_json(value).decode(), "json_deserializer": from_json}
"""JSON columns (stays, flights, scopes...) through pydantic-core, faster than json."""
RELEASE_TIMEOUT = 5.0
"""Seconds a failed or cancelled statement may take to hand its connection back."""
SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
PG_DRIVERS = ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg", "postgresql+asyncpg")


def normalise_url(url_or_path: str) -> str:
    """`--db` takes a SQLAlchemy URL or a plain file path.

    PostgreSQL URLs may name a schema with `?schema=NAME` (Tripdeck's own parameter): every
    table, and Alembic's version table, then lives in that schema, created if missing.
    """
    if "://" in url_or_path:
        url = make_url(url_or_path)
        if url.drivername in ("sqlite", "sqlite+pysqlite"):
            url = url.set(drivername="sqlite+aiosqlite")
        elif url.drivername in PG_DRIVERS:
            url = url.set(drivername="postgresql+asyncpg")
        return url.render_as_string(hide_password=False)
    return f"sqlite+aiosqlite:///{Path(url_or_path).expanduser().resolve()}"


def split_schema(url: str) -> tuple[URL, str | None]:
    """The URL without Tripdeck's `schema` query parameter, and that schema (or None)."""
    parsed = make_url(url)
    schema = parsed.query.get("schema")
    if isinstance(schema, tuple):
        schema = schema[-1]
    if schema is not None:
        parsed = parsed.difference_update_query(["schema"])
    return parsed, schema


def with_schema(url: str, schema: str) -> str:
    """`url` pointing at `schema` (PostgreSQL): `...?schema=NAME`."""
    parsed = make_url(normalise_url(url)).update_query_dict({"schema": schema})
    return parsed.render_as_string(hide_password=False)


class _OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """SQLAlchemy's aiosqlite cursor makes four trips to aiosqlite's thread for one statement
    (open a cursor, execute, fetch, close), each a hand-over of the GIL and a wake-up of the
    event loop; this one makes one, with the same results."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection) -> None:  # no cursor is opened ahead of the statement
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]  # deliberately none: each statement opens its own
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description = None
        self._rowcount = -1
        self._lastrowid = None

    @property
    def description(self):
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self):
        return self._lastrowid

    async def _run(self, many: bool, operation, parameters) -> None:
        def run(connection):
            cursor = connection.cursor()
            try:
                if many:
                    cursor.executemany(operation, parameters)
                elif parameters is None:
                    cursor.execute(operation)
                else:
                    cursor.execute(operation, parameters)
                rows = cursor.fetchall() if cursor.description else ()
                return cursor.description, cursor.rowcount, cursor.lastrowid, rows
            finally:
                cursor.close()

        driver = self._connection
        async with self._adapt_connection._execute_mutex:
            self._description, self._rowcount, self._lastrowid, rows = await driver._execute(
                run, driver._conn
            )
        self._rows = collections.deque(rows)

    async def _execute_async(self, operation, parameters):
        await self._run(False, operation, parameters)

    async def _executemany_async(self, operation, seq_of_parameters):
        await self._run(True, operation, seq_of_parameters)

    async def _async_soft_close(self) -> None:
        pass  # nothing is open: the statement's one trip closed its cursor

    def close(self) -> None:
        self._rows.clear()


class _OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = _OneTripCursor


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    if type(dbapi_connection) is AsyncAdapt_aiosqlite_connection:
        dbapi_connection.__class__ = _OneTripConnection  # same layout, one trip per statement
    # pysqlite's own transaction handling would issue BEGIN (DEFERRED) itself; turn it off so
    # the "begin" listeners below decide.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(statement: str, conn: Connection) -> None:
    """SQLAlchemy begins a transaction: send BEGIN (IMMEDIATE for writes), unless the driver's is
    open already (a `SharedTransaction` began it at the driver; SQLAlchemy joins it)."""
    driver: Any = conn.connection.driver_connection
    if not driver.in_transaction:
        conn.exec_driver_sql(statement)


def _sqlite_reset(dbapi_connection, _record, state) -> None:
    """Return a connection to the pool: roll back only when a transaction is open.

    SQLAlchemy's default reset rolls back unconditionally, one more trip to aiosqlite's thread on
    every checkin; with the driver's own transaction handling off (`isolation_level = None`),
    `in_transaction` is SQLite's own answer, so nothing is left open."""
    if state.asyncio_safe and not state.terminate_only and dbapi_connection.driver_connection.in_transaction:
        dbapi_connection.rollback()


def _drop_closed(dbapi_connection, _record, _proxy) -> None:
    """Pool checkout (PostgreSQL): a connection that closed while idle is replaced, free of
    charge (asyncpg's own flag, no round trip); the pool retries with a new connection."""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the database closed this idle connection")


def _transaction_left_open(driver) -> bool:
    """PostgreSQL: does asyncpg take a transaction to be open on `driver`? Its own (`_top_xact`,
    which a BEGIN that failed or was cancelled leaves set too: the next `transaction()` would be a
    SAVEPOINT), or the server's, as its last answer said. Local state only: no round trip."""
    return driver._top_xact is not None or driver.is_in_transaction()


def _abandoned_on_the_thread(error: BaseException) -> bool:
    """SQLite: did the caller of a hand-over to aiosqlite's thread stop waiting (a cancellation)?
    The thread runs the work anyway, later: a BEGIN IMMEDIATE may run after the pool has taken
    the connection back as idle (`_sqlite_reset` reads `in_transaction` before it ran), or a
    whole transaction still be under way while the next user reads `in_transaction`. Such a
    connection is dropped instead of handed back: its close queues behind that work and rolls
    back whatever it left open."""
    return not isinstance(error, Exception)


def _drop_unfinished(dbapi_connection, _record) -> None:
    """Pool checkin (PostgreSQL): a connection handed back with a transaction still open is
    closed (`_drop_closed` replaces it at its next checkout). SQLAlchemy's reset rolls back only
    the transaction it began itself, not one begun at the driver (`transact`, `begin_shared`), so
    without this the next user would run inside a stranger's transaction or trip over asyncpg's
    stale one. Closing it makes the server roll that transaction back and free its locks."""
    if dbapi_connection is None:
        return  # invalidated: nothing left to reuse
    driver = dbapi_connection.driver_connection
    if not driver.is_closed() and _transaction_left_open(driver):
        log.warning("a database connection came back with a transaction open: closing it")
        driver.terminate()


def _connection_lost(error: BaseException) -> bool:
    """Did an asyncpg call fail because the connection is gone (server restart, network)?"""
    import asyncpg

    return isinstance(
        error, (OSError, asyncpg.exceptions.ConnectionDoesNotExistError, asyncpg.InterfaceError)
    )


def _connection_broken(error: BaseException) -> bool:
    """Gone, or left by the server's goodbye in a state where asyncpg refuses to send anything
    (it read the server's FATAL message of a terminated backend before the socket's close)."""
    import asyncpg

    return _connection_lost(error) or isinstance(error, asyncpg.exceptions.InternalClientError)


def _never_ran(error: BaseException, *, write: bool) -> bool:
    """May the statement that failed with `error` be sent again? When asyncpg refused to send
    it; and for a read, whenever the connection was lost (running a read twice is harmless)."""
    import asyncpg

    return isinstance(error, asyncpg.exceptions.InternalClientError) or (
        not write and _connection_lost(error)
    )


class _Plan:
    """One statement compiled once for the database's dialect: its SQL, how to build its
    positional parameters and how to read its rows (the type processors SQLAlchemy applies)."""

    __slots__ = ("binds", "compiled", "keys", "processors", "reads_only", "sql")

    def __init__(self, statement: Executable, dialect) -> None:
        compiled = cast(SQLCompiler, cast(ClauseElement, statement).compile(dialect=dialect))
        self.sql = compiled.string
        self.compiled = compiled
        self.reads_only = isinstance(statement, Select) and not compiled.ctes
        """A SELECT with no data-modifying part (it may lock rows)."""
        self.binds = [
            (name, compiled.binds[name].type._cached_bind_processor(dialect))
            for name in compiled.positiontup or ()
        ]
        if any(compiled.binds[name].expanding for name, _ in self.binds):
            raise ValueError("Database.fetch does not take expanding (IN) parameters")
        columns = compiled._result_columns or []
        self.keys = tuple(column.keyname for column in columns)
        self.processors = tuple(column.type._cached_result_processor(dialect, None) for column in columns)

    def parameters(self, params: dict | None) -> list:
        values: Any = self.compiled.construct_params(params)
        return [values[name] if convert is None else convert(values[name]) for name, convert in self.binds]

    def rows(self, raw_rows) -> list[dict]:
        keys, processors = self.keys, self.processors
        if not any(processors):
            return [dict(zip(keys, row, strict=False)) for row in raw_rows]
        return [
            {
                key: (value if convert is None else convert(value))
                for key, value, convert in zip(keys, row, processors, strict=False)
            }
            for row in raw_rows
        ]


Step = tuple[Executable, dict | None]
"""What a `Database.transact` body yields: a statement and its values; it is sent the rows."""
T = TypeVar("T")
Body = Callable[[], Generator[Step, list[dict], T]]
"""A write transaction's statements, as a generator function (see `Database.transact`)."""


def _driver_error(error: Exception, sql: str, args: list) -> Exception:
    """A driver's error as SQLAlchemy raises it (`StatementError`, `IntegrityError`), so callers
    and the app's error handlers see one kind whichever way a statement ran."""
    if isinstance(error, sqlite3.Error):
        wrapped = IntegrityError if isinstance(error, sqlite3.IntegrityError) else DBAPIError
    else:
        import asyncpg

        if not isinstance(error, (asyncpg.PostgresError, asyncpg.exceptions._base.DataError)):
            return error
        integrity = isinstance(error, asyncpg.IntegrityConstraintViolationError)
        wrapped = IntegrityError if integrity else DBAPIError
    return wrapped(sql, args, error)


NOTIFY_CHANNEL = "tripdeck_notify_channel"
NOTIFY_PAYLOAD = "tripdeck_notify_payload"
"""The values of a NOTIFY carried by a write (`Database._carrier`)."""

_WHOLE = ("BEGIN IMMEDIATE", "COMMIT")
_SAVEPOINT = ("SAVEPOINT lean_write", "RELEASE lean_write")
_OPEN = ("BEGIN IMMEDIATE", None)
_CLOSE = (None, "COMMIT")


def _run_sqlite_body(
    conn: sqlite3.Connection,
    plan_of: Callable[[Executable], _Plan],
    body: Body[T] | None,
    ends: tuple[str | None, str | None],
) -> T | None:
    """`body`'s statements on aiosqlite's thread, between `ends` (a whole transaction, a
    savepoint, the start or the end of one). A failure rolls back the savepoint, or the whole
    transaction, and propagates."""
    begin, end = ends
    if begin is not None:
        conn.execute(begin)
    try:
        result = None
        if body is not None:
            steps = body()
            rows: list[dict] | None = None
            while True:
                try:
                    statement, params = steps.send(rows)  # type: ignore[arg-type]  # None starts it
                except StopIteration as done:
                    result = done.value
                    break
                plan = plan_of(statement)
                rows = plan.rows(_sqlite_rows(conn, plan, plan.parameters(params)))
        if end is not None:
            conn.execute(end)
        return result
    except BaseException:
        if ends is _SAVEPOINT:
            conn.execute("ROLLBACK TO lean_write")
            conn.execute("RELEASE lean_write")
        elif conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _sqlite_rows(conn: sqlite3.Connection, plan: _Plan, args: list) -> list:
    try:
        return conn.execute(plan.sql, args).fetchall()
    except sqlite3.Error as error:
        raise _driver_error(error, plan.sql, args) from error


async def _asyncpg_rows(driver, plan: _Plan, args: list) -> list:
    try:
        return await driver.fetch(plan.sql, *args)
    except Exception as error:
        wrapped = _driver_error(error, plan.sql, args)
        if wrapped is error:
            raise
        raise wrapped from error


class _Progress:
    """How far a body run at the driver got (PostgreSQL)."""

    __slots__ = ("notify", "untouched")

    def __init__(self, notify: dict | None = None) -> None:
        self.untouched = True
        """No write sent, no statement failed (which fails a PostgreSQL transaction)."""
        self.notify = notify
        """A NOTIFY still to send (`Database._notify_values`), or None. The body's first write
        that returns a row carries it (`Database._carrier`), saving its own round trip;
        PostgreSQL delivers it at commit, or never, as any NOTIFY in the transaction."""


async def _run_asyncpg_body(db: Database, driver, body: Body[T], progress: _Progress | None = None) -> T:
    """A body's statements on an asyncpg connection inside a transaction or savepoint; asyncpg
    prepares each statement once per connection (its statement cache). `progress` follows
    whether the transaction is still as the body found it, and may bring a NOTIFY to carry."""
    steps = body()
    rows: list[dict] | None = None
    while True:
        try:
            statement, params = steps.send(rows)  # type: ignore[arg-type]  # None starts it
        except StopIteration as done:
            return done.value
        plan = db._plan(statement)
        if progress is None:
            rows = plan.rows(await _asyncpg_rows(driver, plan, plan.parameters(params)))
            continue
        progress.untouched = progress.untouched and plan.reads_only
        notify = progress.notify
        try:
            if notify is not None and not plan.reads_only and (carrier := db._carrier(statement)):
                raw_rows = await _asyncpg_rows(
                    driver, carrier, carrier.parameters({**(params or {}), **notify})
                )
                if raw_rows:  # pg_notify ran once per row returned: none, when nothing matched
                    progress.notify = None
                if not plan.keys:  # no RETURNING of its own: its body is sent no rows, as uncarried
                    raw_rows = []
            else:
                raw_rows = await _asyncpg_rows(driver, plan, plan.parameters(params))
        except BaseException:
            progress.untouched = False
            raise
        rows = plan.rows(raw_rows)  # a carrier's last column is not read (zip stops at the keys)


class SharedTransaction:
    """One write transaction that a whole request's statements join (see `request_transaction`).

    Made by `Database.begin_shared`; ended by exactly one `commit()` or `rollback()`. It runs
    at the driver (`run`, `fetch`: on SQLite one trip to aiosqlite's thread each); `conn`, a
    SQLAlchemy connection on the same driver connection, is made only for a route that uses
    SQLAlchemy. Each `write()` inside it is a savepoint, so a write that fails rolls back alone,
    as its own transaction would have; so is each `run()` on SQLite, where a savepoint costs
    nothing. On PostgreSQL a savepoint costs two round trips, so `run()` takes none: a body that
    fails before its first write leaves nothing to undo (the usual 404 or 422: checks come
    first), and one that fails later, or whose statement failed (which fails a PostgreSQL
    transaction), spoils the whole transaction: `commit` then refuses and rolls back."""

    def __init__(self, db: Database, proxied: Any, pg_transaction: Any = None) -> None:
        self.db = db
        self.proxied = proxied
        """The pool's connection, checked out for the request."""
        self.driver = proxied.driver_connection
        self.info: dict = proxied.info
        """The connection's info, shared with `conn.info`: the touched and locked trips."""
        self._pg_transaction = pg_transaction
        """PostgreSQL: asyncpg's transaction, begun here; SQLAlchemy's nests in it (savepoints)."""
        self._conn: AsyncConnection | None = None
        self.open = True
        self.spoiled: BaseException | None = None
        """What failed a `run()` after it changed something (PostgreSQL): nothing may commit."""
        self.notified = False
        """PostgreSQL: the commit's last statement carried its NOTIFY."""
        self.task = asyncio.current_task()
        """Only the request's own task joins: a task it started (which copies its context) must
        not use the connection at the same moment."""

    @property
    def conn(self) -> AsyncConnection:
        """SQLAlchemy's view of the transaction (made on first use). On SQLite its "begin" sends
        nothing (the write engine's listener sees the transaction open); on PostgreSQL it is a
        savepoint of asyncpg's transaction."""
        if self._conn is None:
            engine = self.db.write_engine
            self._conn = AsyncConnection(engine, Connection(engine.sync_engine, connection=self.proxied))
        return self._conn

    async def run(
        self,
        body: Body[T],
        *,
        touches: Collection[str] = (),
        savepoint: bool = True,
        notify: dict | None = None,
    ) -> T:
        """Run `body` in this transaction at the driver: on SQLite in one trip to aiosqlite's
        thread, as a savepoint unless `savepoint` is False; on PostgreSQL with no savepoint, a
        failure that leaves something to undo spoiling the transaction (see the class)."""
        db, driver = self.db, self.driver
        if db.is_sqlite:
            ends = _SAVEPOINT if savepoint else (None, None)
            result = await driver._execute(_run_sqlite_body, driver._conn, db._plan, body, ends)
        else:
            progress = _Progress(notify)
            try:
                result = await _run_asyncpg_body(db, driver, body, progress)
            except BaseException as error:
                if not progress.untouched and self.spoiled is None:
                    self.spoiled = error
                raise
            if notify is not None and progress.notify is None:
                self.notified = True
        if touches:
            self.info.setdefault("touched_trips", set()).update(touches)
        return result

    async def fetch(self, plan: _Plan, args: list) -> list[dict]:
        """One statement in this transaction, at the driver."""
        driver = self.driver
        if self.db.is_sqlite:
            raw_rows = await driver._execute(_sqlite_rows, driver._conn, plan, args)
        else:
            raw_rows = await _asyncpg_rows(driver, plan, args)
        return plan.rows(raw_rows)

    async def commit(self, last: Body | None = None) -> None:
        """Run `last` (no savepoint) and commit, NOTIFYing other processes of the trips it
        touched (PostgreSQL); then run the commit hooks. Rolls back when that fails."""
        if self.spoiled is not None:
            await self.rollback()
            raise RuntimeError(
                "the request's transaction failed part-way: it was rolled back"
            ) from self.spoiled
        self.open = False
        db, driver, conn = self.db, self.driver, self._conn
        touched = self.info.pop("touched_trips", set())
        self.info.pop("locked_trips", None)
        try:
            if db.is_sqlite:
                if conn is not None and conn.in_transaction():
                    if last is not None:
                        await self.run(last, savepoint=False)
                    await conn.commit()
                else:  # the last statements and COMMIT in one trip
                    await driver._execute(_run_sqlite_body, driver._conn, db._plan, last, _CLOSE)
            else:
                notify = db._notify_values(touched)
                if last is not None:
                    await self.run(last, savepoint=False, notify=notify)
                if db.notify_channel and touched and not self.notified:
                    await db._notify_driver(driver, touched)
                if conn is not None and conn.in_transaction():
                    await conn.commit()  # SQLAlchemy's savepoint
                await self._pg_transaction.commit()
        except BaseException:
            self.open = True
            await self.rollback()
            raise
        await self._close()
        for hook in db.commit_hooks:
            hook(touched)

    async def rollback(self) -> None:
        """Undo the whole transaction and hand the connection back. When the rollback fails or
        is cancelled the connection is dropped instead (closing it makes the database roll the
        transaction back), so this raises nothing but a cancellation."""
        if not self.open:
            return
        self.open = False
        self.info.pop("touched_trips", None)
        self.info.pop("locked_trips", None)
        conn = self._conn
        failure: BaseException | None = None
        try:
            if conn is not None and conn.in_transaction():
                await conn.rollback()  # SQLite: the whole transaction; PostgreSQL: its savepoint
            if self.db.is_sqlite:
                if self.driver.in_transaction:
                    await self.driver.rollback()
            elif not self.driver.is_closed():
                await self._pg_transaction.rollback()  # raises when a cancelled COMMIT failed it
        except BaseException as error:  # e.g. asyncpg's transaction failed by a cancelled COMMIT
            failure = error
            log.debug("rolling back a request's transaction failed, closing its connection: %r", error)
        await self._close(failure)
        if failure is not None and not isinstance(failure, Exception):
            raise failure

    async def _close(self, failure: BaseException | None = None) -> None:
        """Hand the connection back, or drop it after `failure` or when asyncpg still takes a
        transaction to be open on it (PostgreSQL: the pool's reset would not end that one)."""
        if failure is None and not self.db.is_sqlite and _transaction_left_open(self.driver):
            failure = RuntimeError("the request's transaction is still open")
        conn = self._conn
        if conn is None:
            await self.db._release(self.proxied, failure)
            return
        if failure is not None and not conn.invalidated:
            await conn.invalidate(failure)
        await conn.close()  # checks the connection in


class RequestTransaction:
    """The slot a request's middleware sets before the route runs; `shared` is filled in when
    the request claims an Idempotency-Key and emptied when its answer is recorded."""

    __slots__ = ("shared",)

    def __init__(self) -> None:
        self.shared: SharedTransaction | None = None


request_transaction: ContextVar[RequestTransaction | None] = ContextVar(
    "tripdeck_request_transaction", default=None
)


class _LoopReader:
    """SQLite: a connection of the event loop's own thread for reads that stand alone.

    aiosqlite runs every statement on its worker thread: a hand-over there and back (the GIL, a
    wake-up of the loop) costs more than a point lookup itself. A short read of one statement
    (a key's scopes, the trip-access check, `GET /me`) runs here instead, in autocommit on a
    read-only connection: in WAL mode a reader never waits for writers. When SQLite cannot
    answer at once (the file locked exclusively by another program, WAL recovery) it raises at
    once (no busy timeout here) and the caller waits on aiosqlite's thread as before, so the loop
    never blocks on a lock. Used only from the thread that opened it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.thread: int | None = None
        self.conn: sqlite3.Connection | None = None

    def rows(self, sql: str, args: list) -> list | None:
        """The rows of `sql`, or None when it must run elsewhere (locked, or another thread)."""
        if self.conn is None:
            self.thread = threading.get_ident()
            try:
                self.conn = sqlite3.connect(
                    self.path, timeout=0, isolation_level=None, check_same_thread=False
                )
                self.conn.execute("PRAGMA query_only=ON")
            except sqlite3.OperationalError:
                self.close()
                return None
        elif self.thread != threading.get_ident():
            return None
        try:
            return self.conn.execute(sql, args).fetchall()
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                return None
            raise

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = self.thread = None


_MIGRATING: dict[tuple[str, int], asyncio.Lock] = {}
"""One lock per SQLite file (and event loop) this process migrates (see `Database.migrate`)."""


class Database:
    """Hands out read and write transactions (`async with db.write() as conn:`)."""

    def __init__(self, url: str, *, echo: bool = False, schema: str | None = None) -> None:
        self.url = normalise_url(url)
        self.dialect = make_url(self.url).get_backend_name()
        self.commit_hooks: list[Callable[[set[str]], None]] = []
        engine_url, url_schema = split_schema(self.url)
        self.schema = schema or url_schema
        if self.schema is not None:
            if self.is_sqlite:
                raise ValueError("a schema can only be chosen on PostgreSQL")
            if not SCHEMA_NAME.match(self.schema):
                raise ValueError(f"invalid schema name {self.schema!r}: use letters, digits and _")
            if url_schema != self.schema:
                self.url = with_schema(self.url, self.schema)
        if self.is_sqlite:
            database = make_url(self.url).database
            if database and database != ":memory:":
                # Owner-only at rest (0600 file, 0700 new directories): see storage/files.py.
                from app.server.storage.files import create_private_database_file

                create_private_database_file(database)
            self.write_engine = create_async_engine(
                self.url,
                echo=echo,
                pool_size=1,
                max_overflow=0,
                pool_timeout=60,
                pool_reset_on_return=None,
                **JSON_CODEC,
            )
            self.read_engine = create_async_engine(
                self.url, echo=echo, pool_size=4, max_overflow=4, pool_reset_on_return=None, **JSON_CODEC
            )
            for engine, begin in ((self.write_engine, "BEGIN IMMEDIATE"), (self.read_engine, "BEGIN")):
                event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
                event.listen(engine.sync_engine, "reset", _sqlite_reset)
                event.listen(engine.sync_engine, "begin", functools.partial(_sqlite_begin, begin))
        else:
            connect_args = {"server_settings": {"search_path": self.schema}} if self.schema else {}
            # No pool_pre_ping: it costs a round trip on every checkout. A connection that the
            # server closed while it sat in the pool (a restart, a failover, pg_terminate_backend)
            # is known to asyncpg already, which read the server's goodbye and the closed socket:
            # `_drop_closed` hands out a fresh one instead, so no request fails for it.
            self.write_engine = create_async_engine(
                engine_url,
                echo=echo,
                pool_size=10,
                max_overflow=20,
                pool_recycle=3600,
                connect_args=connect_args,
                **JSON_CODEC,
            )
            event.listen(self.write_engine.sync_engine, "checkout", _drop_closed)
            event.listen(self.write_engine.sync_engine, "checkin", _drop_unfinished)
            # Reads are snapshots, as on SQLite (WAL): one consistent view for every statement of
            # `read()` (an export, a page with its count). Read-only REPEATABLE READ never fails
            # with serialisation errors, and asyncpg sends the level with BEGIN: no extra trip.
            self.read_engine = self.write_engine.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
            self._autocommit_engine = self.write_engine.execution_options(isolation_level="AUTOCOMMIT")
        self._plans: dict[Executable, _Plan] = {}
        self._carriers: dict[Executable, _Plan] = {}
        self._loop_reader: _LoopReader | None = None
        if self.is_sqlite:
            database = make_url(self.url).database
            if database and database != ":memory:" and not database.startswith("file:"):
                self._loop_reader = _LoopReader(database)
        self.notify_channel: str | None = None
        """PostgreSQL: when set, every write that touches trips NOTIFYs this channel in its
        transaction (payload `<origin>:<tripId>,...`), so other processes' long polls wake."""
        self.notify_origin = secrets.token_hex(6)
        self._engine_url = engine_url

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def enable_notify(self) -> str:
        """Turn on NOTIFY for trip changes (PostgreSQL); returns the channel name, one per schema."""
        if self.is_sqlite:
            raise ValueError("LISTEN/NOTIFY needs PostgreSQL")
        name = "tripdeck_changes" + (f"_{self.schema}" if self.schema else "")
        if len(name) > 63:
            name = f"tripdeck_changes_{zlib.crc32(name.encode()):08x}"
        self.notify_channel = name
        return name

    async def connect_raw(self):
        """A new asyncpg connection outside the pools, with the same settings (for LISTEN)."""
        import asyncpg

        _, options = self.write_engine.dialect.create_connect_args(self._engine_url)
        if self.schema:
            options["server_settings"] = {"search_path": self.schema}
        return await asyncpg.connect(**options)

    async def _notify(self, conn: AsyncConnection, trip_ids: set[str]) -> None:
        for payload in self._payloads(trip_ids):
            await conn.execute(
                text("SELECT pg_notify(:channel, :payload)"),
                {"channel": self.notify_channel, "payload": payload},
            )

    def _shared(self) -> SharedTransaction | None:
        slot = request_transaction.get()
        if slot is None:
            return None
        shared = slot.shared
        if (
            shared is None
            or not shared.open
            or shared.db is not self
            or shared.task is not asyncio.current_task()
        ):
            return None
        return shared

    async def begin_shared(self, first: Body[T]) -> tuple[SharedTransaction, T]:
        """Open a write transaction for a whole request and run `first` in it (the claim of an
        Idempotency-Key): on SQLite BEGIN IMMEDIATE and `first` in one trip to aiosqlite's
        thread. The caller puts it in the request's `RequestTransaction` slot, commits or rolls
        it back."""
        proxied = await self.write_engine.raw_connection()
        info = proxied.info
        for leftover in ("touched_trips", "locked_trips", "row_changes"):  # info outlives a checkout
            info.pop(leftover, None)
        pg_transaction = None
        try:
            driver: Any = proxied.driver_connection
            if self.is_sqlite:
                result = await driver._execute(_run_sqlite_body, driver._conn, self._plan, first, _OPEN)
            else:
                pg_transaction = driver.transaction()
                await pg_transaction.start()
                result = await _run_asyncpg_body(self, driver, first)
        except BaseException as error:
            await self._abandon(proxied, pg_transaction, error)
            raise
        return SharedTransaction(self, proxied, pg_transaction), result

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction; after it commits, `commit_hooks` hear which trips it touched.
        Inside a request's shared transaction: a savepoint of it."""
        shared = self._shared()
        if shared is not None:
            # A row lock taken in a savepoint that rolls back is released with it: forget it too,
            # and the rows it noted for the operation log (revisions.note_row).
            # `shared.info`, not `shared.conn.info`: SQLAlchemy refuses the latter once it dropped
            # the connection (a cancelled statement), which would hide the cancellation.
            locked_before = set(shared.info.get("locked_trips", ()))
            noted_before = len(shared.info.get("row_changes") or ())
            try:
                async with shared.conn.begin_nested():
                    yield shared.conn
            except BaseException:
                shared.info["locked_trips"] = locked_before
                del shared.info.setdefault("row_changes", [])[noted_before:]
                raise
            return
        touched: set[str] = set()
        async with self.write_engine.begin() as conn:
            # Held here: SQLAlchemy refuses `conn.info` once it has dropped the connection (a
            # cancelled statement), and asking then would hide the cancellation behind an error.
            info = conn.info
            info.pop("touched_trips", None)
            info.pop("locked_trips", None)  # info outlives the transaction (pooled)
            info.pop("row_changes", None)
            try:
                yield conn
                if self.notify_channel and info.get("touched_trips"):
                    # Delivered by PostgreSQL when (and only if) this transaction commits.
                    await self._notify(conn, info["touched_trips"])
            finally:
                touched = info.pop("touched_trips", set())
                info.pop("locked_trips", None)
        for hook in self.commit_hooks:
            hook(touched)

    @asynccontextmanager
    async def single(self, *, write: bool = False) -> AsyncIterator[AsyncConnection]:
        """For statements that each stand alone (no transaction needed around them), touching no
        trip: a key lookup, the trip-access check, the rate-limit upsert. On PostgreSQL they run
        in autocommit, one round trip each instead of BEGIN, statement, COMMIT; on SQLite this is
        `write()` or `read()`."""
        shared = self._shared()
        if shared is not None:
            yield shared.conn
            return
        if self.is_sqlite:
            async with self.write() if write else self.read() as conn:
                yield conn
            return
        async with self._autocommit_engine.connect() as conn:
            yield conn

    async def fetch(
        self, statement: Executable, params: dict | None = None, *, write: bool = False
    ) -> list[dict]:
        """Run one statement that stands alone (a trip-access check, the rate-limit upsert) and
        return its rows as dicts, in autocommit: the statement is its own transaction.

        Hot path, so it goes to the driver directly with SQL compiled once per statement (build
        `statement` once, its values as `bindparam`s): on SQLite one trip to aiosqlite's thread
        instead of the seven of a SQLAlchemy transaction (BEGIN, cursor, execute, fetch, close,
        COMMIT), and a write statement takes the write lock as BEGIN IMMEDIATE would, waiting on
        the busy timeout; on PostgreSQL one round trip without BEGIN/COMMIT and without
        SQLAlchemy's per-statement work. Connections come from the same pools, so on SQLite a
        write still queues behind this process's write transactions on the one write connection.
        A read on SQLite runs on the event loop's own thread (`_LoopReader`): give it only short
        statements (a lookup by key), never a scan.
        """
        shared = self._shared()
        plan = self._plan(statement)
        args = plan.parameters(params)
        if shared is not None:
            return await shared.fetch(plan, args)
        if not write and self._loop_reader is not None:
            raw_rows = self._loop_reader.rows(plan.sql, args)
            if raw_rows is not None:
                return plan.rows(raw_rows)
        engine = self.write_engine if write or not self.is_sqlite else self.read_engine
        for attempt in (1, 2):
            proxied = await engine.raw_connection()
            try:
                driver: Any = proxied.driver_connection
                if self.is_sqlite:
                    raw_rows = await driver.execute_fetchall(plan.sql, args)
                else:
                    raw_rows = await driver.fetch(plan.sql, *args)
            except BaseException as error:
                # PostgreSQL: the connection is dropped after any failure. asyncpg prepares a
                # statement new to the connection with Parse and Describe ended by Flush, not
                # Sync; stopped after that answer and before the execution went out (a
                # cancellation, a value asyncpg refuses to encode), the connection is left in
                # the implicit transaction of an unfinished query, while asyncpg's state says
                # idle, so `_drop_unfinished` cannot see it. The next user's BEGIN would join
                # that transaction (a read's BEGIN ISOLATION LEVEL fails: "SET TRANSACTION
                # ISOLATION LEVEL must be called before any query"). Inside a transaction the
                # ROLLBACK that follows ends the unfinished query too.
                await self._release(proxied, None if self.is_sqlite else error)
                if (
                    attempt == 1
                    and not self.is_sqlite
                    and _connection_broken(error)
                    and _never_ran(error, write=write)
                ):
                    continue  # once more, on a fresh connection
                raise
            await greenlet_spawn(proxied.close)
            return plan.rows(raw_rows)
        raise AssertionError("unreachable")

    def _plan(self, statement: Executable) -> _Plan:
        plan = self._plans.get(statement)
        if plan is None:
            plan = self._plans[statement] = _Plan(statement, self.write_engine.dialect)
        return plan

    async def transact(self, body: Body[T], *, touches: Collection[str] = ()) -> T:
        """A write transaction of the hot paths, run at the driver: `body()` is a generator that
        yields `(statement, values)` and is sent each statement's rows as dicts; what it returns
        is returned. It commits when the body returns; a body or statement that raises rolls it
        back and the error propagates (driver errors as SQLAlchemy's). `touches` are the trips
        whose changes feed the commit wakes (NOTIFY on PostgreSQL, then `commit_hooks`).

        On SQLite the whole transaction (BEGIN IMMEDIATE, the statements, COMMIT) is one trip
        to aiosqlite's thread on the one write connection, so the body runs on that thread: keep
        it to deciding the next statement. On PostgreSQL the statements go to asyncpg as
        prepared statements, the NOTIFY riding on the first write that returns a row. Inside a
        request's shared transaction: part of it (`SharedTransaction.run`: make the checks before
        the write, so a refusal leaves nothing to undo). Build the statements once (values as
        `bindparam`s), as for `fetch`; no expanding (IN) parameters.
        """
        shared = self._shared()
        if shared is not None:
            return await shared.run(body, touches=touches)
        for attempt in (1, 2):
            proxied = await self.write_engine.raw_connection()
            started = False
            try:
                driver: Any = proxied.driver_connection
                if self.is_sqlite:
                    started = True
                    result = await driver._execute(_run_sqlite_body, driver._conn, self._plan, body, _WHOLE)
                else:
                    async with driver.transaction():
                        started = True
                        notify = self._notify_values(touches)
                        progress = _Progress(notify)
                        result = await _run_asyncpg_body(self, driver, body, progress)
                        # Not carried: no write returned a row, or too many trips for one payload.
                        if (
                            self.notify_channel
                            and touches
                            and (notify is None or progress.notify is not None)
                        ):
                            await self._notify_driver(driver, touches)
            except BaseException as error:
                broken = _abandoned_on_the_thread(error) if self.is_sqlite else _connection_broken(error)
                if not self.is_sqlite and not broken and _transaction_left_open(driver):
                    # BEGIN failed or was cancelled (asyncpg still counts its transaction open),
                    # or the ROLLBACK of `async with` never reached the server: drop it.
                    await self._release(proxied, error)
                else:
                    await self._release(proxied, error if broken else None)
                if attempt == 1 and broken and not started:
                    continue  # BEGIN never reached the server: once more, on a fresh connection
                raise
            await greenlet_spawn(proxied.close)
            for hook in self.commit_hooks:
                hook(set(touches))
            return result
        raise AssertionError("unreachable")

    async def _abandon(self, proxied, pg_transaction, error: BaseException) -> None:
        """Roll back asyncpg's `pg_transaction` (PostgreSQL; None on SQLite, whose transaction
        the pool's reset rolls back) after `error` and hand the connection back, or drop it when
        the rollback fails, is cancelled or leaves a transaction open: no connection goes back to
        the pool inside a transaction."""
        broken: BaseException | None = None
        if self.is_sqlite and _abandoned_on_the_thread(error):
            broken = error
        if pg_transaction is not None:
            driver = proxied.driver_connection
            broken = error if _connection_broken(error) or driver.is_closed() else None
            try:
                if broken is None:
                    await pg_transaction.rollback()  # raises when its BEGIN failed: dropped below
            except BaseException as failure:
                broken = failure
                if not isinstance(failure, Exception):
                    await self._release(proxied, broken)
                    raise
            if broken is None and _transaction_left_open(driver):
                broken = error
        await self._release(proxied, broken)

    async def _release(self, proxied, broken: BaseException | None) -> None:
        """Hand a connection back after a failure (dropping it when `broken`)."""
        # Bounded: a request cancelled while the engine is being disposed (shutdown) would
        # otherwise wait forever on a driver whose worker thread has already stopped.
        try:
            async with asyncio.timeout(RELEASE_TIMEOUT):
                if broken is not None:
                    # As SQLAlchemy does for its own statements: drop the broken connection.
                    await greenlet_spawn(proxied.invalidate, broken)
                else:
                    await greenlet_spawn(proxied.close)
        except TimeoutError:
            log.warning("gave up releasing a database connection after %.0f s", RELEASE_TIMEOUT)

    async def _notify_driver(self, driver, trip_ids: Collection[str]) -> None:
        for payload in self._payloads(trip_ids):
            await driver.execute("SELECT pg_notify($1, $2)", self.notify_channel, payload)

    def _payloads(self, trip_ids: Collection[str]) -> list[str]:
        # Payloads are limited to 8000 bytes: the ids go in chunks well under that.
        ids = sorted(trip_ids)
        return [
            f"{self.notify_origin}:{','.join(ids[start : start + 100])}" for start in range(0, len(ids), 100)
        ]

    def _notify_values(self, trip_ids: Collection[str]) -> dict | None:
        """The values of a carried NOTIFY of `trip_ids` (`_carrier`), when one statement can
        carry it (one payload); else None, and the NOTIFY goes on its own."""
        if not self.notify_channel or not trip_ids:
            return None
        payloads = self._payloads(trip_ids)
        if len(payloads) != 1:
            return None
        return {NOTIFY_CHANNEL: self.notify_channel, NOTIFY_PAYLOAD: payloads[0]}

    def _carrier(self, statement: Executable) -> _Plan | None:
        """`statement` (an INSERT, UPDATE or DELETE) that also NOTIFYs, once per row it returns:
        `RETURNING ..., pg_notify(channel, payload)`. None for any other statement."""
        if not isinstance(statement, (Insert, Update, Delete)):
            return None
        plan = self._carriers.get(statement)
        if plan is None:
            notifies = func.pg_notify(bindparam(NOTIFY_CHANNEL), bindparam(NOTIFY_PAYLOAD)).label(
                NOTIFY_PAYLOAD
            )
            plan = self._carriers[statement] = _Plan(statement.returning(notifies), self.write_engine.dialect)
            plan.keys = self._plan(statement).keys  # the statement's own columns: the rows its body reads
        return plan

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read transaction (inside a request's shared transaction: that one, which sees the
        request's own writes)."""
        shared = self._shared()
        if shared is not None:
            yield shared.conn
            return
        async with self.read_engine.connect() as conn:
            async with conn.begin():
                yield conn

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[AsyncConnection]:
        """A read transaction in which every statement sees the same moment (for exports).
        SQLite's WAL reads are that already; PostgreSQL needs REPEATABLE READ for it."""
        shared = self._shared()
        if shared is not None:
            yield shared.conn
            return
        async with self.read_engine.connect() as conn:
            if not self.is_sqlite:
                await conn.execution_options(isolation_level="REPEATABLE READ")
            async with conn.begin():
                yield conn

    async def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (run at every start)."""
        database = make_url(self.url).database if self.is_sqlite else None
        if database and database != ":memory:":
            # Several servers may start at once on one new file, and SQLite has no advisory lock:
            # one migrates while the others wait, in this process on an asyncio lock per file, in
            # other processes on a lock file beside it (filelock refuses two holders in one thread).
            from filelock import FileLock

            path = await asyncio.to_thread(os.path.realpath, database)  # one file, one lock
            key = (path, id(asyncio.get_running_loop()))  # an asyncio.Lock belongs to one loop
            async with _MIGRATING.setdefault(key, asyncio.Lock()):
                lock = FileLock(f"{path}.migrating", mode=0o600)
                await asyncio.to_thread(lock.acquire)
                try:
                    await self._upgrade()
                finally:
                    lock.release()
        else:
            await self._upgrade()

    async def _upgrade(self) -> None:
        from app.server.storage.migrate import upgrade

        async with self.write_engine.connect() as conn:
            if not self.is_sqlite:
                # Several servers may start at once on one database: one migrates, the others
                # wait here and then find the schema at head.
                lock = zlib.crc32(f"tripdeck-migrate:{self.schema or 'public'}".encode())
                await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock})
                if self.schema:
                    await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
            await conn.run_sync(upgrade)
            await conn.commit()

    async def drop_schema(self) -> None:
        """Drop this database's own schema and everything in it (tests' per-test schemas)."""
        if self.schema is None:
            raise ValueError("no schema of its own to drop")
        async with self.write_engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))

    async def dispose(self) -> None:
        if self._loop_reader is not None:
            self._loop_reader.close()
        await self.write_engine.dispose()
        if self.is_sqlite:
            await self.read_engine.dispose()
