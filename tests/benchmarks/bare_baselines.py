"""Bare baselines for the request-cost benchmark (issue 18): the least an async Python web app can
do to answer the same three requests as `trip serve`, so that "how far is our stack from the floor"
has a floor that shares none of the code it judges. It imports nothing from `app.` or `tests.`.

    python tests/benchmarks/bare_baselines.py --db sqlite:/tmp/bare.db --port 8123 [--seed seed.json]
    python tests/benchmarks/bare_baselines.py --db 'postgresql://postgres@127.0.0.1:5432/test?schema=bare_1' --port 8123

Endpoints, on the same paths as `trip serve` so a load generator sends identical requests:

- `GET /api/v1/me`: a small JSON dict held in memory (the seed's `me`, else a stand-in). No
  database, no authentication.
- `GET /api/v1/trips/{trip_id}/legs`: one SELECT of the trip's legs (up to 100, ordered) from a
  plain `legs` table whose nested parts (stays, flights, rental car) are JSON text columns, each
  decoded with `json.loads`, shaped as `trip serve` answers a leg (`accommodation` is the first
  stay) and answered as `{"items": [...], "nextCursor": null}` with `json.dumps`.
- `POST /api/v1/trips/{trip_id}/channels/{channel_id}/messages`: body `{"content": ...}`, one
  INSERT and its commit, answered 201 with the message as `trip serve` shapes it.
- `GET /api/v1/openapi.json`: `{}`, so the harness's readiness probe finds it up.

Databases:

- SQLite (`sqlite:/path`, `sqlite:///path` or a plain path) through the standard `sqlite3` module.
  `sqlite3` blocks, so an async app runs it off the event loop. The cheapest honest way: each
  request makes ONE hop to a thread that owns its connection (`loop.run_in_executor` on a
  dedicated executor: a pool of 4 reader threads, one connection each, and a single writer thread
  with one connection, as SQLite allows one writer), runs its statement(s) and fetches there, and
  builds the JSON back on the loop. That is what aiosqlite does per call (a thread per
  connection), minus `asyncio.to_thread`'s context copy. WAL, `synchronous=NORMAL` and a busy
  timeout, as `trip serve` sets them.
- PostgreSQL (`postgresql://...`, optional `?schema=NAME`, created if missing, used through
  `search_path`) through an `asyncpg` pool (up to 10 connections); the insert is one
  auto-committed `execute`.

`--seed FILE` (JSON `{"me": {...}, "legs": [...]}`, the legs as `trip serve` answers them) fills
the tables at start (they are emptied first), so both servers answer the same legs.

uvicorn runs as `trip serve` runs it: `uvicorn.run(app, host=..., port=..., log_level="warning")`,
every other setting at uvicorn's default (loop and HTTP implementation "auto", lifespan on, access
log handler installed but below its level). `--loop`/`--http` exist so the benchmark can pin the
same implementation `trip serve` ended up with.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PAGE = 100
READERS = 4
BUSY_TIMEOUT_MS = 30_000
DEFAULT_ME = {
    "_id": "u_bare000000000000",
    "name": "Bare Baseline",
    "email": "bare@example.com",
    "groups": [{"_id": "g_bare000000000000", "name": "Bare's trips", "role": "owner"}],
    "defaultGroupId": "g_bare000000000000",
}
AUTHOR_ID, AUTHOR_NAME = "u_bare000000000000", "Bare Baseline"

LEG_COLUMNS = (
    'id, trip_id, "order", title, destination, start_date, end_date, timezone, stays, flights, rental_car, '
    "client_ref, created_at"
)
MESSAGE_COLUMNS = "id, trip_id, channel_id, author_id, author_name, content, parent_id, created_at"


def dumps(body) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def answer(body, status: int = 200) -> Response:
    return Response(dumps(body), status_code=status, media_type="application/json")


def leg_wire(row) -> dict:
    """A legs row (a tuple in LEG_COLUMNS order) as `trip serve` answers a leg."""
    stays = json.loads(row[8]) if row[8] else []
    return {
        "_id": row[0],
        "_creationTime": row[12],
        "tripId": row[1],
        "order": row[2],
        "title": row[3],
        "destination": row[4],
        "startDate": row[5],
        "endDate": row[6],
        "timezone": row[7],
        "accommodation": stays[0] if stays else None,
        "stays": stays,
        "flights": json.loads(row[9]) if row[9] else [],
        "rentalCar": json.loads(row[10]) if row[10] else None,
        "clientRef": row[11],
    }


def leg_row(leg: dict) -> tuple:
    """A leg as `trip serve` answers it, as a legs row (LEG_COLUMNS order)."""
    stays = leg.get("stays") or ([leg["accommodation"]] if leg.get("accommodation") else [])
    rental = leg.get("rentalCar")
    return (
        leg["_id"],
        leg["tripId"],
        float(leg["order"]),
        leg["title"],
        leg["destination"],
        leg["startDate"],
        leg["endDate"],
        leg["timezone"],
        json.dumps(stays),
        json.dumps(leg.get("flights") or []),
        None if rental is None else json.dumps(rental),
        leg.get("clientRef"),
        int(leg["_creationTime"]),
    )


def message_wire(row: tuple) -> dict:
    """A messages row (MESSAGE_COLUMNS order) as `trip serve` answers a message."""
    return {
        "_id": row[0],
        "_creationTime": row[7],
        "tripId": row[1],
        "channelId": row[2],
        "authorId": row[3],
        "authorName": row[4],
        "content": row[5],
        "parentId": row[6],
    }


def new_message(request: Request, body: dict) -> tuple | None:
    """The row to insert for a valid body, else None."""
    content = body.get("content") if isinstance(body, dict) else None
    parent = body.get("parentId") if isinstance(body, dict) else None
    if not isinstance(content, str) or not content or (parent is not None and not isinstance(parent, str)):
        return None
    params = request.path_params
    return (
        secrets.token_hex(12),
        params["trip_id"],
        params["channel_id"],
        AUTHOR_ID,
        AUTHOR_NAME,
        content,
        parent,
        int(time.time() * 1000),
    )


async def json_body(request: Request):
    try:
        return json.loads(await request.body())
    except ValueError:
        return None


# --- SQLite ---------------------------------------------------------------------------------------

SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS legs (
    id TEXT PRIMARY KEY, trip_id TEXT NOT NULL, "order" REAL NOT NULL, title TEXT NOT NULL,
    destination TEXT NOT NULL, start_date TEXT NOT NULL, end_date TEXT NOT NULL, timezone TEXT NOT NULL,
    stays TEXT NOT NULL, flights TEXT NOT NULL, rental_car TEXT, client_ref TEXT, created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_legs_trip_order ON legs (trip_id, "order", id);
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, trip_id TEXT NOT NULL,
    channel_id TEXT NOT NULL, author_id TEXT NOT NULL, author_name TEXT NOT NULL, content TEXT NOT NULL,
    parent_id TEXT, created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_messages_channel_seq ON messages (channel_id, seq);
"""
SQLITE_LEGS = f'SELECT {LEG_COLUMNS} FROM legs WHERE trip_id = ? ORDER BY "order", id LIMIT {PAGE + 1}'
SQLITE_INSERT = f"INSERT INTO messages ({MESSAGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"


class SQLiteStore:
    """sqlite3 connections, each owned by one thread: READERS readers and one writer."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.local = threading.local()
        self.readers = ThreadPoolExecutor(READERS, thread_name_prefix="bare-read")
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="bare-write")

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _setup(self, legs: list[dict]) -> None:
        conn = self._connection()
        conn.executescript(SQLITE_SCHEMA)
        with conn:
            conn.execute("DELETE FROM legs")
            conn.executemany(
                f"INSERT INTO legs ({LEG_COLUMNS}) VALUES ({', '.join('?' * 13)})", map(leg_row, legs)
            )

    def _legs(self, trip_id: str) -> list[tuple]:
        return self._connection().execute(SQLITE_LEGS, (trip_id,)).fetchall()

    def _insert(self, row: tuple) -> None:
        conn = self._connection()
        conn.execute(SQLITE_INSERT, row)
        conn.commit()

    def _close(self) -> None:
        conn = getattr(self.local, "conn", None)
        if conn is not None:
            conn.close()

    async def open(self, legs: list[dict]) -> None:
        await asyncio.get_running_loop().run_in_executor(self.writer, self._setup, legs)

    async def legs(self, trip_id: str) -> list[tuple]:
        return await asyncio.get_running_loop().run_in_executor(self.readers, self._legs, trip_id)

    async def insert(self, row: tuple) -> None:
        await asyncio.get_running_loop().run_in_executor(self.writer, self._insert, row)

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self.writer, self._close)
        await asyncio.gather(*(loop.run_in_executor(self.readers, self._close) for _ in range(READERS)))
        self.readers.shutdown()
        self.writer.shutdown()


# --- PostgreSQL -----------------------------------------------------------------------------------

PG_SCHEMA = """
CREATE TABLE IF NOT EXISTS legs (
    id TEXT PRIMARY KEY, trip_id TEXT NOT NULL, "order" DOUBLE PRECISION NOT NULL, title TEXT NOT NULL,
    destination TEXT NOT NULL, start_date TEXT NOT NULL, end_date TEXT NOT NULL, timezone TEXT NOT NULL,
    stays TEXT NOT NULL, flights TEXT NOT NULL, rental_car TEXT, client_ref TEXT, created_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_legs_trip_order ON legs (trip_id, "order", id);
CREATE TABLE IF NOT EXISTS messages (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id TEXT NOT NULL UNIQUE, trip_id TEXT NOT NULL,
    channel_id TEXT NOT NULL, author_id TEXT NOT NULL, author_name TEXT NOT NULL, content TEXT NOT NULL,
    parent_id TEXT, created_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_messages_channel_seq ON messages (channel_id, seq);
"""
PG_LEGS = f'SELECT {LEG_COLUMNS} FROM legs WHERE trip_id = $1 ORDER BY "order", id LIMIT {PAGE + 1}'
PG_INSERT = f"INSERT INTO messages ({MESSAGE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"


def split_pg_url(url: str) -> tuple[str, str | None]:
    """A libpq DSN asyncpg takes, and the `schema` query parameter (Tripdeck's convention) if any."""
    parts = urlsplit(url)
    scheme = "postgresql" if parts.scheme.startswith("postgres") else parts.scheme
    query = parse_qs(parts.query)
    schema = query.pop("schema", [None])[-1]
    dsn = urlunsplit((scheme, parts.netloc, parts.path, urlencode(query, doseq=True), parts.fragment))
    return dsn, schema


class PostgresStore:
    def __init__(self, url: str) -> None:
        self.dsn, self.schema = split_pg_url(url)
        self.pool = None

    async def open(self, legs: list[dict]) -> None:
        import asyncpg

        settings = {}
        if self.schema:
            if not self.schema.replace("_", "").isalnum():
                raise SystemExit(f"schema name {self.schema!r}: letters, digits and _ only")
            conn = await asyncpg.connect(self.dsn)
            try:
                await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            finally:
                await conn.close()
            settings["search_path"] = f'"{self.schema}"'
        self.pool = await asyncpg.create_pool(self.dsn, min_size=1, max_size=10, server_settings=settings)
        async with self.pool.acquire() as conn:
            await conn.execute(PG_SCHEMA)
            async with conn.transaction():
                await conn.execute("DELETE FROM legs")
                placeholders = ", ".join(f"${i}" for i in range(1, 14))
                await conn.executemany(
                    f"INSERT INTO legs ({LEG_COLUMNS}) VALUES ({placeholders})",
                    [leg_row(leg) for leg in legs],
                )

    async def legs(self, trip_id: str) -> list:
        return await self.pool.fetch(PG_LEGS, trip_id)

    async def insert(self, row: tuple) -> None:
        await self.pool.execute(PG_INSERT, *row)

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()


# --- the app --------------------------------------------------------------------------------------


def sqlite_path(url: str) -> str | None:
    """The file of a SQLite URL (`sqlite:/p`, `sqlite:///p`, `sqlite+aiosqlite:///p`) or plain path."""
    if url.startswith("postgres"):
        return None
    if "://" not in url and not url.startswith("sqlite:"):
        return str(Path(url).expanduser().resolve())
    rest = url.split(":", 1)[1]
    if rest.startswith("///"):  # SQLAlchemy's form: sqlite:///relative.db, sqlite:////absolute.db
        return rest[3:]
    if rest.startswith("//"):
        raise SystemExit(f"--db {url}: a SQLite URL names a file (sqlite:///path or sqlite:/path)")
    return rest


def create_app(db_url: str, seed: dict | None = None) -> Starlette:
    seed = seed or {}
    me_bytes = dumps(seed.get("me") or DEFAULT_ME)
    path = sqlite_path(db_url)
    store = SQLiteStore(path) if path is not None else PostgresStore(db_url)

    @asynccontextmanager
    async def lifespan(app):
        await store.open(seed.get("legs") or [])
        try:
            yield
        finally:
            await store.close()

    async def me(request: Request) -> Response:
        return Response(me_bytes, media_type="application/json")

    async def legs(request: Request) -> Response:
        rows = await store.legs(request.path_params["trip_id"])
        items = [leg_wire(row) for row in rows[:PAGE]]
        # A page longer than PAGE would carry a cursor; the benchmark's trip has exactly PAGE legs.
        next_cursor = items[-1]["_id"] if len(rows) > PAGE else None
        return answer({"items": items, "nextCursor": next_cursor})

    async def send_message(request: Request) -> Response:
        row = new_message(request, await json_body(request))
        if row is None:
            return answer(
                {"error": {"code": "VALIDATION_ERROR", "message": "content must be a non-empty string"}}, 400
            )
        await store.insert(row)
        return answer(message_wire(row), 201)

    async def openapi(request: Request) -> Response:
        return Response(b"{}", media_type="application/json")

    return Starlette(
        routes=[
            Route("/api/v1/me", me),
            Route("/api/v1/trips/{trip_id}/legs", legs),
            Route("/api/v1/trips/{trip_id}/channels/{channel_id}/messages", send_message, methods=["POST"]),
            Route("/api/v1/openapi.json", openapi),
        ],
        lifespan=lifespan,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--db", required=True, help="sqlite:/path/file.db, a file path, or postgresql://...[?schema=NAME]"
    )
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--seed", default=None, metavar="FILE", help='JSON {"me": {...}, "legs": [...]} loaded at start'
    )
    parser.add_argument(
        "--loop", default="auto", help="uvicorn loop implementation (default auto, as trip serve)"
    )
    parser.add_argument(
        "--http", default="auto", help="uvicorn HTTP implementation (default auto, as trip serve)"
    )
    args = parser.parse_args()
    seed = json.loads(Path(args.seed).read_text()) if args.seed else None
    app = create_app(args.db, seed)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", loop=args.loop, http=args.http)


if __name__ == "__main__":
    main()
