"""API keys and scopes: who is calling, and what they may do with which trip."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Annotated, Generic, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPBearer
from sqlalchemy import and_, bindparam, or_, select, update

from app.domain.models import Role, Scope
from app.server.clock import now_ms, plausible_id
from app.server.deps import database_of
from app.server.errors import ApiError, forbidden, not_found, unauthorized
from app.server.storage import tables as t

if TYPE_CHECKING:
    from app.server.storage.database import Database

log = logging.getLogger(__name__)

K = TypeVar("K")
V = TypeVar("V")

KEY_PREFIX = "osk_"
ALL_SCOPES = [s.value for s in Scope]


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def parse_scope(scope: str) -> tuple[str, str | None]:
    """`trips:write:<tripId>` -> ("trips:write", tripId); raises ValueError if unknown."""
    parts = scope.split(":", 2)
    base = ":".join(parts[:2])
    if base not in ALL_SCOPES:
        raise ValueError(f"unknown scope {scope!r}; use one of {', '.join(ALL_SCOPES)}")
    trip_id = parts[2] if len(parts) == 3 else None
    if trip_id == "":
        raise ValueError(f"scope {scope!r} names an empty trip id")
    return base, trip_id


@dataclass(frozen=True)
class ApiKey:
    """The authenticated caller."""

    key_id: str
    user_id: str
    user_name: str
    scopes: tuple[tuple[str, str | None], ...]
    key_name: str | None = None
    """The name its owner gave the key (`trip keys create --name`), kept with each operation."""

    def allows(self, scope: str, trip_id: str | None = None) -> bool:
        """May this key use `scope` on `trip_id` (or, with None, on at least one trip)?"""
        return any(
            base == scope and (limit is None or trip_id is None or limit == trip_id)
            for base, limit in self.scopes
        )

    def trip_limits(self, scope: str) -> set[str] | None:
        """The trips a scope is limited to, or None when it holds for every trip."""
        limits = {limit for base, limit in self.scopes if base == scope}
        return None if None in limits else {limit for limit in limits if limit is not None}


class HeardCache(Generic[K, V]):
    """Entries that stay true until the changes feed's waker says they may not be.

    The cache trusts itself only while it hears about changes: the waker (live.PollingWaker on
    SQLite, pg_waker.PgNotifyWaker on PostgreSQL) calls `listening(True)` once it hears them,
    `forget()` when something was deleted or changed in any process, and `listening(False)` when
    it can no longer tell (the poll fails, the LISTEN connection is lost). Each call empties the
    cache; until `listening(True)`, nothing is cached and every request reads the database. A
    lookup that read the database before an invalidation does not store what it read
    (`generation`). So a change stops being served from the cache everywhere within the waker's
    delay.

    Only what was found is kept (what is missing is looked up every time), the cache holds at
    most `size` entries, and an entry lives `ttl` seconds at most.
    """

    def __init__(self, ttl: float = 10.0, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: dict[K, tuple[float, V]] = {}
        self.heard = False
        """Are changes heard right now? Nothing is cached while they are not."""
        self.generation = 0
        """Counts invalidations: `put` stores an entry only if none came since its lookup began."""

    def get(self, name: K) -> V | None:
        found = self._entries.get(name)
        if found is None:
            return None
        if found[0] < time.monotonic():
            self._entries.pop(name, None)
            return None
        return found[1]

    def put(self, name: K, value: V, generation: int) -> None:
        """Keep `value`, read from the database when `self.generation` was `generation`."""
        if not self.heard or generation != self.generation:
            return
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[name] = (time.monotonic() + self.ttl, value)

    def forget(self) -> None:
        """Something was deleted or changed somewhere: forget every entry (that is rare)."""
        self.generation += 1
        self._entries.clear()

    def listening(self, heard: bool) -> None:
        self.forget()
        self.heard = heard


class KeyCache(HeardCache[str, ApiKey]):
    """Known keys, by hash: most requests then authenticate without a query. The triggers on
    api_keys make every key deleted or changed heard (migration 0002), those on users a renamed
    user (migration 0007)."""


class MemberCache(HeardCache[tuple[str, str], Role]):
    """Trip members and their roles, by (trip id, user id), for the chat's access check: sending
    a message then reads nothing but its own transaction. The triggers on trip_members make every
    member removed or role changed heard in every process (migration 0006); the process that
    changes one through the API also forgets at once, after its answer is sent
    (routes/members.py), so the next request sees the change. A lookup that read the old
    membership before that cannot store it (`generation`)."""


class MeCache(HeardCache[str, bytes]):
    """The answer of `GET /me` as sent, by user id: the request then reads nothing. The API
    changes no user, group or group member (`trip keys create` and operators do, outside it);
    the triggers on users, groups and group_members make every such change heard in every
    process (migration 0007)."""


class HeardCaches:
    """Several caches kept honest by one waker: each hears what it hears (live.KeyListener)."""

    def __init__(self, *caches: HeardCache) -> None:
        self.caches = caches

    def listening(self, heard: bool) -> None:
        for cache in self.caches:
            cache.listening(heard)

    def forget(self) -> None:
        for cache in self.caches:
            cache.forget()


_touch_key = (
    update(t.api_keys)
    .where(t.api_keys.c.id == bindparam("key_id"))
    .where(or_(t.api_keys.c.last_used_at.is_(None), t.api_keys.c.last_used_at < bindparam("at")))
    .values(last_used_at=bindparam("at"))
)


class KeyUse:
    """Records when each key was last used (`api_keys.last_used_at`, shown by `trip keys list`)
    without a write per request: at most one write per key every `every` seconds in this process,
    in a background task that the request does not wait for. A write that fails is tried again at
    the key's next use; `close()` waits for the writes under way (at shutdown)."""

    def __init__(self, db: Database, every: float = 60.0, size: int = 10_000) -> None:
        self.db = db
        self.every = every
        self.size = size
        self._next: dict[str, float] = {}
        """Key id -> the monotonic time from which its next use is written."""
        self._writing: set[asyncio.Task] = set()

    def saw(self, key_id: str) -> None:
        now = time.monotonic()
        if self._next.get(key_id, 0.0) > now:
            return
        if len(self._next) >= self.size:
            self._next = {k: due for k, due in self._next.items() if due > now}
        self._next[key_id] = now + self.every
        task = asyncio.get_running_loop().create_task(self._write(key_id, now_ms()))
        self._writing.add(task)
        task.add_done_callback(self._writing.discard)

    async def _write(self, key_id: str, at: int) -> None:
        try:
            await self.db.fetch(_touch_key, {"key_id": key_id, "at": at}, write=True)
        except Exception as exc:  # not worth failing anything for: the next use tries again
            log.warning("could not record the use of key %s (%s: %s)", key_id, exc.__class__.__name__, exc)
            self._next.pop(key_id, None)

    async def close(self) -> None:
        while self._writing:
            await asyncio.gather(*self._writing, return_exceptions=True)


async def lookup_key(request: Request, digest: str) -> ApiKey:
    state = request.app.state
    cache: KeyCache | None = getattr(state, "key_cache", None)
    if cache is not None and (key := cache.get(digest)) is not None:
        _saw(state, key)
        return key
    generation = cache.generation if cache is not None else 0
    async with state.db.single() as conn:
        row = (
            await conn.execute(
                select(
                    t.api_keys.c.id,
                    t.api_keys.c.key_hash,
                    t.api_keys.c.scopes,
                    t.users.c.id,
                    t.users.c.name,
                    t.api_keys.c.name,
                )
                .join(t.users, t.users.c.id == t.api_keys.c.user_id)
                .where(t.api_keys.c.key_hash == digest)
            )
        ).first()
    if row is None or not hmac.compare_digest(row[1], digest):
        raise unauthorized()
    key = ApiKey(
        key_id=row[0],
        user_id=row[3],
        user_name=row[4],
        scopes=tuple(parse_scope(s) for s in row[2]),
        key_name=row[5],
    )
    if cache is not None:
        cache.put(digest, key, generation)
    _saw(state, key)
    return key


def _saw(state, key: ApiKey) -> None:
    usage: KeyUse | None = getattr(state, "key_use", None)
    if usage is not None:
        usage.saw(key.key_id)


class _DocumentedBearer(HTTPBearer):
    """Documents the scheme in OpenAPI (and lets schemathesis and /docs send the key) without
    parsing the header a second time: `authenticate` parses it, so that every failure is our
    401 envelope."""

    async def __call__(self, request: Request) -> None:  # type: ignore[override]  # answers nothing on purpose
        return None


bearer_scheme = _DocumentedBearer(
    auto_error=False,
    scheme_name="apiKey",
    bearerFormat="osk_...",
    description="An API key from `trip keys create`: `Authorization: Bearer osk_...`",
)


async def authenticate(request: Request, _: Annotated[object, Depends(bearer_scheme)] = None) -> ApiKey:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token.startswith(KEY_PREFIX):
        raise unauthorized()
    key = await lookup_key(request, hash_key(token))
    request.state.api_key = key
    limiter = getattr(request.app.state, "rate_limiter", None)
    if limiter is not None:
        await limiter.check(request, f"key:{key.key_id}")
    idempotency = getattr(request.app.state, "idempotency", None)
    if idempotency is not None:
        # After the rate limit, so a refused request claims nothing.
        await idempotency.begin(request, key.key_id)
    return key


CurrentKey = Annotated[ApiKey, Depends(authenticate)]


@dataclass(frozen=True)
class TripAccess:
    """A caller's access to one trip, checked: the trip row and the caller's role in it."""

    key: ApiKey
    trip: dict
    role: Role

    @property
    def trip_id(self) -> str:
        return self.trip["id"]


def require_scope(key: ApiKey, scope: str, trip_id: str | None = None) -> None:
    if not key.allows(scope, trip_id):
        where = f" on trip {trip_id}" if trip_id else ""
        raise forbidden(f"This key lacks the {scope} scope{where}")


_trip_and_role = (
    select(t.trips, t.trip_members.c.role.label("_caller_role"))
    .outerjoin(
        t.trip_members,
        and_(t.trip_members.c.trip_id == t.trips.c.id, t.trip_members.c.user_id == bindparam("user_id")),
    )
    .where(t.trips.c.id == bindparam("trip_id"))
)


def _may_look_up(key: ApiKey, trip_id: str, scope: str) -> None:
    """The checks of a trip's access made before the database is asked (their order is the
    answers' order: `load_trip_access` and `load_chat_access` must agree)."""
    if not key.allows(scope):
        raise forbidden(f"This key lacks the {scope} scope")
    if not plausible_id(trip_id):
        raise not_found("Trip")


def _member_role(key: ApiKey, trip_id: str, scope: str, role: str | None) -> Role:
    """The checks made once the trip is found: the caller's role in it (None: not a member)."""
    if not key.allows(scope, trip_id):
        raise forbidden(f"This key's {scope} scope is limited to another trip")
    if role is None:
        raise forbidden("You are not a member of this trip")
    return Role(role)


async def load_trip_access(
    request: Request, key: ApiKey, trip_id: str, scope: str, *, edit: bool
) -> TripAccess:
    _may_look_up(key, trip_id, scope)
    # One statement: the trip and the caller's role in it (NULL when not a member).
    found = await database_of(request).fetch(_trip_and_role, {"trip_id": trip_id, "user_id": key.user_id})
    if not found:
        raise not_found("Trip")
    trip = found[0]
    role = _member_role(key, trip_id, scope, trip.pop("_caller_role"))
    if edit and not role.may_edit:
        raise forbidden(f"A {role.value} may not change this trip")
    return TripAccess(key=key, trip=trip, role=role)


@dataclass(frozen=True)
class ChatAccess:
    """A caller's access to one trip's chat, checked: every member may read and write it, so no
    trip row is needed (the trip exists: it has the caller as a member)."""

    key: ApiKey
    trip_id: str
    role: Role


_role_in_trip = (
    select(t.trips.c.id, t.trip_members.c.role)
    .outerjoin(
        t.trip_members,
        and_(t.trip_members.c.trip_id == t.trips.c.id, t.trip_members.c.user_id == bindparam("user_id")),
    )
    .where(t.trips.c.id == bindparam("trip_id"))
)


async def load_chat_access(request: Request, key: ApiKey, trip_id: str, scope: str) -> ChatAccess:
    """`load_trip_access` for the chat (the same checks, so the same answers), with the
    caller's membership from `MemberCache` when this process knows it."""
    _may_look_up(key, trip_id, scope)
    cache: MemberCache | None = getattr(request.app.state, "member_cache", None)
    member = (trip_id, key.user_id)
    role: str | None = cache.get(member) if cache is not None else None
    if role is None:
        generation = cache.generation if cache is not None else 0
        found = await database_of(request).fetch(_role_in_trip, {"trip_id": trip_id, "user_id": key.user_id})
        if not found:
            raise not_found("Trip")
        role = found[0]["role"]
        if role is not None and cache is not None:
            cache.put(member, Role(role), generation)
    return ChatAccess(key=key, trip_id=trip_id, role=_member_role(key, trip_id, scope, role))


_key_scopes = select(t.api_keys.c.scopes).where(t.api_keys.c.id == bindparam("key_id"))


async def recheck_trip_access(
    request: Request, access: TripAccess, scope: str, *, edit: bool = False
) -> TripAccess:
    """`load_trip_access` once more, for a request held a while before it answers (a long poll):
    the key is read again from the database, past the cache (it may have been revoked since),
    then the trip and the caller's role in it. Raises as a fresh request would: 401, 404, 403."""
    found = await database_of(request).fetch(_key_scopes, {"key_id": access.key.key_id})
    if not found:
        raise unauthorized()
    key = replace(access.key, scopes=tuple(parse_scope(s) for s in found[0]["scopes"]))
    return await load_trip_access(request, key, access.trip_id, scope, edit=edit)


def trip_access(scope: Scope, *, edit: bool = False):
    async def dependency(request: Request, trip_id: str, key: CurrentKey) -> TripAccess:
        return await load_trip_access(request, key, trip_id, scope.value, edit=edit)

    return Depends(dependency)


TripReader = Annotated[TripAccess, trip_access(Scope.TRIPS_READ)]
TripEditor = Annotated[TripAccess, trip_access(Scope.TRIPS_WRITE, edit=True)]
TripWriter = Annotated[TripAccess, trip_access(Scope.TRIPS_WRITE)]
"""TripWriter checks only the scope; routes with their own role rules use it."""


def chat_access(scope: Scope):
    async def dependency(request: Request, trip_id: str, key: CurrentKey) -> ChatAccess:
        return await load_chat_access(request, key, trip_id, scope.value)

    return Depends(dependency)


ChatReader = Annotated[ChatAccess, chat_access(Scope.MESSAGES_READ)]
ChatWriter = Annotated[ChatAccess, chat_access(Scope.MESSAGES_WRITE)]


def ensure_role(access: TripAccess, allowed: bool, message: str) -> None:
    if not allowed:
        raise ApiError(403, "FORBIDDEN", message)
