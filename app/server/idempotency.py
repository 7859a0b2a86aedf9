"""Idempotency-Key: a POST, PATCH or DELETE sent twice with one key runs once; the retry gets the
first answer again, marked `Idempotent-Replayed: true`.

How: once the caller is authenticated (and counted by the rate limiter), `IdempotencyStore.begin`
(called from `auth.authenticate`, the one place that knows the API key id and runs after the rate
limit; a middleware in front of routing would have to look the key up a second time) claims the
key with an INSERT into `idempotency_records` in its own short transaction. The primary key
(api key id, Idempotency-Key) makes that claim atomic across server processes, so of several
simultaneous duplicates exactly one proceeds. The others poll (read-only) for up to
`wait_seconds` until the first is done and replay its answer, or get 409 IDEMPOTENCY_IN_PROGRESS.
`IdempotencyMiddleware` stores the finished response on the claim before the client sees it;
401, 429 and 5xx answers (and requests that crash or are cancelled) delete the claim instead, so
a retry executes afresh.

A server that dies mid-request (SIGKILL, power loss) leaves its claim `in_progress`. While
running, a claim's `response_body` names its owner (host, pid, process start time and a nonce):
a claim whose owner process is gone (same host) or that is older than `stale_after` seconds
(any host) is taken over by the next retry. The one window this cannot close is a crash after
the request's own write transaction committed but before its response was stored: the retry
then executes again, which `clientRef` upserts make harmless for legs, pins and action items.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import secrets
import socket
import time
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from starlette.responses import Response

from app.server.clock import now_ms
from app.server.errors import ApiError, validation_error
from app.server.storage import tables as t
from app.server.storage.database import Database

HEADER = "idempotency-key"
MAX_KEY_LENGTH = 255
TTL_MS = 24 * 60 * 60 * 1000
METHODS = frozenset({"POST", "PATCH", "DELETE"})
STATE_KEY = "idempotency_claim"
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
    owner: str


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


def fingerprint(scope: dict) -> str:
    """method + path + query + the JSON body, parsed (key order and whitespace do not matter)."""
    raw = scope.get("state", {}).get("raw_body", b"")
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"), ensure_ascii=False) if raw else ""
    except ValueError:  # not JSON (the route will answer 400): compare the bytes
        body = "raw:" + raw.hex()
    digest = hashlib.sha256()
    for part in (scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1"), body):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _process_start(pid: int) -> str | None:
    """The kernel's start time of a process (Linux), which tells a reused pid from the original."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


HOST = socket.gethostname()


def owner_token() -> str:
    pid = os.getpid()
    return f"{HOST}|{pid}|{_process_start(pid) or ''}|{secrets.token_hex(8)}"


def owner_is_gone(owner: str) -> bool:
    """True when the claim's owner was a process on this host that no longer runs."""
    try:
        host, pid_text, started, _nonce = owner.split("|")
        pid = int(pid_text)
    except ValueError:
        return False
    if host != HOST:
        return False
    if started and os.path.isdir("/proc/self"):
        return _process_start(pid) != started
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


class IdempotencyStore:
    def __init__(self, db: Database, *, wait_seconds: float = 5.0, stale_after: float = 60.0) -> None:
        self.db = db
        self.wait_seconds = wait_seconds
        self.stale_after_ms = int(stale_after * 1000)
        self._last_sweep = 0
        dialect = sqlite if db.is_sqlite else postgresql
        self._insert = dialect.insert(records).on_conflict_do_nothing(
            index_elements=[records.c.api_key_id, records.c.key]
        )

    async def begin(self, request: Request, api_key_id: str) -> None:
        """Claim the request's Idempotency-Key, or raise: a replay, a conflict or in-progress."""
        scope = request.scope
        if scope["method"] not in METHODS:
            return
        raw = request.headers.get(HEADER)
        if raw is None:
            return
        key = parse_key(raw)
        request_print = fingerprint(scope)
        deadline = time.monotonic() + self.wait_seconds
        delay = 0.02
        while True:
            claim = await self._try_claim(api_key_id, key, request_print)
            if claim is not None:
                scope.setdefault("state", {})[STATE_KEY] = claim
                return
            if time.monotonic() >= deadline:
                raise in_progress()
            # Someone else holds the key: watch it with cheap reads until it settles.
            while True:
                row = await self._read(api_key_id, key)
                if row is None or self._expired(row) or self._stale(row):
                    break  # gone, expired or abandoned: try to claim it ourselves
                if row["fingerprint"] != request_print:
                    raise conflict()
                if row["state"] == "done":
                    raise IdempotentReplay(row["status_code"], (row["response_body"] or "").encode())
                if time.monotonic() >= deadline:
                    raise in_progress()
                await asyncio.sleep(delay)
                delay = min(delay * 1.5, 0.25)

    def _expired(self, row) -> bool:
        return row["expires_at"] <= now_ms()

    def _stale(self, row) -> bool:
        if row["state"] != "in_progress":
            return False
        return now_ms() - row["created_at"] > self.stale_after_ms or owner_is_gone(row["response_body"] or "")

    async def _read(self, api_key_id: str, key: str):
        async with self.db.read() as conn:
            return (
                await conn.execute(select(records).where(records.c.api_key_id == api_key_id, records.c.key == key))
            ).mappings().first()

    async def _try_claim(self, api_key_id: str, key: str, request_print: str) -> Claim | None:
        """Insert the claim; take over an expired or abandoned one. None when another holds it."""
        now = now_ms()
        owner = owner_token()
        values = dict(
            api_key_id=api_key_id, key=key, fingerprint=request_print, state="in_progress", status_code=None,
            response_body=owner, created_at=now, expires_at=now + TTL_MS,
        )
        async with self.db.write() as conn:
            if now - self._last_sweep > 60_000:
                self._last_sweep = now
                await conn.execute(delete(records).where(records.c.expires_at <= now))
            inserted = await conn.execute(self._insert.values(**values))
            if inserted.rowcount == 1:
                return Claim(api_key_id, key, owner)
            row = (
                await conn.execute(select(records).where(records.c.api_key_id == api_key_id, records.c.key == key))
            ).mappings().first()
            if row is None:
                return None  # deleted between the two statements (PostgreSQL): the next round retries
            if self._expired(row) or self._stale(row):
                taken = await conn.execute(
                    update(records)
                    .where(
                        records.c.api_key_id == api_key_id,
                        records.c.key == key,
                        records.c.created_at == row["created_at"],
                        records.c.state == row["state"],
                    )
                    .values(**values)
                )
                if taken.rowcount == 1:
                    return Claim(api_key_id, key, owner)
        return None

    def _mine(self, claim: Claim):
        return (
            records.c.api_key_id == claim.api_key_id,
            records.c.key == claim.key,
            records.c.state == "in_progress",
            records.c.response_body == claim.owner,
        )

    async def finish(self, claim: Claim, status: int, body: bytes) -> None:
        async with self.db.write() as conn:
            await conn.execute(
                update(records)
                .where(*self._mine(claim))
                .values(state="done", status_code=status, response_body=body.decode("utf-8"),
                        expires_at=now_ms() + TTL_MS)
            )

    async def release(self, claim: Claim) -> None:
        async with self.db.write() as conn:
            await conn.execute(delete(records).where(*self._mine(claim)))


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
    """Pure ASGI middleware: stores the response of a request that claimed an Idempotency-Key
    (before the client sees it), or releases the claim when the answer must not be cached."""

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

        async def settle(status: int | None, body: bytes) -> None:
            nonlocal settled
            claim = state.get(STATE_KEY)
            settled = True
            if claim is None:
                return
            store = self.store_of()
            if status is None or status in NOT_CACHED or status >= 500:
                await store.release(claim)
            else:
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
                await settle(start["status"], body)
                await send(start)
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        try:
            await self.app(scope, receive, send_after_storing)
        finally:
            if not settled and STATE_KEY in state:
                await asyncio.shield(settle(None, b""))
