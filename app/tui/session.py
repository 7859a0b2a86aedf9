"""`TripSession`: one open trip without widgets: its data, loading it, paging its lists and
channels, the itinerary summary and the live follower. It reports by posting messages, which the
trip screen turns into what the panes show; its background work runs on the screen's workers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from textual.message import Message

from app.client import NotFoundError, SharedTripClient, TripClient, TripConnectionError, TripError
from app.domain.itinerary import Changes
from app.tui import loading, pending
from app.tui.activity import ActivityFeed
from app.tui.data import Paged, TripData
from app.tui.fixed import FixedTripClient
from app.tui.kinds import KINDS
from app.tui.live import SHARED_INTERVAL, Backoff, Follower, SharedWatcher, kinds_changed
from app.tui.notices import describe
from app.tui.outbox import Item, Outbox, PendingWrite
from app.tui.polling import PER_MINUTE, Poller


class Runner(Protocol):
    """Runs `work()` as a worker of the screen (so that its failure reaches the user). The work is
    a coroutine function, called when the worker starts: an exclusive worker replaced before it
    started leaves no coroutine that was never awaited."""

    def __call__(
        self, work: Callable[[], Awaitable[Any]], *, group: str, description: str, exclusive: bool = False
    ) -> object: ...


@dataclass
class Settings:
    """What the session takes from the app: how to reach the service and how often to look."""

    client: TripClient | FixedTripClient | None
    shared: SharedTripClient | None = None
    """Set: a read-only view of one trip through its share link."""
    outbox: Outbox | None = None
    reconnect_after: float = 1.0
    poll_per_minute: float = PER_MINUTE
    shared_interval: float = SHARED_INTERVAL
    take_preload: Callable[[str], asyncio.Task[tuple[TripData, str | None]] | None] = lambda trip_id: None
    take_answered_preload: Callable[[str], tuple[TripData, str | None] | None] = lambda trip_id: None
    send_outbox: Callable[[str], Awaitable[bool]] | None = None
    """Sends what waits in the outbox of a trip now and returns whether the service could be
    reached (the app's sender, which tells every screen what was sent)."""


class TripSession:
    @dataclass
    class Loaded(Message):
        data: TripData
        cursor: str | None

    @dataclass
    class Unavailable(Message):
        """Reading the trip failed before any answer: the screen says why where the trip would be."""

        error: BaseException

    @dataclass
    class Redraw(Message):
        """These parts changed: "trip" (the header) or a list's name."""

        kinds: frozenset[str]

    @dataclass
    class ChangesArrived(Message):
        changes: Changes

    @dataclass
    class ChannelsLoaded(Message):
        messages: list[Any]
        """Messages that arrived for a channel the chat did not know yet."""

    @dataclass
    class History(Message):
        channel_id: str
        page: Paged[Any]
        older: bool = False

    @dataclass
    class OlderFailed(Message):
        channel_id: str

    @dataclass
    class Polling(Message):
        """No changes feed on this service: the session polls, and says how fresh the view is."""

    @dataclass
    class FeaturesKnown(Message):
        """What the service offers of our extensions is known: which keys work may change."""

    @dataclass
    class WentOffline(Message):
        attempt: int
        retry_in: float
        reason: str | None = None
        """None: the service cannot be reached; else what it answered (a 403, a 500...)."""

    @dataclass
    class LinkEnded(Message):
        """The share link no longer works (revoked, or never valid): no retry can help, and
        each try would count against the address's failed attempts, so none is made."""

    @dataclass
    class CameBack(Message):
        reload: bool = True
        """False when what came back is the load itself: its answer is on its way already."""

    def __init__(
        self,
        trip_id: str,
        settings: Settings,
        *,
        post: Callable[[Message], object],
        run: Runner,
        open_channel: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.trip_id = trip_id
        self.settings = settings
        self.post = post
        self.run = run
        self.open_channel = open_channel
        """The channel the chat shows: loaded first, polled most."""
        client = settings.client
        self.live = not isinstance(client, FixedTripClient)
        """False for fixed data: nothing is loaded, followed or sent."""
        self.data: TripData | None = client.data if isinstance(client, FixedTripClient) else None
        self.online = True
        self.follower: Follower | None = None
        self.poller: Poller | None = None
        """A service without the changes feed: its plain endpoints polled (app/tui/polling.py)."""
        self.watcher: SharedWatcher | None = None
        self.link_ended = False
        """The share link no longer works: the view shows what it had, and asks no more."""
        self._stale: set[str] = set()
        self._loading_more: set[str] = set()
        self._summary_running = False
        self._summary_stale = False

    # --- what it talks to -----------------------------------------------------------------

    @property
    def read_only(self) -> bool:
        """Seen through a share link: nothing can be written."""
        return self.settings.shared is not None

    @property
    def may_edit(self) -> bool:
        """A viewer reads and chats only: the keys that change the plan are not offered."""
        data = self.data
        if data is None or data.me is None:
            return not self.read_only
        me = data.me.id
        role = next((member.role for member in data.members if member.user_id == me), None)
        return role is None or role.may_edit

    @property
    def client(self) -> TripClient:
        """The service's client (a live session only)."""
        client = self.settings.client
        if not isinstance(client, TripClient):
            raise RuntimeError("no trip service to talk to (fixed demo data)")
        return client

    @property
    def writer(self) -> TripClient | None:
        """Who takes the writes: None for fixed data (a save says there is no service)."""
        return self.client if self.live else None

    @property
    def outbox(self) -> Outbox | None:
        return self.settings.outbox if self.live and not self.read_only else None

    def outbox_items(self) -> list[Item]:
        outbox = self.outbox
        return outbox.of_trip(self.trip_id) if outbox is not None else []

    def overlaid(self, name: str) -> tuple[list[Any], dict[str, str]]:
        """The rows of `name` as they will be once the outbox has sent what waits, and a note per
        row a waiting write touches (see app/tui/pending.py)."""
        assert self.data is not None
        writes = [item for item in self.outbox_items() if isinstance(item, PendingWrite)]
        return pending.overlay(name, KINDS[name].paged(self.data).items, writes)

    def activity_feed(self) -> ActivityFeed:
        """The trip's changes as the activity screen lists them (fixed ones for fixed data)."""
        client = self.settings.client
        if isinstance(client, FixedTripClient):
            return ActivityFeed(None, self.trip_id, list(client.activity))
        return ActivityFeed(self.client, self.trip_id)

    def _offline(self, attempt: int, delay: float, error: BaseException) -> None:
        if self._link_ended(error):
            self.post(self.LinkEnded())
            return
        reason = None if isinstance(error, TripConnectionError) else describe(error)
        self.post(self.WentOffline(attempt, delay, reason))

    def _link_ended(self, error: BaseException) -> bool:
        """The share link is unknown to the service: revoked since, or mistyped."""
        return self.read_only and isinstance(error, NotFoundError)

    def _backoff(self) -> Backoff:
        return Backoff(initial=self.settings.reconnect_after)

    # --- loading ---------------------------------------------------------------------------

    def answered(self) -> tuple[TripData, str | None] | None:
        """The first screenful and the feed's cursor if the preload has answered already: shown
        before the first paint. Else None, and `load` fetches it."""
        return self.settings.take_answered_preload(self.trip_id) if self.live else None

    def load(self) -> None:
        if self.live:
            self.run(self._load, group="trip-load", exclusive=True, description="Loading the trip")

    async def _load(self) -> None:
        """Reads the trip; while the service cannot be reached (a TUI started before it, or a
        reload that met a lost connection) says so and tries again with backoff, on its own,
        until it answers."""
        backoff = self._backoff()
        while True:
            try:
                data, cursor = await self._read_trip()
            except TripError as error:
                # Unreachable, the key refused, the trip not found: said where the trip would
                # be, with the banner, and tried again with backoff (the key may be fixed, the
                # membership restored, the service restarted with the right database). Not a
                # share link the service does not know: no retry brings it back.
                if self._link_ended(error):
                    self.post(self.LinkEnded())
                    return
                delay = backoff.next_delay()
                self._offline(backoff.failures, delay, error)
                self.post(self.Unavailable(error))
                await asyncio.sleep(delay)
                continue
            if backoff.failures:
                self.post(self.CameBack(reload=False))
            self.post(self.Loaded(data, cursor))
            return

    async def _read_trip(self) -> tuple[TripData, str | None]:
        if self.settings.shared is not None:
            return await loading.load_shared(self.settings.shared), None
        preload = self.settings.take_preload(self.trip_id) if self.follower is None else None
        if preload is not None:
            return await preload
        return await loading.load_trip(
            self.client, self.trip_id, channel_id=self.open_channel(), with_cursor=self.follower is None
        )

    def arrived(self, data: TripData, cursor: str | None) -> None:
        """A fresh read of the trip: it replaces what was shown, and the live view starts."""
        if self.data is not None and data.summary is None:
            data.summary = self.data.summary  # keep the conflicts shown until fresh ones come
        self.data = data
        if self.settings.shared is not None:
            self.trip_id = data.trip.id
            if self.watcher is None:
                self.run(
                    partial(self._watch_shared, self.settings.shared, data.trip.revision),
                    group="changes",
                    exclusive=True,
                    description="Following the shared trip",
                )
        elif self.follower is None and cursor is not None:
            self.run(
                partial(self._follow, cursor),
                group="changes",
                exclusive=True,
                description="Following live changes",
            )
        elif self.follower is None and self.poller is None:
            self.run(
                partial(self._poll, data), group="changes", exclusive=True, description="Polling for changes"
            )

    # --- the summary -----------------------------------------------------------------------

    def load_summary(self) -> None:
        """Conflicts for the agenda, asked for after the panes are filled since the service may
        take a while on a huge trip. One request at a time: a change meanwhile asks again after."""
        if not self.live or self.read_only:
            return  # fixed data has its summary; a share link offers none
        if self._summary_running:
            self._summary_stale = True
            return
        self._summary_running = True
        self.run(self._fetch_summary, group="summary", description="Loading the itinerary summary")

    async def _fetch_summary(self) -> None:
        try:
            while True:
                self._summary_stale = False
                summary = await loading.load_summary(self.client, self.trip_id, self.data)
                if self.data is not None:
                    self.data.summary = summary
                    self.post(self.Redraw(frozenset({"trip", "legs", "pins", "commitments"})))
                if not self._summary_stale:
                    return
        finally:
            self._summary_running = False

    # --- paging ----------------------------------------------------------------------------

    def near_end(self, kind: str) -> None:
        """The list of `kind` scrolled near its last loaded row: the next page, once."""
        if self.data is None or not self.live or kind in self._loading_more:
            return
        paged: Paged[Any] = KINDS[kind].paged(self.data)
        if paged.next_cursor is None:
            return
        self._loading_more.add(kind)
        self.run(
            partial(self._load_more, kind, paged.next_cursor), group="more", description="Loading more rows"
        )

    async def _load_more(self, kind: str, cursor: str) -> None:
        try:
            page = await loading.load_page(self.client, self.trip_id, kind, cursor=cursor)
        finally:
            self._loading_more.discard(kind)
        if self.data is None:
            return
        paged: Paged[Any] = KINDS[kind].paged(self.data)
        if paged.next_cursor != cursor:
            return
        known = {row.id for row in paged.items}
        paged.items.extend(row for row in page.items if row.id not in known)
        paged.next_cursor = page.next_cursor
        self.post(self.Redraw(frozenset({kind})))

    def older(self, channel_id: str, cursor: str) -> None:
        if not self.live:
            self.post(self.OlderFailed(channel_id))
            return
        self.run(
            partial(self._older, channel_id, cursor), group="older", description="Loading older messages"
        )

    async def _older(self, channel_id: str, cursor: str) -> None:
        try:
            page = await loading.load_messages(self.client, self.trip_id, channel_id, cursor=cursor)
        except BaseException:
            self.post(self.OlderFailed(channel_id))
            raise
        self.post(self.History(channel_id, page, older=True))

    def open(self, channel_id: str) -> None:
        """The chat opened a channel: its newest page."""
        if self.live:
            self.run(
                partial(self._channel, channel_id),
                group="channel",
                exclusive=True,
                description="Loading the channel",
            )

    async def _channel(self, channel_id: str) -> None:
        page = await loading.load_messages(self.client, self.trip_id, channel_id)
        self.post(self.History(channel_id, page))

    def refresh_channels(self, messages: list[Any]) -> None:
        self.run(partial(self._channels, messages), group="channels", description="Loading the channels")

    async def _channels(self, messages: list[Any]) -> None:
        channels = (await self.client.list_channels(self.trip_id, limit=200)).items
        if self.data is not None:
            self.data.channels = list(channels)
        self.post(self.ChannelsLoaded(messages))

    # --- live ------------------------------------------------------------------------------

    async def _follow(self, cursor: str) -> None:
        self.follower = Follower(
            self.client,
            self.trip_id,
            on_changes=lambda changes: self._post(self.ChangesArrived(changes)),
            on_offline=self._offline,
            on_online=lambda: self._post(self.CameBack()),
            cursor=cursor,
            backoff=self._backoff(),
        )
        await self.follower.run()

    def _post(self, message: Message) -> None:
        self.post(message)

    async def _poll(self, data: TripData) -> None:
        """The service has no changes feed: poll its plain endpoints, and learn which of our
        other extensions it lacks, so that their keys are not offered (app/tui/polling.py)."""
        self.poller = poller = Poller(
            self.client,
            self.trip_id,
            data.trip.revision,
            channels=lambda: [channel.id for channel in self.data.channels] if self.data else [],
            open_channel=self.open_channel,
            on_changes=lambda changes: self._post(self.ChangesArrived(changes)),
            on_offline=self._offline,
            on_online=lambda: self._post(self.CameBack()),
            per_minute=self.settings.poll_per_minute,
            backoff=self._backoff(),
        )
        poller.checked = {"chat": poller.clock(), "trip": poller.clock()}  # as fresh as the load
        for channel_id, page in data.messages.items():
            poller.know(channel_id, page.items)
        self.post(self.Polling())
        try:
            await self.client.capabilities(self.trip_id)
        except TripError:
            pass  # the features stay unknown, so not offered; polling goes on
        self.post(self.FeaturesKnown())
        await poller.run()

    async def _watch_shared(self, shared: SharedTripClient, revision: int) -> None:
        self.watcher = SharedWatcher(
            shared,
            revision,
            on_changed=lambda revision: self.load(),
            on_offline=self._offline,
            on_online=lambda: self._post(self.CameBack()),
            interval=self.settings.shared_interval,
            backoff=self._backoff(),
        )
        await self.watcher.run()

    def operations_arrived(self, changes: Changes) -> None:
        """Someone changed the trip: re-read the lists the operations touched."""
        self.stale(kinds_changed([op.operation_type for op in changes.operations]) | {"trip"})

    def stale(self, kinds: set[str]) -> None:
        """These lists (and "trip") changed on the service: re-read them, once for a burst."""
        if not self.live:
            return
        self._stale |= kinds
        self.run(self._refresh_stale, group="refresh", exclusive=True, description="Refreshing")

    async def _refresh_stale(self) -> None:
        await asyncio.sleep(0.2)  # let a burst of operations arrive and refresh once
        kinds, self._stale = self._stale, set()
        try:
            await self._refresh(kinds)
        except BaseException:
            self._stale |= kinds
            raise

    async def _refresh(self, kinds: set[str]) -> None:
        data = self.data
        if data is None:
            return
        lists = [kind for kind in KINDS if kind in kinds]
        pages = await asyncio.gather(
            *(
                loading.reload_rows(self.client, self.trip_id, kind, len(getattr(data, kind).items))
                for kind in lists
            )
        )
        data.trip = await self.client.get_trip(self.trip_id)
        if self.poller is not None:
            self.poller.revision = data.trip.revision  # seen: not news for the next poll
        for kind, page in zip(lists, pages, strict=False):
            setattr(data, kind, page)
        self.post(self.Redraw(frozenset({"trip", "commitments", *lists})))
        self.load_summary()
