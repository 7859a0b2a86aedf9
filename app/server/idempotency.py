"""Idempotency-Key: a POST, PATCH or DELETE sent twice with one key runs once; the retry gets the
first answer again, marked `Idempotent-Replayed: true`.

One transaction per claimed request. Once the caller is authenticated (and counted by the rate
limiter), `IdempotencyStore.begin` (called from `auth.authenticate`, the one place that knows the
API key id) opens a `SharedTransaction` and inserts the claim into `idempotency_records` in it.
Every statement of the route then joins that transaction (app.server.storage.database), and
`IdempotencyMiddleware` writes the finished answer into the claim and commits: the claim, the
write and the recorded answer commit together. A server killed at any moment before that commit
leaves nothing (the database rolls the transaction back), so the retry runs the write once; a
kill after it leaves the answer, which the retry replays. 401, 429 and 5xx answers (and requests
that crash or are cancelled) roll back instead: their writes are undone and a retry runs afresh.

Duplicates sent at the same time: the claim's primary key (api key id, Idempotency-Key) makes
the claim atomic across processes. Within a process a duplicate waits for the running request
(up to `wait_seconds`) and replays its answer; on PostgreSQL a transaction-scoped advisory lock
on the key tells a duplicate in another process that the first is still running without
blocking on it; on SQLite the first holds the write lock and a duplicate from another process
waits for it. A duplicate whose first is still running after `wait_seconds` gets 409
IDEMPOTENCY_IN_PROGRESS.

An answer that carries a secret (a share token) is not recorded as sent: the route names what a
replay answers instead (`replay_with`), so no secret rests in this table.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Generator, MutableMapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy import BigInteger, bindparam, delete, exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from starlette.responses import Response

from app.server import faults
from app.server.clock import now_ms
from app.server.errors import ApiError, dumps, validation_error
from app.server.storage import tables as t
from app.server.storage.database import (
    Body,
    Database,
    RequestTransaction,
    SharedTransaction,
    Step,
    request_transaction,
)

HEADER = "idempotency-key"
MAX_KEY_LENGTH = 255
TTL_MS = 24 * 60 * 60 * 1000
METHODS = frozenset({"POST", "PATCH", "DELETE"})
STATE_KEY = "idempotency_claim"
REPLAY_KEY = "idempotency_replay_with"
NOT_CACHED = frozenset({401, 429})

records = t.idempotency_records


class IdempotentReplay(Exception):
    """Raised by `begin` for a retry of a finished request; rendered as the stored response."""

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"replay of a {status} response")
        self.status = status
        self.body = body

    def response(self) -> Response:
        headers = {"Idempotent-Replayed": "true"}
        if self.status == 204 or not self.body:
            return Response(status_code=self.status, headers=headers)
        return Response(self.body, status_code=self.status, headers=headers, media_type="application/json")


@dataclass
class Claim:
    api_key_id: str
    key: str
    shared: SharedTransaction
    running: asyncio.Event
    """Set once the claim's transaction has ended: duplicates in this process wait on it."""


def replay_with(request: Request, error: ApiError) -> None:
    """Record `error` for replays of this request instead of its answer (which holds a secret)."""
    state = request.scope.setdefault("state", {})
    if STATE_KEY in state:
        state[REPLAY_KEY] = (error.status, dumps(error.body(state.get("request_id"))))


def parse_key(raw: str) -> str:
    """The key a header value names: bare (`abc`) or a structured-field string (`"abc"`)."""
    value = raw.strip()
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        inner, out, escaped = value[1:-1], [], False
        for char in inner:
            if escaped or char != "\\":
                out.append(char)
                escaped = False
            else:
                escaped = True
        value = "".join(out)
    if not value:
        raise validation_error([{"path": "Idempotency-Key", "reason": "invalid"}], "Idempotency-Key is empty")
    if len(value) > MAX_KEY_LENGTH:
        raise validation_error(
            [{"path": "Idempotency-Key", "reason": "too_long"}],
            f"Idempotency-Key is longer than {MAX_KEY_LENGTH} characters",
        )
    return value


def fingerprint(scope: MutableMapping[str, Any]) -> str:
    """method + path + query + the JSON body, parsed (key order and whitespace do not matter)."""
    raw = scope.get("state", {}).get("raw_body", b"")
    try:
        # Decoded as UTF-8 first: json.loads would read UTF-16 too, which the API refuses.
        text = (
            raw.decode("utf-8").removeprefix("\ufeff") if raw else ""
        )  # a UTF-8 BOM may be ignored (RFC 8259)
        body = (
            json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            if text
            else ""
        )
    except ValueError:  # not UTF-8 JSON (the route will answer 400): compare the bytes
        body = "raw:" + raw.hex()
    digest = hashlib.sha256()
    for part in (scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1"), body):
        # surrogatepass: JSON may escape a lone surrogate ("\ud800"), which plain UTF-8 cannot
        # encode; the route refuses such a body (400), and its key must record that answer.
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return digest.hexdigest()


_BUSY = object()
"""`_claim`'s answer when another transaction holds the key right now."""


class IdempotencyStore:
    def __init__(self, db: Database, *, wait_seconds: float = 5.0) -> None:
        self.db = db
        self.wait_seconds = wait_seconds
        self._last_sweep = 0
        self._running: dict[tuple[str, str], asyncio.Event] = {}
        dialect = sqlite if db.is_sqlite else postgresql
        # Built once and run at the driver (hot path: every write with a key claims and records).
        columns = (
            "api_key_id",
            "key",
            "fingerprint",
            "state",
            "status_code",
            "response_body",
            "created_at",
            "expires_at",
        )
        self._insert = (
            dialect.insert(records)
            .values({name: bindparam(name) for name in columns})
            .on_conflict_do_nothing(index_elements=[records.c.api_key_id, records.c.key])
            .returning(records.c.key)
        )
        mine = (records.c.api_key_id == bindparam("api_key_id"), records.c.key == bindparam("key"))
        self._select = select(records).where(*mine)
        self._take_over = update(records).where(*mine).values({name: bindparam(name) for name in columns[2:]})
        self._sweep = delete(records).where(records.c.expires_at <= bindparam("now"))
        # PostgreSQL: the advisory lock and the insert in one round trip. The insert reads the
        # lock's answer, so it runs only once the lock is held; `claimed` says whether it did.
        lock = select(
            func.pg_try_advisory_xact_lock(bindparam("lock", type_=BigInteger)).label("locked")
        ).cte("claim_lock")
        claimed = (
            postgresql.insert(records)
            .from_select(
                list(columns),
                select(*(bindparam(name, type_=records.c[name].type).label(name) for name in columns)).where(
                    lock.c.locked
                ),
            )
            .on_conflict_do_nothing(index_elements=[records.c.api_key_id, records.c.key])
            .returning(records.c.key)
            .cte("claim_insert")
        )
        self._lock_and_insert = select(lock.c.locked, exists(select(claimed.c.key)).label("claimed"))
        self._record_answer = (
            update(records)
            .where(records.c.api_key_id == bindparam("claim_key_id"), records.c.key == bindparam("claim_key"))
            .values(
                state="done",
                status_code=bindparam("answer_status"),
                response_body=bindparam("answer_body"),
                expires_at=bindparam("answer_expires"),
            )
        )

    async def begin(self, request: Request, api_key_id: str) -> None:
        """Claim the request's Idempotency-Key in a transaction the whole request then joins, or
        raise: a replay, a conflict or in-progress."""
        scope = request.scope
        if scope["method"] not in METHODS:
            return
        raw = request.headers.get(HEADER)
        if raw is None:
            return
        slot = request_transaction.get()
        if slot is None:
            raise RuntimeError("IdempotencyMiddleware must run in front of a claimed request")
        key = parse_key(raw)
        request_print = fingerprint(scope)
        ident = (api_key_id, key)
        deadline = time.monotonic() + self.wait_seconds
        delay = 0.02
        while True:
            running = self._running.get(ident)
            if running is not None:  # a duplicate in this process: wait for it, then look
                try:
                    async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                        await running.wait()
                except TimeoutError:
                    raise in_progress() from None
                continue
            running = self._running[ident] = asyncio.Event()
            try:
                shared, outcome = await self.db.begin_shared(self._claim(api_key_id, key, request_print))
            except BaseException:
                self._done(ident, running)
                raise
            if outcome is None:
                scope.setdefault("state", {})[STATE_KEY] = Claim(api_key_id, key, shared, running)
                slot.shared = shared
                return
            await shared.rollback()
            self._done(ident, running)
            if outcome is _BUSY:  # running in another process (PostgreSQL): poll without blocking
                if time.monotonic() >= deadline:
                    raise in_progress()
                await asyncio.sleep(delay)
                delay = min(delay * 1.5, 0.25)
                continue
            if outcome["fingerprint"] != request_print:
                raise conflict()
            raise IdempotentReplay(outcome["status_code"], (outcome["response_body"] or "").encode())

    def _done(self, ident: tuple[str, str], running: asyncio.Event) -> None:
        if self._running.get(ident) is running:
            del self._running[ident]
        running.set()

    def _claim(self, api_key_id: str, key: str, request_print: str) -> Body[Any]:
        """The statements that insert the claim in the request's transaction, taking over an
        expired record. Their answer: None when claimed, `_BUSY` when another transaction holds
        the key, else the finished record. (On SQLite they run on aiosqlite's thread.)"""
        lock = None
        if not self.db.is_sqlite:
            digest = hashlib.sha256(f"{api_key_id}\0{key}".encode()).digest()
            lock = int.from_bytes(digest[:8], "big", signed=True)
        now = now_ms()
        sweep = now - self._last_sweep > 60_000
        if sweep:
            self._last_sweep = now
        values = dict(
            api_key_id=api_key_id,
            key=key,
            fingerprint=request_print,
            state="in_progress",
            status_code=None,
            response_body=None,
            created_at=now,
            expires_at=now + TTL_MS,
        )

        def claim() -> Generator[Step, list[dict], Any]:
            if sweep:
                yield self._sweep, {"now": now}
            if lock is None:
                if (yield self._insert, values):
                    return None
            else:
                outcome = (yield self._lock_and_insert, {**values, "lock": lock})[0]
                if not outcome["locked"]:
                    return _BUSY
                if outcome["claimed"]:
                    return None
            found = yield self._select, {"api_key_id": api_key_id, "key": key}
            if not found:
                return _BUSY  # deleted between the two statements (PostgreSQL): the next round retries
            row = found[0]
            # A record left `in_progress` was written by a version of Tripdeck that committed
            # claims on their own; its request is long gone. Expired and abandoned records are
            # taken over.
            if row["expires_at"] <= now or row["state"] != "done":
                yield self._take_over, values
                return None
            return row

        return claim

    async def finish(self, claim: Claim, status: int, body: bytes) -> None:
        """Record the answer in the claim's transaction and commit it with the request's writes."""
        answer = {
            "claim_key_id": claim.api_key_id,
            "claim_key": claim.key,
            "answer_status": status,
            "answer_body": body.decode("utf-8"),
            "answer_expires": now_ms() + TTL_MS,
        }

        def record() -> Generator[Step, list[dict], None]:
            yield self._record_answer, answer

        try:
            await claim.shared.commit(record)  # rolls back when it fails
        finally:
            self._done((claim.api_key_id, claim.key), claim.running)

    async def release(self, claim: Claim) -> None:
        """Roll back the claim and everything the request wrote (an answer not to be cached)."""
        try:
            await claim.shared.rollback()
        finally:
            self._done((claim.api_key_id, claim.key), claim.running)


def conflict() -> ApiError:
    return ApiError(
        409,
        "IDEMPOTENCY_CONFLICT",
        "This Idempotency-Key was already used for a different request (method, path, query or body)",
    )


def in_progress() -> ApiError:
    return ApiError(
        409,
        "IDEMPOTENCY_IN_PROGRESS",
        "A request with this Idempotency-Key is still running; retry shortly",
        headers={"Retry-After": "1"},
    )


class IdempotencyMiddleware:
    """Pure ASGI middleware: gives each write request its `RequestTransaction` slot; for a request
    that claimed an Idempotency-Key, records the answer and commits it with the request's writes
    before the client sees it, or rolls everything back when the answer must not be cached."""

    def __init__(self, app, store_of) -> None:
        self.app = app
        self.store_of = store_of  # () -> IdempotencyStore, resolved when a request comes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] not in METHODS:
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        start: dict | None = None
        chunks: list[bytes] = []
        settled = False
        slot = RequestTransaction()

        async def settle(status: int | None, body: bytes) -> None:
            nonlocal settled
            claim = state.get(STATE_KEY)
            settled = True
            slot.shared = None  # whatever runs after this (a leftover task) uses its own transactions
            if claim is None:
                return
            store = self.store_of()
            if status is None or status in NOT_CACHED or status >= 500:
                await store.release(claim)
            else:
                status, body = state.get(REPLAY_KEY, (status, body))
                await store.finish(claim, status, body)

        async def send_after_storing(message) -> None:
            nonlocal start
            if STATE_KEY not in state:
                await send(message)
                return
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                body = b"".join(chunks)
                faults.crash_point(faults.ANSWER_READY)
                assert start is not None  # ASGI: the start comes before the body
                await settle(start["status"], body)
                faults.crash_point(faults.ANSWER_RECORDED)
                await send(start)
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        token = request_transaction.set(slot)
        try:
            await self.app(scope, receive, send_after_storing)
        finally:
            request_transaction.reset(token)
            if not settled and STATE_KEY in state:
                await asyncio.shield(settle(None, b""))
