"""Rate limits, counted per fixed 60-second window in the database (`rate_limit_windows`), so that
several server processes on one database share them:

- `RateLimiter`: N requests per window per bucket (an API key, a share token).
- `FailedAttempts`: N failed attempts per window per client address (a request answered 401, a
  share token that opens nothing). An address over it gets 429 for every request until the
  window ends: also with a good key, or a guess that hit would still be told apart.
  `FailedAttemptsMiddleware` applies it; successful requests write nothing for it.

Each count is one conditional upsert-and-increment that returns the new count, atomic on SQLite
(writers are serialised) and on PostgreSQL (the row lock of ON CONFLICT DO UPDATE). It never
counts past the limit: at the limit it changes no row and returns none, so a refused request
writes nothing, and the process then remembers the full bucket until its window ends, so later
refusals do not touch the database at all.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
import time
from collections.abc import Callable, Iterable

from fastapi import Request
from sqlalchemy import bindparam, delete
from sqlalchemy.dialects import postgresql, sqlite

from app.server.errors import ApiError
from app.server.responses import JSON
from app.server.storage import tables as t
from app.server.storage.database import Database

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60
BUCKET_MAX = 120
"""The length of `rate_limit_windows.bucket`."""
REMEMBERED_MAX = 100_000
"""Full buckets a process remembers at most (expired ones are dropped first)."""
STATE_KEY = "rate_limit"
"""`scope["state"][STATE_KEY] = (limit, remaining)`; `RequestContextMiddleware` (app/server/middleware.py)
turns it into X-RateLimit-Limit/-Remaining headers."""


class WindowCounter:
    """Counts in the current window of a bucket, up to a limit, shared through the database."""

    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock
        self._last_sweep = 0.0
        self._full: dict[str, float] = {}
        """Bucket -> the end of the window in which it reached its limit."""
        if db is None:  # an address parser only (tests of `FailedAttempts.address`)
            return
        dialect = postgresql if not db.is_sqlite else sqlite
        windows = t.rate_limit_windows
        statement = dialect.insert(windows).values(
            bucket=bindparam("bucket"), window_start=bindparam("window_start"), count=1
        )
        self._upsert = statement.on_conflict_do_update(
            index_elements=[windows.c.bucket, windows.c.window_start],
            set_={"count": windows.c.count + 1},
            where=windows.c.count < bindparam("limit"),
        ).returning(windows.c.count)
        self._sweep = delete(windows).where(windows.c.window_start < bindparam("before"))

    def full_until(self, bucket: str) -> float | None:
        """The end of the window in which `bucket` is known (to this process) to be full."""
        end = self._full.get(bucket)
        if end is not None and end <= self.clock():
            del self._full[bucket]
            return None
        return end

    async def add(self, bucket: str, limit: int) -> tuple[int | None, float]:
        """Count one in `bucket`'s current window unless it already holds `limit`: returns the new
        count (None when refused: nothing was written) and the end of the window."""
        now = self.clock()
        window_start = int(now // WINDOW_SECONDS) * WINDOW_SECONDS
        end = float(window_start + WINDOW_SECONDS)
        count = None
        if limit > 0:
            # One statement, atomic by itself: autocommit, no transaction around it (SQLite takes
            # the write lock for it as BEGIN IMMEDIATE would; PostgreSQL locks the row).
            rows = await self.db.fetch(
                self._upsert, {"bucket": bucket, "window_start": window_start, "limit": limit}, write=True
            )
            count = rows[0]["count"] if rows else None
        if count is None or count >= limit:
            self._remember_full(bucket, end)
        if now - self._last_sweep > WINDOW_SECONDS:
            # Old windows are never read again; clear them about once a minute per process.
            self._last_sweep = now
            await self.db.fetch(self._sweep, {"before": window_start}, write=True)
        return count, end

    def _remember_full(self, bucket: str, end: float) -> None:
        if len(self._full) >= REMEMBERED_MAX:
            now = self.clock()
            self._full = {b: until for b, until in self._full.items() if until > now}
            if len(self._full) >= REMEMBERED_MAX:
                self._full.clear()
        self._full[bucket] = end

    def retry_after(self, end: float) -> int:
        return max(1, math.ceil(end - self.clock()))


SYNC_EVERY = 0.25
"""Seconds between a process's syncs of the counts it admitted in memory."""
SYNC_BATCH = 16
"""A key's unsent count that makes its process sync at once; also the margin below the limit
from which every request of the key is counted in the database, exactly."""


class _Window:
    """One bucket's current window as this process sees it."""

    __slots__ = ("sending", "shared", "start", "unsent")

    def __init__(self, start: int, shared: int) -> None:
        self.start = start
        self.shared = shared
        """The window's count in the database at this process's last sync (others' included)."""
        self.sending = 0
        """Admitted here, on their way to the database."""
        self.unsent = 0
        """Admitted here since, not yet sent."""

    @property
    def known(self) -> int:
        return self.shared + self.sending + self.unsent


class RateLimiter(WindowCounter):
    """`await limiter.check(request, bucket)` counts one request, raising 429 over the limit.

    Counted in memory, settled with the database in batches: a key's first request of a window
    counts in the database (and learns what other processes counted); after that, requests far
    from the limit are counted here and added to the database every `SYNC_EVERY` seconds, or
    as soon as a key has `SYNC_BATCH` unsent; within `SYNC_BATCH` of the limit every request
    is counted in the database at once, as one conditional statement. With one process the
    limit is exact; with several, a process may overshoot by what the others admitted and had
    not yet sent (under `SYNC_BATCH` each). A request is never refused before the limit."""

    def __init__(self, db: Database, limit: int, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__(db, clock=clock)
        self.limit = limit
        self._windows: dict[str, _Window] = {}
        self._retired: list[tuple[str, _Window]] = []
        self._syncer: asyncio.Task | None = None
        if db is not None:
            dialect = postgresql if not db.is_sqlite else sqlite
            windows = t.rate_limit_windows
            statement = dialect.insert(windows).values(
                bucket=bindparam("bucket"), window_start=bindparam("window_start"), count=bindparam("n")
            )
            self._add_many = statement.on_conflict_do_update(
                index_elements=[windows.c.bucket, windows.c.window_start],
                set_={"count": windows.c.count + statement.excluded.count},
            ).returning(windows.c.count)

    async def check(self, request: Request, bucket: str) -> None:
        bucket = bucket[:BUCKET_MAX]
        now = self.clock()
        start = int(now // WINDOW_SECONDS) * WINDOW_SECONDS
        window = self._windows.get(bucket)
        if window is not None and window.start != start:
            self._retire(bucket, window)
            self._sync_soon(now=True)
            window = None
        if window is not None and window.known + SYNC_BATCH < self.limit:
            window.unsent += 1  # far from the limit: counted here, sent with the next sync
            remaining = self.limit - window.known
            if window.unsent >= SYNC_BATCH:
                self._sync_soon(now=True)
            else:
                self._sync_soon()
        else:
            count, end = None, self.full_until(bucket)
            if end is None:
                if window is not None and (window.unsent or window.sending):
                    await self._send(bucket, window)
                count, end = await self.add(bucket, self.limit)
                # Another request of the key may have opened the window while this one waited:
                # keep that one (and what it counted in memory), never replace it.
                current = self._windows.get(bucket)
                window = current if current is not None and current.start == start else window
            if window is None:
                window = self._windows[bucket] = _Window(start, 0)
            window.shared = self.limit if count is None else max(window.shared, count)
            remaining = 0 if count is None else max(0, self.limit - count)
            if count is None:
                request.scope.setdefault("state", {})[STATE_KEY] = (self.limit, 0)
                reset = self.retry_after(end)
                raise ApiError(
                    429,
                    "RATE_LIMITED",
                    f"Rate limit of {self.limit} requests per minute exceeded; retry in {reset} s",
                    headers={"Retry-After": str(reset)},
                )
        request.scope.setdefault("state", {})[STATE_KEY] = (self.limit, max(0, remaining))

    def _retire(self, bucket: str, window: _Window) -> None:
        del self._windows[bucket]
        if window.unsent:
            self._retired.append((bucket, window))

    def _sync_soon(self, *, now: bool = False) -> None:
        if self._syncer is None or self._syncer.done():
            self._syncer = asyncio.get_running_loop().create_task(self._sync_later(0 if now else SYNC_EVERY))

    async def _sync_later(self, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        await self.sync()

    async def sync(self) -> None:
        """Send every count admitted in memory to the database and learn the shared totals."""
        start = int(self.clock() // WINDOW_SECONDS) * WINDOW_SECONDS
        for bucket, window in list(self._windows.items()):
            if window.start != start:  # a key not seen since its window ended
                self._retire(bucket, window)
        retired, self._retired = self._retired, []
        for bucket, window in retired:
            await self._send(bucket, window)
        for bucket, window in list(self._windows.items()):
            if window.unsent:
                await self._send(bucket, window)
        if any(w.unsent for w in self._windows.values()):
            self._sync_soon()

    async def _send(self, bucket: str, window: _Window) -> None:
        n, window.unsent = window.unsent, 0
        if not n:
            return
        window.sending += n
        try:
            rows = await self.db.fetch(
                self._add_many, {"bucket": bucket, "window_start": window.start, "n": n}, write=True
            )
        except Exception:
            log.warning("could not send %d rate-limit counts of a key; will retry", n, exc_info=True)
            window.unsent += n  # counted again at the next sync
            return
        finally:
            window.sending -= n
        window.shared = max(window.shared, rows[0]["count"] - window.sending)

    async def close(self) -> None:
        """Send what is unsent (at shutdown)."""
        if self._syncer is not None:
            self._syncer.cancel()
            try:
                await self._syncer
            except (asyncio.CancelledError, Exception):
                pass
        try:
            await self.sync()
        except Exception:
            log.warning("could not send the last rate-limit counts", exc_info=True)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _parse_address(text: str) -> Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [2001:db8::1] or [2001:db8::1]:443
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # 203.0.113.7:443
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def parse_networks(proxies: Iterable[str]) -> tuple[Network, ...]:
    """`--trusted-proxy` values: addresses or networks (`10.0.0.1`, `10.0.0.0/8`, `fd00::/8`)."""
    return tuple(ipaddress.ip_network(proxy.strip(), strict=False) for proxy in proxies)


class FailedAttempts(WindowCounter):
    """Failed attempts per client address: `limit` per window, then 429 for the address.

    The address is the TCP peer's, or, when the peer is a trusted proxy, the right-most address
    of X-Forwarded-For that is not a trusted proxy (a client can write anything on the left; each
    proxy appends the address it saw). IPv6 addresses count per /64, one subscriber's network."""

    def __init__(
        self,
        db: Database,
        limit: int,
        *,
        trusted_proxies: Iterable[str] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(db, clock=clock)
        self.limit = limit
        self.trusted = parse_networks(trusted_proxies)
        self._buckets: dict[str, str] = {}
        """Peer address -> its bucket, when no trusted proxy can change it."""

    def _is_trusted(self, address: Address) -> bool:
        return any(address in network for network in self.trusted)

    def address(self, scope) -> str:
        peer_text = (scope.get("client") or ("",))[0] or ""
        client = _parse_address(peer_text)
        if client is not None and self.trusted and self._is_trusted(client):
            hops = [
                hop
                for name, value in scope["headers"]
                if name == b"x-forwarded-for"
                for hop in value.decode("latin-1").split(",")
            ]
            for hop in reversed(hops):
                address = _parse_address(hop)
                if address is None:
                    break  # not an address: stop at the last one a trusted proxy vouched for
                client = address
                if not self._is_trusted(address):
                    break
        if client is None:
            return peer_text[:64]  # not an IP (a Unix socket): one bucket for it
        if isinstance(client, ipaddress.IPv6Address):
            return str(ipaddress.IPv6Network((client, 64), strict=False))
        return str(client)

    def bucket(self, scope) -> str:
        if self.trusted:
            return f"addr:{self.address(scope)}"[:BUCKET_MAX]  # may depend on X-Forwarded-For
        # Without trusted proxies the bucket depends on the peer alone: parsed once per peer.
        peer = (scope.get("client") or ("",))[0] or ""
        bucket = self._buckets.get(peer)
        if bucket is None:
            if len(self._buckets) >= REMEMBERED_MAX:
                self._buckets.clear()
            bucket = self._buckets[peer] = f"addr:{self.address(scope)}"[:BUCKET_MAX]
        return bucket

    def refused(self, bucket: str) -> ApiError | None:
        """429 when this process knows the address is over the limit (no database access)."""
        end = self.full_until(bucket)
        return None if end is None else self._too_many(end)

    async def failed(self, bucket: str) -> ApiError | None:
        """Count one failed attempt; 429 when the address was already at the limit."""
        count, end = await self.add(bucket, self.limit)
        return self._too_many(end) if count is None else None

    def _too_many(self, end: float) -> ApiError:
        reset = self.retry_after(end)
        return ApiError(
            429,
            "RATE_LIMITED",
            f"Too many failed attempts from this address ({self.limit} a minute: unknown keys or share "
            f"tokens); retry in {reset} s",
            headers={"Retry-After": str(reset)},
        )


class FailedAttemptsMiddleware:
    """Pure ASGI, inside `RequestContextMiddleware` (so its 429 carries the request id): refuses
    every request of an address over its failed-attempt limit before any routing, and counts a
    failed attempt for each 401 answer and each 404 of a share-token read."""

    def __init__(self, app, shared_prefix: str) -> None:
        self.app = app
        self.shared_prefix = shared_prefix

    async def __call__(self, scope, receive, send) -> None:
        attempts: FailedAttempts | None = None
        if scope["type"] == "http":
            attempts = getattr(scope["app"].state, "failed_attempts", None)
        if attempts is None:
            await self.app(scope, receive, send)
            return
        bucket = attempts.bucket(scope)
        if (error := attempts.refused(bucket)) is not None:
            await respond(scope, receive, send, error)
            return
        share_read = scope["method"] in ("GET", "HEAD") and scope["path"].startswith(self.shared_prefix)
        replaced = False

        async def send_counting_failures(message) -> None:
            nonlocal replaced
            if replaced:
                return  # the body of the answer a 429 replaced
            if message["type"] == "http.response.start" and (
                message["status"] == 401 or (share_read and message["status"] == 404)
            ):
                if (error := await attempts.failed(bucket)) is not None:
                    replaced = True
                    await respond(scope, receive, send, error)
                    return
            await send(message)

        await self.app(scope, receive, send_counting_failures)


async def respond(scope, receive, send, error: ApiError) -> None:
    request_id = scope.get("state", {}).get("request_id")
    await JSON(error.body(request_id), status_code=error.status, headers=error.headers)(scope, receive, send)
