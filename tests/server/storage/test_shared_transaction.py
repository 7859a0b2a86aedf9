"""A transaction that ends badly (its task cancelled at any moment, twice over; a statement that
fails) hands its connection back clean, or not at all: the next transaction on that connection
neither joins a transaction left open nor trips on a stale one ("SAVEPOINT can only be used in
transaction blocks", "SET TRANSACTION ISOLATION LEVEL must be called before any query").

Each test runs one kind of transaction, cancels its task after 0, 1, 2... turns of the event loop
until it finishes uncancelled, and after each cancellation checks every pooled connection and
that ordinary reads and writes still work. On both databases; the pool's state is PostgreSQL's
(asyncpg's own bookkeeping of the transaction it began). A moment too narrow for counting turns
to hit every time (between asyncpg's prepare of a statement and its execution) has a test of its
own that cancels there."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
import uuid
from collections.abc import Awaitable, Callable

import httpx
import pytest
from sqlalchemy import bindparam, select, update

from app.server.storage import tables as t
from app.server.storage.database import Database, RequestTransaction, SharedTransaction, request_transaction
from tests.conftest import BASE

_user = select(t.users.c.name).where(t.users.c.id == bindparam("user_id"))
_rename = update(t.users).where(t.users.c.id == bindparam("user_id")).values(name=bindparam("name"))
_rename_returning = _rename.returning(t.users.c.name)


def dirty_connections(db: Database) -> list[str]:
    """PostgreSQL: the pooled (checked-in) connections with a transaction open, as asyncpg sees it
    (its own `_top_xact`, or the server's last word on the transaction status)."""
    if db.is_sqlite:
        return []
    queue = db.write_engine.pool._pool._queue._queue  # type: ignore[attr-defined]  # no public view
    dirty = []
    for record in list(queue):
        if record.dbapi_connection is None or record.dbapi_connection.driver_connection.is_closed():
            continue  # dropped: replaced at its next checkout
        driver = record.dbapi_connection.driver_connection
        if driver._top_xact is not None or driver.is_in_transaction():
            dirty.append(f"top_xact={driver._top_xact!r} in_transaction={driver.is_in_transaction()}")
    return dirty


async def settled(db: Database) -> None:
    """Wait until every connection is back in the pool (a cancelled request's clean-up runs on)."""
    async with asyncio.timeout(10):
        while db.write_engine.pool.checkedout():
            await asyncio.sleep(0.005)


async def still_works(db: Database, user_id: str) -> None:
    """Ordinary reads and writes on every pooled connection."""
    for _ in range(2):
        async with db.read() as conn:
            assert (await conn.execute(_user, {"user_id": user_id})).scalar_one()
        async with db.snapshot() as conn:
            assert (await conn.execute(_user, {"user_id": user_id})).scalar_one()
        async with db.write() as conn:
            await conn.execute(_rename, {"user_id": user_id, "name": "Ann"})

        def body():
            yield _rename, {"user_id": user_id, "name": "Ann"}

        await db.transact(body)
        assert await db.fetch(_user, {"user_id": user_id})


async def cancel_at_every_turn(
    db: Database, user_id: str, run: Callable[[], Awaitable[object]], *, twice: bool = False
) -> int:
    """Run `run()` in a task cancelled after 0, 1, 2... (later every few) turns of the loop (and, with `twice`, once
    more a turn later) until it finishes first; after each, the pool must be clean. Returns how
    many turns the whole run takes."""
    turns = 0
    finished_in_a_row = 0
    while finished_in_a_row < 3:
        task = asyncio.ensure_future(run())
        for _ in range(turns):
            await asyncio.sleep(0)
        finished_in_a_row = finished_in_a_row + 1 if task.done() else 0
        task.cancel()
        if twice:
            await asyncio.sleep(0)
            task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        await settled(db)
        assert dirty_connections(db) == [], f"cancelled after {turns} turns"
        await still_works(db, user_id)
        await still_works(db, user_id)
        turns += 1 + turns // 60  # every turn early on (BEGIN, the claim); then sampled
    return turns


def guard_dropped(caplog) -> list[str]:
    """The pool's checkin guard's warnings: a connection that came back with a transaction open
    (the clean-up of the path that begun it missed it)."""
    return [
        record.getMessage()
        for record in caplog.records
        if "came back with a transaction" in record.getMessage()
    ]


async def test_a_cancelled_driver_transaction_leaves_no_transaction_open(server, caplog):
    db = server.db
    user_id, _ = await server.user_key()

    def body():
        for name in ("one", "two", "three"):
            yield _rename, {"user_id": user_id, "name": name}

    await cancel_at_every_turn(db, user_id, lambda: db.transact(body))
    await cancel_at_every_turn(db, user_id, lambda: db.transact(body), twice=True)
    assert guard_dropped(caplog) == []


async def test_a_cancelled_shared_transaction_leaves_no_transaction_open(server, caplog):
    db = server.db
    user_id, _ = await server.user_key()

    def first():
        yield _rename, {"user_id": user_id, "name": "claimed"}

    async def request(commit: bool) -> None:
        slot = RequestTransaction()
        token = request_transaction.set(slot)
        shared: SharedTransaction | None = None
        try:
            shared, _ = await db.begin_shared(first)
            slot.shared = shared
            async with db.write() as conn:  # SQLAlchemy's savepoint
                await conn.execute(_rename, {"user_id": user_id, "name": "route"})
            await db.transact(first)  # the driver's savepoint
            async with db.read() as conn:
                await conn.execute(_user, {"user_id": user_id})
            slot.shared = None
            if commit:
                await shared.commit(first)
            else:
                await shared.rollback()
        finally:
            request_transaction.reset(token)
            if shared is not None and shared.open:
                await asyncio.shield(shared.rollback())

    for commit in (True, False):
        for twice in (False, True):
            await cancel_at_every_turn(db, user_id, functools.partial(request, commit), twice=twice)
    assert guard_dropped(caplog) == []


async def test_a_cancelled_idempotent_request_is_not_answered_as_an_error(server, alice, trip, caplog):
    """A PATCH with an Idempotency-Key whose task is cancelled (a client gone; the TUI cancelling
    a worker, whose request runs in that task through ASGITransport) rolls back quietly: no
    "unhandled error", no 500, and the next requests work."""
    path = f"/trips/{trip['_id']}/action-items"
    item = (await alice.http.post(path, json={"text": "Pack", "urgency": "now"})).json()
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=server.app),
        base_url=BASE,
        headers={"Authorization": f"Bearer {alice.key}"},
    )
    statuses: list[int] = []

    async def patch() -> None:
        response = await client.patch(
            f"{path}/{item['_id']}",
            json={"text": "Pack the tent"},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        statuses.append(response.status_code)

    async with client:
        await cancel_at_every_turn(server.db, alice.user_id, patch)
    assert set(statuses) == {200}
    errors = [record.getMessage() for record in caplog.records if record.levelname == "ERROR"]
    assert errors == []
    assert guard_dropped(caplog) == []


async def test_the_pool_closes_a_connection_handed_back_inside_a_transaction(server, caplog):
    """Whatever path forgets one: a connection that comes back with a transaction begun at the
    driver is closed at checkin (its locks freed) and replaced at its next checkout."""
    db = server.db
    if db.is_sqlite:
        return  # SQLite's reset rolls back whatever is open (`_sqlite_reset`)
    user_id, _ = await server.user_key()
    proxied = await db.write_engine.raw_connection()
    driver = proxied.driver_connection
    await driver.transaction().start()
    await driver.execute("UPDATE users SET name = 'held' WHERE id = $1", user_id)  # holds the row
    proxied.close()
    assert driver.is_closed()
    assert guard_dropped(caplog) != []

    def body():
        yield _rename, {"user_id": user_id, "name": "Ann"}

    async with asyncio.timeout(10):  # the row lock went with the closed connection
        for _ in range(db.write_engine.pool.checkedin() + 1):
            await db.transact(body)
    assert dirty_connections(db) == []
    await still_works(db, user_id)


@pytest.mark.parametrize("kind", ["shared", "write", "transact"])
async def test_sqlite_a_transaction_cancelled_before_its_begin_ran_is_not_left_open(server, kind):
    """SQLite runs every statement on aiosqlite's thread, which runs what it was handed even when
    the caller stops waiting. A request cancelled while its BEGIN IMMEDIATE still waits behind
    other work on that thread must not hand the connection back before the BEGIN has run: the
    pool would then take it for idle, and the next writer would find a stranger's transaction
    ("cannot start a transaction within a transaction") or commit it as its own."""
    db = server.db
    if not db.is_sqlite:
        return  # asyncpg: test_a_cancelled_shared_transaction_leaves_no_transaction_open
    user_id, _ = await server.user_key()
    proxied = await db.write_engine.raw_connection()
    busy = asyncio.ensure_future(proxied.driver_connection._execute(time.sleep, 0.3))  # the thread is busy
    proxied.close()  # idle, as far as the pool can tell

    def claim():
        yield _rename, {"user_id": user_id, "name": "Claimed"}

    async def shared() -> None:
        opened, _ = await db.begin_shared(claim)
        await opened.rollback()

    async def write() -> None:
        async with db.write() as conn:
            await conn.execute(_rename, {"user_id": user_id, "name": "Claimed"})
            await conn.rollback()

    async def transact() -> None:
        await db.transact(claim)

    started = asyncio.ensure_future({"shared": shared, "write": write, "transact": transact}[kind]())
    await asyncio.sleep(0.05)  # its BEGIN is queued behind the busy thread
    started.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await started
    await busy
    await settled(db)

    def rename():
        yield _rename, {"user_id": user_id, "name": "Ann"}

    async with asyncio.timeout(10):
        await db.transact(rename)  # BEGIN IMMEDIATE on the connection the claim was cancelled on
        async with db.write() as conn:  # joins no stranger's transaction: rolls back only its own
            await conn.execute(_rename, {"user_id": user_id, "name": "Bea"})
            await conn.rollback()
        await still_works(db, user_id)
    assert (await db.fetch(_user, {"user_id": user_id}))[0]["name"] == "Ann"


async def test_a_cancelled_read_or_sqlalchemy_write_leaves_no_transaction_open(server, caplog):
    """The transactions SQLAlchemy begins itself (`read()`, `snapshot()`, `write()`), cancelled
    at every turn: the next read must not find the server inside a transaction ("SET TRANSACTION
    ISOLATION LEVEL must be called before any query", seen once in a PostgreSQL full run)."""
    db = server.db
    user_id, _ = await server.user_key()

    async def reads_and_writes() -> None:
        async with db.read() as conn:
            await conn.execute(_user, {"user_id": user_id})
            await conn.execute(_user, {"user_id": user_id})
        async with db.snapshot() as conn:
            await conn.execute(_user, {"user_id": user_id})
        async with db.write() as conn:
            await conn.execute(_rename, {"user_id": user_id, "name": "Dee"})
            await conn.execute(_rename, {"user_id": user_id, "name": "Eve"})

    await cancel_at_every_turn(db, user_id, reads_and_writes)
    await cancel_at_every_turn(db, user_id, reads_and_writes, twice=True)
    # Ours only: on SQLite, asyncio reports SQLAlchemy's own clean-up task of a dropped aiosqlite
    # connection ("Task was destroyed but it is pending"), which is not ours to fix.
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR" and r.name.startswith("app")]
    assert errors == []


class Refused(Exception):
    """A driver body's own failure (a 404 or 422 in a route)."""


async def a_request_whose_driver_body_fails(
    db: Database, user_id: str, *, after_writing: bool
) -> Exception | None:
    """Claim (rename to "claimed"), run a body that fails before or after its own rename to
    "route", then commit; returns what the commit raised."""

    def claim():
        yield _rename, {"user_id": user_id, "name": "claimed"}

    def body():
        yield _user, {"user_id": user_id}
        if after_writing:
            yield _rename, {"user_id": user_id, "name": "route"}
        raise Refused

    slot = RequestTransaction()
    token = request_transaction.set(slot)
    try:
        shared, _ = await db.begin_shared(claim)
        slot.shared = shared
        with pytest.raises(Refused):
            await db.transact(body)
        slot.shared = None
        try:
            await shared.commit()
        except RuntimeError as refused:
            return refused
        return None
    finally:
        request_transaction.reset(token)


async def test_a_driver_body_that_fails_before_writing_leaves_the_request_to_commit(server):
    """The usual failure (a check's 404 or 422 before the write) needs nothing undone: on
    PostgreSQL no savepoint is paid for, and the claim still commits with the answer."""
    db = server.db
    user_id, _ = await server.user_key(name="Ann")
    assert await a_request_whose_driver_body_fails(db, user_id, after_writing=False) is None
    assert await db.fetch(_user, {"user_id": user_id}) == [{"name": "claimed"}]
    assert dirty_connections(db) == []


async def test_a_driver_body_that_fails_after_writing_commits_nothing_of_it(server):
    """SQLite rolls back the body's savepoint and commits the rest; PostgreSQL, which takes no
    savepoint for a driver body, refuses to commit and rolls the whole request back."""
    db = server.db
    user_id, _ = await server.user_key(name="Ann")
    refused = await a_request_whose_driver_body_fails(db, user_id, after_writing=True)
    name = (await db.fetch(_user, {"user_id": user_id}))[0]["name"]
    if db.is_sqlite:
        assert (refused, name) == (None, "claimed")
    else:
        assert refused is not None and isinstance(refused.__cause__, Refused)
        assert name == "Ann"
    assert dirty_connections(db) == []
    await still_works(db, user_id)


async def test_a_statement_cancelled_between_its_prepare_and_its_execution_is_not_left_half_sent(
    server, monkeypatch, caplog
):
    """`fetch()` (one statement in autocommit, at the driver) cancelled once asyncpg has prepared
    its statement and before it sends the execution. asyncpg prepares a statement new to the
    connection with Parse and Describe ended by Flush, not Sync: the server is then inside the
    implicit transaction of an unfinished query, with its snapshot taken, while asyncpg takes the
    connection for idle. Handed back to the pool as clean, the next read's BEGIN ISOLATION LEVEL
    REPEATABLE READ failed ("SET TRANSACTION ISOLATION LEVEL must be called before any query"),
    seen in TUI tests, whose requests run in workers that Textual cancels."""
    if server.db.is_sqlite:
        return  # one trip to aiosqlite's thread per statement: no half-way point
    import asyncpg.connection

    user_id, _ = await server.user_key()
    db = Database(server.db.url)  # a pool of its own: the read below gets the same connection
    prepare = asyncpg.connection.Connection._get_statement
    sql = db._plan(_user).sql
    armed = [sql]

    async def cancelled_once_prepared(self, query, *args, **kwargs):
        statement = await prepare(self, query, *args, **kwargs)
        if query in armed:
            armed.remove(query)
            # The task's cancellation lands on the turn after the prepare's answer came in, as
            # Task.cancel() does when it falls between that answer and the task's next step.
            asyncio.current_task().cancel()  # type: ignore[union-attr]  # in a task
            await asyncio.sleep(0)
        return statement

    monkeypatch.setattr(asyncpg.connection.Connection, "_get_statement", cancelled_once_prepared)
    try:
        with pytest.raises(asyncio.CancelledError):
            await asyncio.ensure_future(db.fetch(_user, {"user_id": user_id}))
        assert armed == []
        await settled(db)
        async with db.read() as conn:
            assert (await conn.execute(_user, {"user_id": user_id})).scalar_one()
        assert await db.fetch(_user, {"user_id": user_id})
        await still_works(db, user_id)
    finally:
        await db.dispose()
    assert guard_dropped(caplog) == []


async def test_a_statement_whose_values_the_driver_refuses_is_not_left_half_sent(server, caplog):
    """The same half-sent state when asyncpg refuses a value once the statement is prepared (an
    integer out of its column's range, found only when encoding it): the error is the client's,
    nothing was executed, and the connection must not go back to the pool as clean."""
    if server.db.is_sqlite:
        return
    import asyncpg

    user_id, _ = await server.user_key()
    db = Database(server.db.url)  # a pool of its own: the read below gets the same connection
    answered = select(t.idempotency_records.c.key).where(
        t.idempotency_records.c.status_code == bindparam("status")
    )
    try:
        with pytest.raises(asyncpg.exceptions.DataError):
            await db.fetch(answered, {"status": 2**40})
        async with db.read() as conn:
            assert (await conn.execute(_user, {"user_id": user_id})).scalar_one()
        await still_works(db, user_id)
    finally:
        await db.dispose()
    assert guard_dropped(caplog) == []


async def test_a_write_without_returning_hands_its_body_no_rows(server):
    """A write with no RETURNING of its own is sent no rows, on both databases, whether or not
    it carries the transaction's NOTIFY on PostgreSQL (`RETURNING pg_notify(...)`)."""
    db = server.db
    user_id, _ = await server.user_key(name="Ann")
    seen: list = []

    def body():
        seen.append((yield _rename, {"user_id": user_id, "name": "Bea"}))
        seen.append((yield _rename_returning, {"user_id": user_id, "name": "Cy"}))

    await db.transact(body, touches=("trip-1",))
    assert seen == [[], [{"name": "Cy"}]]
