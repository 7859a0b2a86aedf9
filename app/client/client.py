"""`TripClient`: the async Python SDK of the trip API, one method per endpoint.

    async with TripClient(api_key="osk_...", base_url="http://127.0.0.1:8000/api/v1") as client:
        me = await client.me()
        trip = await client.create_trip(group_id=me.default_group_id, title="Cotswolds",
                                        start_date="2026-07-15", end_date="2026-07-22")
        async for leg in client.iterate_legs(trip.id):
            print(leg.title)

Every POST, PATCH and DELETE gets an Idempotency-Key (pass `idempotency_key=` to choose it),
reused by the retries of that call; see `app.client.http` for the retry rules and
`app.client.errors` for what is raised.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Self, TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel

from app.client.capabilities import FEATURES, Capabilities, from_openapi
from app.client.errors import (
    APIError,
    NotSupportedError,
    SecretNotReplayedError,
    TripError,
    UnexpectedResponseError,
)
from app.client.http import DEFAULT_TIMEOUT, HTTPCore, RateLimitStatus, RetryPolicy
from app.client.wire import NOT_GIVEN, build_body, given, item_body, parse, segment
from app.domain import (
    ActionItem,
    ActionItemCreate,
    ActionItemPage,
    ActionItemUpdate,
    Activity,
    ActivityPage,
    Changes,
    Channel,
    ChannelCreate,
    ChannelPage,
    Commitment,
    CommitmentCreate,
    CommitmentPage,
    CommitmentUpdate,
    Itinerary,
    ItineraryDiff,
    ItinerarySummary,
    Leg,
    LegCreate,
    LegPage,
    LegUpdate,
    MapPin,
    MapPinCreate,
    MapPinPage,
    MapPinUpdate,
    Me,
    Member,
    MemberCreate,
    MemberPage,
    MemberUpdate,
    Message,
    MessageCreate,
    MessagePage,
    OpResult,
    Page,
    RevertResult,
    SshKey,
    SshKeyCreate,
    SshKeyPage,
    Trip,
    TripCreate,
    TripPage,
    TripUpdate,
)
from app.settings import environment

if TYPE_CHECKING:
    # Imported where used: the batch, sync, export and share models load on first use, not when
    # a client starts (see app/domain/__init__.py).
    from app.domain.bulk import BatchResult, ShareToken, SyncResult, TripExport

__version__ = "0.1.0"
DEFAULT_BASE_URL = "http://127.0.0.1:8000/api/v1"
API_PATH = "/api/v1"
CHANGES_WAIT_MAX = 30

T = TypeVar("T")


def resolve_base_url(base_url: str | None) -> str:
    """`base_url` or TRIP_API_URL or the local default. A bare origin (`http://host:8000`) means
    that server's API root, `/api/v1`; any other path is taken as the API root as it is."""
    url = (base_url or environment().api_url or DEFAULT_BASE_URL).strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"base_url must be an http(s) URL such as {DEFAULT_BASE_URL!r}, got {url!r}")
    if parts.path in ("", "/"):
        url = url.rstrip("/") + API_PATH
    return url.rstrip("/")


class BaseClient:
    """What both clients share: the HTTP core, the context manager, pagination."""

    def __init__(
        self,
        *,
        base_url: str | None,
        headers: Mapping[str, str],
        transport: httpx.AsyncBaseTransport | None,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
        deadline: float | None,
    ) -> None:
        self.base_url = resolve_base_url(base_url)
        self._http = HTTPCore(
            base_url=self.base_url,
            headers={"User-Agent": f"tripdeck-python/{__version__}", "Accept": "application/json", **headers},
            transport=transport,
            timeout=timeout,
            retry=RetryPolicy(max_retries=max_retries, deadline=deadline),
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def rate_limit(self) -> RateLimitStatus | None:
        """`X-RateLimit-Limit` / `-Remaining` of the last response that had them."""
        return self._http.rate_limit

    async def _get(
        self, model: type[BaseModel], path: str, params: Mapping[str, Any] | None = None, **options: Any
    ) -> Any:
        return parse(model, await self._http.request("GET", path, params=params, **options))

    @staticmethod
    async def _pages(fetch: Callable[[str | None], Awaitable[Page[T]]]) -> AsyncIterator[T]:
        """Items of page after page, fetched lazily: the next page is asked for only when the
        caller has consumed the current one."""
        cursor: str | None = None
        while True:
            page = await fetch(cursor)
            for item in page.items:
                yield item
            if not page.next_cursor:
                return
            if page.next_cursor == cursor:
                raise UnexpectedResponseError(f"the service returned the same cursor twice ({cursor!r})")
            cursor = page.next_cursor


class TripClient(BaseClient):
    """The authenticated client. `api_key` defaults to TRIP_API_KEY, `base_url` (the API root,
    including `/api/v1`) to TRIP_API_URL, then `http://127.0.0.1:8000/api/v1`.

    `transport` is any httpx async transport (`httpx.ASGITransport(app=...)` runs the service
    in-process). `timeout` is per attempt, in seconds (or an `httpx.Timeout`); `max_retries`
    bounds the retries of one call and `deadline` its total time, waits included.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = 3,
        deadline: float | None = 60.0,
    ) -> None:
        api_key = api_key or environment().api_key
        if not api_key:
            raise TripError(
                "No API key: pass api_key=... or set TRIP_API_KEY (create one with `trip keys create`)"
            )
        super().__init__(
            base_url=base_url,
            headers={"Authorization": f"Bearer {api_key}"},
            transport=transport,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
        )
        self._features: dict[str, bool] = {}
        """What this client has learned of the service's extensions (see `capabilities`)."""
        self._openapi_read = False

    # --- what the service offers beyond the seed's API -------------------------------------

    async def capabilities(self, trip_id: str | None = None) -> Capabilities:
        """Which of our extensions the service has, learned once per client (one client, one
        service URL): from its OpenAPI document when it publishes one (one request), else by
        asking each extension's route about `trip_id` (a trip the key may read; without one, the
        first of `list_trips`) with requests that change nothing. A 404 from an extension's
        route on a trip that exists teaches it too. A feature that could not be probed (no trip
        to ask about) is reported missing but asked again next time."""
        unknown = [
            feature for feature in FEATURES if feature not in self._features and feature != "share_links"
        ]
        if unknown and not self._openapi_read:
            self._openapi_read = True
            try:
                document = (await self._http.request("GET", "/openapi.json")).json()
            except (TripError, ValueError):
                document = None
            for feature, present in (from_openapi(document) or {}).items():
                self._features.setdefault(feature, present)
            unknown = [feature for feature in unknown if feature not in self._features]
        if unknown and trip_id is None:
            trips = (await self.list_trips(limit=1)).items
            trip_id = trips[0].id if trips else None
        if unknown and trip_id is not None:
            await self.get_trip(trip_id)  # it exists: a 404 below is the route's
            found = await asyncio.gather(*(self._route_present(feature, trip_id) for feature in unknown))
            for feature, present in zip(unknown, found, strict=False):
                self._features.setdefault(feature, present)
        known = {
            feature: self._features.get(feature, False) for feature in FEATURES if feature != "share_links"
        }
        return Capabilities(**known, share_links=self._features.get("share_links"))

    def supports(self, feature: str) -> bool | None:
        """What this client has learned so far of one feature of `FEATURES`, without a request:
        True, False, or None (not known yet: see `capabilities`)."""
        if feature not in FEATURES:
            raise ValueError(f"unknown feature {feature!r}; one of {', '.join(FEATURES)}")
        return self._features.get(feature)

    async def _route_present(self, feature: str, trip_id: str | None) -> bool:
        """Ask the feature's route (of a trip that exists) without changing anything: a write
        route gets an empty body, which a service that has it refuses as invalid."""
        base = f"/trips/{segment(trip_id)}" if trip_id is not None else ""
        method, path, params = {
            "changes": ("GET", f"{base}/changes", None),
            "itinerary": ("GET", f"{base}/itinerary/summary", None),
            "activity": ("GET", f"{base}/operations", {"limit": 1}),
            "ops": ("POST", f"{base}/ops", None),
            "member_writes": ("POST", f"{base}/members", None),
            "channel_writes": ("POST", f"{base}/channels", None),
            "ssh_keys": ("GET", "/me/ssh-keys", None),
        }[feature]
        try:
            await self._http.request(method, path, params=params, json={} if method == "POST" else None)
        except APIError as error:
            if error.status in (404, 405):
                return False
            if error.status >= 500:
                raise
            # Refused (400, 401, 403, 409...): the route is there, this key or body may not use it.
        return True

    async def _extension(
        self, feature: str, trip_id: str | None, call: Callable[[], Awaitable[T]], *, base_route: bool = True
    ) -> T:
        """`call()` of one of our extensions' routes. Once the service is known to lack the
        feature, raise NotSupportedError without a request; a 404 (or 405) teaches that when the
        trip exists (`base_route`: the call was the feature's own route, not one of a row of it,
        whose 404 may mean the row is gone: then the feature's route is asked)."""
        if self._features.get(feature) is False:
            raise NotSupportedError(feature, FEATURES[feature])
        try:
            result = await call()
        except APIError as error:
            if error.status not in (404, 405) or self._features.get(feature) is True:
                raise
            if trip_id is not None:
                try:
                    await self.get_trip(trip_id)
                except APIError:
                    raise error from None  # the trip is what is missing (or not yours)
            if base_route or not await self._route_present(feature, trip_id):
                self._features[feature] = False
                raise NotSupportedError(feature, FEATURES[feature], cause=error) from error
            raise
        self._features[feature] = True
        return result

    # --- generic shapes of the endpoints -------------------------------------------------

    async def _send(
        self,
        method: str,
        model: type[BaseModel] | None,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        response = await self._http.request(
            method, path, json=json, params=params, idempotency_key=idempotency_key
        )
        return None if model is None else parse(model, response)

    async def _list(
        self, page_model: type[BaseModel], path: str, limit: int | None, cursor: str | None
    ) -> Any:
        return await self._get(page_model, path, {"limit": limit, "cursor": cursor})

    # --- me --------------------------------------------------------------------------------

    async def me(self) -> Me:
        """The key's user, their groups and `default_group_id` (where new trips go)."""
        return await self._get(Me, "/me")

    # --- SSH keys (trip ssh) ----------------------------------------------------------------

    async def list_ssh_keys(self) -> list[SshKey]:
        """The SSH public keys that sign you in to `trip ssh`, oldest first."""
        page = await self._extension("ssh_keys", None, lambda: self._get(SshKeyPage, "/me/ssh-keys"))
        return page.items

    async def add_ssh_key(
        self, public_key: str, *, name: str | None = None, idempotency_key: str | None = None
    ) -> SshKey:
        """Register a public key (one `.pub` line). Needs a key with all four scopes; a key
        already registered to anyone raises ConflictError."""
        body = build_body(SshKeyCreate, None, given(public_key=public_key, name=name if name else NOT_GIVEN))
        return await self._extension(
            "ssh_keys",
            None,
            lambda: self._send(
                "POST",
                SshKey,
                "/me/ssh-keys",
                json=body,
                idempotency_key=idempotency_key,
            ),
        )

    async def delete_ssh_key(self, ssh_key_id: str, *, idempotency_key: str | None = None) -> None:
        await self._extension(
            "ssh_keys",
            None,
            lambda: self._send(
                "DELETE",
                None,
                f"/me/ssh-keys/{segment(ssh_key_id)}",
                idempotency_key=idempotency_key,
            ),
            base_route=False,
        )

    # --- trips -----------------------------------------------------------------------------

    async def list_trips(self, *, limit: int | None = None, cursor: str | None = None) -> Page[Trip]:
        return await self._list(TripPage, "/trips", limit, cursor)

    async def iterate_trips(self, *, page_size: int | None = None) -> AsyncIterator[Trip]:
        async for trip in self._pages(lambda cursor: self.list_trips(limit=page_size, cursor=cursor)):
            yield trip

    async def create_trip(
        self,
        body: TripCreate | Mapping[str, Any] | None = None,
        /,
        *,
        group_id: str = NOT_GIVEN,
        title: str = NOT_GIVEN,
        start_date: str = NOT_GIVEN,
        end_date: str = NOT_GIVEN,
        min_connection_minutes: int = NOT_GIVEN,
        idempotency_key: str | None = None,
    ) -> Trip:
        fields = given(
            group_id=group_id,
            title=title,
            start_date=start_date,
            end_date=end_date,
            min_connection_minutes=min_connection_minutes,
        )
        return await self._send(
            "POST", Trip, "/trips", json=build_body(TripCreate, body, fields), idempotency_key=idempotency_key
        )

    async def get_trip(self, trip_id: str) -> Trip:
        return await self._get(Trip, f"/trips/{segment(trip_id)}")

    async def update_trip(
        self,
        trip_id: str,
        body: TripUpdate | Mapping[str, Any] | None = None,
        /,
        *,
        title: str = NOT_GIVEN,
        start_date: str = NOT_GIVEN,
        end_date: str = NOT_GIVEN,
        status: str = NOT_GIVEN,
        min_connection_minutes: int = NOT_GIVEN,
        idempotency_key: str | None = None,
    ) -> Trip:
        """PATCH: only the fields given change. `min_connection_minutes` (0..1440, default 45) is
        the shortest connection between two flights that the itinerary summary accepts."""
        fields = given(
            title=title,
            start_date=start_date,
            end_date=end_date,
            status=status,
            min_connection_minutes=min_connection_minutes,
        )
        return await self._send(
            "PATCH",
            Trip,
            f"/trips/{segment(trip_id)}",
            json=build_body(TripUpdate, body, fields),
            idempotency_key=idempotency_key,
        )

    async def archive_trip(self, trip_id: str, *, idempotency_key: str | None = None) -> Trip:
        """DELETE /trips/{id}: the trip is kept, its status becomes `completed`."""
        return await self._send("DELETE", Trip, f"/trips/{segment(trip_id)}", idempotency_key=idempotency_key)

    async def export_trip(self, trip_id: str) -> TripExport:
        """The whole trip (legs, pins, checklist, commitments, members) in one consistent read."""
        from app.domain.bulk import TripExport

        return await self._get(TripExport, f"/trips/{segment(trip_id)}/export")

    async def sync_trip(
        self,
        trip_id: str,
        *,
        legs: Sequence[LegCreate | Mapping[str, Any]] | None = None,
        action_items: Sequence[ActionItemCreate | Mapping[str, Any]] | None = None,
        map_pins: Sequence[MapPinCreate | Mapping[str, Any]] | None = None,
        dry_run: bool = False,
        idempotency_key: str | None = None,
    ) -> SyncResult:
        """Diff-based snapshot import: items with a known clientRef diff-merge, others are
        created. `dry_run=True` reports the same counts and writes nothing."""
        body: dict[str, Any] = {}
        for name, items, model in (
            ("legs", legs, LegCreate),
            ("actionItems", action_items, ActionItemCreate),
            ("mapPins", map_pins, MapPinCreate),
        ):
            if items is not None:
                body[name] = [item_body(model, item) for item in items]
        from app.domain.bulk import SyncResult

        return await self._send(
            "POST",
            SyncResult,
            f"/trips/{segment(trip_id)}/sync",
            json=body,
            params={"dryRun": "true"} if dry_run else None,
            idempotency_key=idempotency_key,
        )

    # --- legs ------------------------------------------------------------------------------

    async def list_legs(
        self, trip_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[Leg]:
        """One page of legs, ordered by `order`."""
        return await self._list(LegPage, f"/trips/{segment(trip_id)}/legs", limit, cursor)

    async def iterate_legs(self, trip_id: str, *, page_size: int | None = None) -> AsyncIterator[Leg]:
        async for leg in self._pages(lambda cursor: self.list_legs(trip_id, limit=page_size, cursor=cursor)):
            yield leg

    async def create_leg(
        self,
        trip_id: str,
        body: LegCreate | Mapping[str, Any] | None = None,
        /,
        *,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> Leg:
        """Fields as in `LegCreate` (order, title, destination, start_date, end_date, timezone,
        accommodation, stays, flights, rental_car, client_ref). A known client_ref diff-merges."""
        return await self._send(
            "POST",
            Leg,
            f"/trips/{segment(trip_id)}/legs",
            json=build_body(LegCreate, body, fields),
            idempotency_key=idempotency_key,
        )

    async def get_leg(self, trip_id: str, leg_id: str) -> Leg:
        return await self._get(Leg, f"/trips/{segment(trip_id)}/legs/{segment(leg_id)}")

    async def update_leg(
        self,
        trip_id: str,
        leg_id: str,
        body: LegUpdate | Mapping[str, Any] | None = None,
        /,
        *,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> Leg:
        return await self._send(
            "PATCH",
            Leg,
            f"/trips/{segment(trip_id)}/legs/{segment(leg_id)}",
            json=build_body(LegUpdate, body, fields),
            idempotency_key=idempotency_key,
        )

    async def delete_leg(self, trip_id: str, leg_id: str, *, idempotency_key: str | None = None) -> None:
        await self._send(
            "DELETE",
            None,
            f"/trips/{segment(trip_id)}/legs/{segment(leg_id)}",
            idempotency_key=idempotency_key,
        )

    async def batch_upsert_legs(
        self,
        trip_id: str,
        items: Sequence[LegCreate | Mapping[str, Any]],
        *,
        idempotency_key: str | None = None,
    ) -> BatchResult:
        """Up to 50 legs; each succeeds or fails alone (see `BatchResult.results`)."""
        from app.domain.bulk import BatchResult

        return await self._send(
            "POST",
            BatchResult,
            f"/trips/{segment(trip_id)}/legs:batch",
            json={"items": [item_body(LegCreate, item) for item in items]},
            idempotency_key=idempotency_key,
        )

    # --- action items ----------------------------------------------------------------------

    async def list_action_items(
        self, trip_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[ActionItem]:
        return await self._list(ActionItemPage, f"/trips/{segment(trip_id)}/action-items", limit, cursor)

    async def iterate_action_items(
        self, trip_id: str, *, page_size: int | None = None
    ) -> AsyncIterator[ActionItem]:
        async for item in self._pages(
            lambda cursor: self.list_action_items(trip_id, limit=page_size, cursor=cursor)
        ):
            yield item

    async def create_action_item(
        self,
        trip_id: str,
        body: ActionItemCreate | Mapping[str, Any] | None = None,
        /,
        *,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> ActionItem:
        """Fields as in `ActionItemCreate` (text, urgency, owner, done, client_ref)."""
        return await self._send(
            "POST",
            ActionItem,
            f"/trips/{segment(trip_id)}/action-items",
            json=build_body(ActionItemCreate, body, fields),
            idempotency_key=idempotency_key,
        )

    async def get_action_item(self, trip_id: str, item_id: str) -> ActionItem:
        return await self._get(ActionItem, f"/trips/{segment(trip_id)}/action-items/{segment(item_id)}")

    async def update_action_item(
        self,
        trip_id: str,
        item_id: str,
        body: ActionItemUpdate | Mapping[str, Any] | None = None,
        /,
        *,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> ActionItem:
        return await self._send(
            "PATCH",
            ActionItem,
            f"/trips/{segment(trip_id)}/action-items/{segment(item_id)}",
            json=build_body(ActionItemUpdate, body, fields),
            idempotency_key=idempotency_key,
        )

    async def delete_action_item(
        self, trip_id: str, item_id: str, *, idempotency_key: str | None = None
    ) -> None:
        await self._send(
            "DELETE",
            None,
            f"/trips/{segment(trip_id)}/action-items/{segment(item_id)}",
            idempotency_key=idempotency_key,
        )

    async def batch_upsert_action_items(
        self,
        trip_id: str,
        items: Sequence[ActionItemCreate | Mapping[str, Any]],
        *,
        idempotency_key: str | None = None,
    ) -> BatchResult:
        from app.domain.bulk import BatchResult

        return await self._send(
            "POST",
            BatchResult,
            f"/trips/{segment(trip_id)}/action-items:batch",
            json={"items": [item_body(ActionItemCreate, item) for item in items]},
            idempotency_key=idempotency_key,
        )

    # --- commitments -----------------------------------------------------------------------

    async def list_commitments(
        self, trip_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[Commitment]:
        """One page of commitments, by start date then start time (all-day first)."""
        return await self._list(CommitmentPage, f"/trips/{segment(trip_id)}/commitments", limit, cursor)

    async def iterate_commitments(
        self, trip_id: str, *, page_size: int | None = None
    ) -> AsyncIterator[Commitment]:
        async for item in self._pages(
            lambda cursor: self.list_commitments(trip_id, limit=page_size, cursor=cursor)
        ):
            yield item

    async def create_commitment(
        self,
        trip_id: str,
        body: CommitmentCreate | Mapping[str, Any] | None = None,
        /,
        *,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> Commitment:
        """Fields as in `CommitmentCreate` (title, start_date, category, start_time, end_time,
        is_all_day, timezone, leg_id, map_pin_id, notes)."""
        return await self._send(
            "POST",
            Commitment,
            f"/trips/{segment(trip_id)}/commitments",
            json=build_body(CommitmentCreate, body, fields),
            idempotency_key=idempotency_key,
        )

    async def get_commitment(self, trip_id: str, commitment_id: str) -> Commitment:
        return await self._get(Commitment, f"/trips/{segment(trip_id)}/commitments/{segment(commitment_id)}")

    async def update_commitment(
        self,
        trip_id: str,
        commitment_id: str,
        body: CommitmentUpdate | Mapping[str, Any] | None = None,
        /,
        *,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> Commitment:
        return await self._send(
            "PATCH",
            Commitment,
            f"/trips/{segment(trip_id)}/commitments/{segment(commitment_id)}",
            json=build_body(CommitmentUpdate, body, fields),
            idempotency_key=idempotency_key,
        )

    async def delete_commitment(
        self, trip_id: str, commitment_id: str, *, idempotency_key: str | None = None
    ) -> None:
        await self._send(
            "DELETE",
            None,
            f"/trips/{segment(trip_id)}/commitments/{segment(commitment_id)}",
            idempotency_key=idempotency_key,
        )

    # --- map pins --------------------------------------------------------------------------

    async def list_map_pins(
        self, trip_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[MapPin]:
        return await self._list(MapPinPage, f"/trips/{segment(trip_id)}/map-pins", limit, cursor)

    async def iterate_map_pins(self, trip_id: str, *, page_size: int | None = None) -> AsyncIterator[MapPin]:
        async for pin in self._pages(
            lambda cursor: self.list_map_pins(trip_id, limit=page_size, cursor=cursor)
        ):
            yield pin

    async def create_map_pin(
        self,
        trip_id: str,
        body: MapPinCreate | Mapping[str, Any] | None = None,
        /,
        *,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> MapPin:
        """Fields as in `MapPinCreate` (name, lat, lng, category, notes, client_ref)."""
        return await self._send(
            "POST",
            MapPin,
            f"/trips/{segment(trip_id)}/map-pins",
            json=build_body(MapPinCreate, body, fields),
            idempotency_key=idempotency_key,
        )

    async def get_map_pin(self, trip_id: str, pin_id: str) -> MapPin:
        return await self._get(MapPin, f"/trips/{segment(trip_id)}/map-pins/{segment(pin_id)}")

    async def update_map_pin(
        self,
        trip_id: str,
        pin_id: str,
        body: MapPinUpdate | Mapping[str, Any] | None = None,
        /,
        *,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> MapPin:
        return await self._send(
            "PATCH",
            MapPin,
            f"/trips/{segment(trip_id)}/map-pins/{segment(pin_id)}",
            json=build_body(MapPinUpdate, body, fields),
            idempotency_key=idempotency_key,
        )

    async def delete_map_pin(self, trip_id: str, pin_id: str, *, idempotency_key: str | None = None) -> None:
        await self._send(
            "DELETE",
            None,
            f"/trips/{segment(trip_id)}/map-pins/{segment(pin_id)}",
            idempotency_key=idempotency_key,
        )

    async def batch_upsert_map_pins(
        self,
        trip_id: str,
        items: Sequence[MapPinCreate | Mapping[str, Any]],
        *,
        idempotency_key: str | None = None,
    ) -> BatchResult:
        from app.domain.bulk import BatchResult

        return await self._send(
            "POST",
            BatchResult,
            f"/trips/{segment(trip_id)}/map-pins:batch",
            json={"items": [item_body(MapPinCreate, item) for item in items]},
            idempotency_key=idempotency_key,
        )

    # --- channels and messages -------------------------------------------------------------

    async def list_channels(
        self, trip_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[Channel]:
        return await self._list(ChannelPage, f"/trips/{segment(trip_id)}/channels", limit, cursor)

    async def iterate_channels(self, trip_id: str, *, page_size: int | None = None) -> AsyncIterator[Channel]:
        async for channel in self._pages(
            lambda cursor: self.list_channels(trip_id, limit=page_size, cursor=cursor)
        ):
            yield channel

    async def create_channel(self, trip_id: str, name: str, *, idempotency_key: str | None = None) -> Channel:
        body = build_body(ChannelCreate, None, {"name": name})
        return await self._extension(
            "channel_writes",
            trip_id,
            lambda: self._send(
                "POST",
                Channel,
                f"/trips/{segment(trip_id)}/channels",
                json=body,
                idempotency_key=idempotency_key,
            ),
        )

    async def list_messages(
        self, trip_id: str, channel_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[Message]:
        """One page of a channel's messages, newest first; the cursor walks back in time."""
        return await self._list(
            MessagePage, f"/trips/{segment(trip_id)}/channels/{segment(channel_id)}/messages", limit, cursor
        )

    async def iterate_messages(
        self, trip_id: str, channel_id: str, *, page_size: int | None = None
    ) -> AsyncIterator[Message]:
        """Newest first, back to the channel's first message."""
        async for message in self._pages(
            lambda cursor: self.list_messages(trip_id, channel_id, limit=page_size, cursor=cursor)
        ):
            yield message

    async def send_message(
        self,
        trip_id: str,
        channel_id: str,
        content: str,
        parent_id: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> Message:
        fields: dict[str, Any] = {"content": content}
        if parent_id is not None:
            fields["parent_id"] = parent_id
        return await self._send(
            "POST",
            Message,
            f"/trips/{segment(trip_id)}/channels/{segment(channel_id)}/messages",
            json=build_body(MessageCreate, None, fields),
            idempotency_key=idempotency_key,
        )

    # --- members ---------------------------------------------------------------------------

    async def list_members(
        self, trip_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[Member]:
        return await self._list(MemberPage, f"/trips/{segment(trip_id)}/members", limit, cursor)

    async def iterate_members(self, trip_id: str, *, page_size: int | None = None) -> AsyncIterator[Member]:
        async for member in self._pages(
            lambda cursor: self.list_members(trip_id, limit=page_size, cursor=cursor)
        ):
            yield member

    async def add_member(
        self, trip_id: str, email: str, role: str, *, idempotency_key: str | None = None
    ) -> Member:
        """Add an existing user (by email) with a role: owner, planner, editor or viewer."""
        body = build_body(MemberCreate, None, {"email": email, "role": role})
        return await self._extension(
            "member_writes",
            trip_id,
            lambda: self._send(
                "POST",
                Member,
                f"/trips/{segment(trip_id)}/members",
                json=body,
                idempotency_key=idempotency_key,
            ),
        )

    async def update_member(
        self, trip_id: str, user_id: str, role: str, *, idempotency_key: str | None = None
    ) -> Member:
        body = build_body(MemberUpdate, None, {"role": role})
        return await self._extension(
            "member_writes",
            trip_id,
            lambda: self._send(
                "PATCH",
                Member,
                f"/trips/{segment(trip_id)}/members/{segment(user_id)}",
                json=body,
                idempotency_key=idempotency_key,
            ),
            base_route=False,
        )

    async def remove_member(self, trip_id: str, user_id: str, *, idempotency_key: str | None = None) -> None:
        await self._extension(
            "member_writes",
            trip_id,
            lambda: self._send(
                "DELETE",
                None,
                f"/trips/{segment(trip_id)}/members/{segment(user_id)}",
                idempotency_key=idempotency_key,
            ),
            base_route=False,
        )

    # --- share tokens ----------------------------------------------------------------------

    async def create_share_token(self, trip_id: str, *, idempotency_key: str | None = None) -> ShareToken:
        """A new read-only share token (it replaces the trip's previous one). Read it with
        `SharedTripClient(token)`.

        The service never replays a token: when the answer to the first try was lost and the
        retry is told so (SecretNotReplayedError), a key the SDK chose is dropped and one new
        token is made, which replaces the lost one; a key you chose raises the error."""
        from app.domain.bulk import ShareToken

        path = f"/trips/{segment(trip_id)}/share-token"

        async def create() -> ShareToken:
            try:
                return await self._send("POST", ShareToken, path, idempotency_key=idempotency_key)
            except SecretNotReplayedError:
                if idempotency_key is not None:
                    raise
                return await self._send("POST", ShareToken, path)

        return await self._extension("share_links", trip_id, create)

    async def revoke_share_token(self, trip_id: str, *, idempotency_key: str | None = None) -> None:
        await self._extension(
            "share_links",
            trip_id,
            lambda: self._send(
                "DELETE", None, f"/trips/{segment(trip_id)}/share-token", idempotency_key=idempotency_key
            ),
        )

    # --- itinerary, operations, live changes ----------------------------------------------

    async def get_itinerary(self, trip_id: str) -> Itinerary:
        """Every event of the trip (commitments, flights, check-ins, car pickups) in time order."""
        return await self._extension(
            "itinerary", trip_id, lambda: self._get(Itinerary, f"/trips/{segment(trip_id)}/itinerary")
        )

    async def get_itinerary_diff(self, trip_id: str, since_revision: int) -> ItineraryDiff:
        return await self._extension(
            "itinerary",
            trip_id,
            lambda: self._get(
                ItineraryDiff, f"/trips/{segment(trip_id)}/itinerary/diff", {"since_revision": since_revision}
            ),
        )

    async def get_itinerary_summary(self, trip_id: str) -> ItinerarySummary:
        return await self._extension(
            "itinerary",
            trip_id,
            lambda: self._get(ItinerarySummary, f"/trips/{segment(trip_id)}/itinerary/summary"),
        )

    async def apply_op(
        self,
        trip_id: str,
        *,
        base_revision: int,
        type: str,
        payload: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> OpResult:
        """One revision-checked timeline operation. A stale `base_revision` raises
        `StaleRevisionError` (re-read, re-apply, retry); an op the timeline refuses raises
        `OperationRejectedError`."""
        body = {"base_revision": base_revision, "type": type, "payload": dict(payload or {})}
        return await self._extension(
            "ops",
            trip_id,
            lambda: self._send(
                "POST", OpResult, f"/trips/{segment(trip_id)}/ops", json=body, idempotency_key=idempotency_key
            ),
        )

    # --- activity and revert ---------------------------------------------------------------

    async def list_operations(
        self, trip_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[Activity]:
        """One page of the trip's activity feed, newest first: who changed what (`summary`, one
        sentence) and each changed field's before and after."""
        return await self._extension(
            "activity",
            trip_id,
            lambda: self._list(ActivityPage, f"/trips/{segment(trip_id)}/operations", limit, cursor),
        )

    async def iterate_operations(
        self, trip_id: str, *, page_size: int | None = None
    ) -> AsyncIterator[Activity]:
        """The whole activity feed, newest first, a page at a time as you consume it."""
        async for operation in self._pages(
            lambda cursor: self.list_operations(trip_id, limit=page_size, cursor=cursor)
        ):
            yield operation

    async def revert_operation(
        self, trip_id: str, op_id: str, *, base_revision: int, idempotency_key: str | None = None
    ) -> RevertResult:
        """Undo one operation as a new operation (revert that one to redo). Raises
        `StaleRevisionError` when the trip moved past `base_revision`, `RevertConflictError`
        (its `conflicting_operations`) when a later change touched the same fields."""
        return await self._extension(
            "activity",
            trip_id,
            lambda: self._send(
                "POST",
                RevertResult,
                f"/trips/{segment(trip_id)}/operations/{segment(op_id)}/revert",
                json={"base_revision": base_revision},
                idempotency_key=idempotency_key,
            ),
            base_route=False,
        )

    async def changes(self, trip_id: str, since: str | None = None, wait: float = 0) -> Changes:
        """What changed after cursor `since` (operations, and messages with messages:read).

        Without `since` it returns the current cursor and nothing else. With `wait` (seconds,
        0..30) the service holds the request until something changes; the read timeout and the
        deadline of this call are stretched by `wait` so a quiet long poll is not a timeout.
        """
        if not 0 <= wait <= CHANGES_WAIT_MAX:
            raise ValueError(f"wait must be between 0 and {CHANGES_WAIT_MAX} seconds")
        base = self._http.timeout
        read = None if base.read is None else base.read + wait  # None: the caller wants no timeout
        timeout = httpx.Timeout(connect=base.connect, read=read, write=base.write, pool=base.pool)
        params = {"since": since, "wait": _number(wait) if wait else None}
        return await self._extension(
            "changes",
            trip_id,
            lambda: self._get(
                Changes,
                f"/trips/{segment(trip_id)}/changes",
                params,
                timeout=timeout,
                extra_deadline=float(wait),
            ),
        )

    async def watch_changes(
        self, trip_id: str, since: str | None = None, *, wait: float = 25
    ) -> AsyncIterator[Changes]:
        """Long-poll `changes` forever, yielding each answer that brings news (operations or
        messages) and following its cursor. Without `since` it starts from now. Stop it by
        leaving the `async for` (or cancelling the task that runs it)."""
        cursor = since if since is not None else (await self.changes(trip_id)).cursor
        while True:
            news = await self.changes(trip_id, since=cursor, wait=wait)
            cursor = news.cursor
            if news.operations or news.messages:
                yield news


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


__all__ = ["DEFAULT_BASE_URL", "BaseClient", "TripClient", "resolve_base_url"]
