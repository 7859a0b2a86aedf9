"""Rate limits: N requests per fixed 60-second window per bucket (an API key, or a share token).

The count lives in the database (`rate_limit_windows`), so several server processes on one
database share it. Each check is one upsert-and-increment statement that returns the new count,
which is atomic on SQLite (writers are serialised) and on PostgreSQL (the row lock of
ON CONFLICT DO UPDATE).
"""

from __future__ import annotations

import math
import time
from typing import Callable

from fastapi import Request
from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite

from app.server.errors import ApiError
from app.server.storage import tables as t
from app.server.storage.database import Database

WINDOW_SECONDS = 60
STATE_KEY = "rate_limit"
"""`scope["state"][STATE_KEY] = (limit, remaining)`; `RateLimitHeaders` turns it into headers."""


class RateLimiter:
    """`await limiter.check(request, bucket)` counts one request, raising 429 over the limit."""

    def __init__(self, db: Database, limit: int, *, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.limit = limit
        self.clock = clock
        self._last_sweep = 0.0
        dialect = postgresql if not db.is_sqlite else sqlite
        statement = dialect.insert(t.rate_limit_windows)
        self._upsert = statement.on_conflict_do_update(
            index_elements=[t.rate_limit_windows.c.bucket, t.rate_limit_windows.c.window_start],
            set_={"count": t.rate_limit_windows.c.count + 1},
        ).returning(t.rate_limit_windows.c.count)

    async def hit(self, bucket: str) -> tuple[int, int]:
        """Count one request in `bucket`; returns (count in this window, seconds until it ends)."""
        now = self.clock()
        window_start = int(now // WINDOW_SECONDS) * WINDOW_SECONDS
        # One statement, atomic by itself (no transaction around it on PostgreSQL).
        async with self.db.single(write=True) as conn:
            count = (
                await conn.execute(self._upsert.values(bucket=bucket[:120], window_start=window_start, count=1))
            ).scalar_one()
            if now - self._last_sweep > WINDOW_SECONDS:
                # Old windows are never read again; clear them about once a minute per process.
                self._last_sweep = now
                await conn.execute(
                    delete(t.rate_limit_windows).where(t.rate_limit_windows.c.window_start < window_start)
                )
        reset = max(1, math.ceil(window_start + WINDOW_SECONDS - now))
        return count, reset

    async def check(self, request: Request, bucket: str) -> None:
        count, reset = await self.hit(bucket)
        remaining = max(0, self.limit - count)
        request.scope.setdefault("state", {})[STATE_KEY] = (self.limit, remaining)
        if count > self.limit:
            raise ApiError(
                429,
                "RATE_LIMITED",
                f"Rate limit of {self.limit} requests per minute exceeded; retry in {reset} s",
                headers={"Retry-After": str(reset)},
            )


class RateLimitHeaders:
    """Pure ASGI middleware: puts X-RateLimit-Limit/-Remaining on every response whose request
    was counted (every authenticated request and every share-token read)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})

        async def send_with_limits(message) -> None:
            if message["type"] == "http.response.start" and STATE_KEY in state:
                limit, remaining = state[STATE_KEY]
                message["headers"] = list(message.get("headers", [])) + [
                    (b"x-ratelimit-limit", str(limit).encode()),
                    (b"x-ratelimit-remaining", str(remaining).encode()),
                ]
            await send(message)

        await self.app(scope, receive, send_with_limits)
