"""SQLite: a read that stands alone (`Database.fetch`: a key's scopes, the trip-access check,
`GET /me`) runs on the event loop's own thread, without the hand-over to aiosqlite's thread and
back; when SQLite cannot answer at once (the file locked by another program), it waits for the
lock on aiosqlite's thread as before, and the event loop keeps serving meanwhile."""

from __future__ import annotations

import asyncio
import sqlite3
import sys

import pytest
from sqlalchemy import bindparam, select, text

from app.server.storage import tables as t
from app.server.storage.database import Database

_user = select(t.users.c.id, t.users.c.name).where(t.users.c.id == bindparam("user_id"))


@pytest.fixture
async def db(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'reads.db'}")
    await db.migrate()
    async with db.write() as conn:
        await conn.execute(
            text("INSERT INTO users (id, email, name, created_at) VALUES ('u1', 'a@b.c', 'Ann', 0)")
        )
    yield db
    await db.dispose()


def sqlite_calls_on_this_thread(calls: list[str]):
    """A profile hook that notes every call into sqlite3 made on the calling thread."""

    def hook(frame, event, arg):
        if event == "c_call" and isinstance(
            getattr(arg, "__self__", None), (sqlite3.Connection, sqlite3.Cursor)
        ):
            calls.append(arg.__name__)

    return hook


async def test_a_read_that_stands_alone_runs_on_the_loops_thread_and_sees_every_commit(db):
    calls: list[str] = []
    sys.setprofile(sqlite_calls_on_this_thread(calls))
    try:
        first = await db.fetch(_user, {"user_id": "u1"})
    finally:
        sys.setprofile(None)
    assert first == [{"id": "u1", "name": "Ann"}]
    assert "execute" in calls, calls
    async with db.write() as conn:
        await conn.execute(text("UPDATE users SET name = 'Anna' WHERE id = 'u1'"))
    assert await db.fetch(_user, {"user_id": "u1"}) == [{"id": "u1", "name": "Anna"}]


async def test_writes_never_run_on_the_loops_thread(db):
    calls: list[str] = []
    sys.setprofile(sqlite_calls_on_this_thread(calls))
    try:
        async with db.write() as conn:
            await conn.execute(text("UPDATE users SET name = 'Ann B' WHERE id = 'u1'"))
    finally:
        sys.setprofile(None)
    assert "execute" not in calls, calls


async def test_a_locked_file_is_waited_for_off_the_loop(db):
    await db.fetch(_user, {"user_id": "u1"})
    await db.dispose()  # every connection closed (the loop's own too), so that another program
    path = db.url.split("///", 1)[1]  # can lock the file: in WAL mode only exclusive locking can
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("PRAGMA locking_mode=EXCLUSIVE")
    other.execute("BEGIN EXCLUSIVE")  # no reader may start now
    ticks = 0

    async def tick():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    read = asyncio.create_task(db.fetch(_user, {"user_id": "u1"}))
    await asyncio.sleep(0.3)
    assert not read.done()
    other.execute("COMMIT")
    other.close()
    try:
        assert await asyncio.wait_for(read, 30) == [{"id": "u1", "name": "Ann"}]
    finally:
        ticker.cancel()
    assert ticks >= 10, "the event loop stood still while the read waited for the lock"
