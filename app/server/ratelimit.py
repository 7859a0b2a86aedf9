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
from sqlalchemy import bindparam, delete
from sqlalchemy.dialects import postgresql, sqlite

from app.server.errors import ApiError
from app.server.storage import tables as t
from app.server.storage.database import Database

WINDOW_SECONDS = 60
STATE_KEY = "rate_limit"
"""`scope["state"][STATE_KEY] = (limit, remaining)`; `RequestContextMiddleware` (app/server/middleware.py)
turns it into X-RateLimit-Limit/-Remaining headers."""


class RateLimiter:
    """`await limiter.check(request, bucket)` counts one request, raising 429 over the limit."""

    def __init__(self, db: Database, limit: int, *, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.limit = limit
        self.clock = clock
        self._last_sweep = 0.0
        dialect = postgresql if not db.is_sqlite else sqlite
        windows = t.rate_limit_windows
        statement = dialect.insert(windows).values(bucket=bindparam("bucket"), window_start=bindparam("window_start"), count=1)
        self._upsert = statement.on_conflict_do_update(
            index_elements=[windows.c.bucket, windows.c.window_start],
            set_={"count": windows.c.count + 1},
        ).returning(windows.c.count)
        self._sweep = delete(windows).where(windows.c.window_start < bindparam("before"))

    async def hit(self, bucket: str) -> tuple[int, int]:
        """Count one request in `bucket`; returns (count in this window, seconds until it ends)."""
        now = self.clock()
        window_start = int(now // WINDOW_SECONDS) * WINDOW_SECONDS
        # One statement, atomic by itself: autocommit, no transaction around it (SQLite takes
        # the write lock for it as BEGIN IMMEDIATE would; PostgreSQL locks the row).
        rows = await self.db.fetch(self._upsert, {"bucket": bucket[:120], "window_start": window_start}, write=True)
        count = rows[0]["count"]
        if now - self._last_sweep > WINDOW_SECONDS:
            # Old windows are never read again; clear them about once a minute per process.
            self._last_sweep = now
            await self.db.fetch(self._sweep, {"before": window_start}, write=True)
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
