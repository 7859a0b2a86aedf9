"""The polling pace of a view on a service without the changes feed (app/tui/polling.py)."""

from __future__ import annotations

from app.client import RateLimitStatus
from app.tui.polling import PER_MINUTE, Poller, freshness, tick_seconds


def test_the_pace_stays_inside_the_seeds_limit_with_room_for_writes():
    assert 60 / tick_seconds(None) == PER_MINUTE < 20
    assert 60 / tick_seconds(RateLimitStatus(60, 59)) == 15
    assert 60 / tick_seconds(RateLimitStatus(20, 19)) == 5  # a quarter of a smaller limit
    # The key's window half used (another client, a burst of writes): half the pace, then a quarter.
    assert tick_seconds(RateLimitStatus(60, 25)) == 2 * tick_seconds(RateLimitStatus(60, 59))
    assert tick_seconds(RateLimitStatus(60, 5)) == 4 * tick_seconds(RateLimitStatus(60, 59))


def test_the_open_channel_every_other_turn_then_the_trip_and_the_other_channels():
    poller = Poller(
        None,
        "trip",
        1,
        channels=lambda: ["general", "food", "cars"],
        open_channel=lambda: "general",
        on_changes=print,
        on_offline=print,
        on_online=print,
    )  # type: ignore[arg-type]
    turns = [poller.next_request() for _ in range(8)]
    assert turns[0::2] == [("chat", "general")] * 4
    assert [what for what, _ in turns[1::2]] == ["trip", "head", "trip", "head"]
    assert {channel for what, channel in turns if what == "head"} == {"food", "cars"}


def test_freshness_moves_in_steps_of_five_seconds():
    assert [freshness(s) for s in (None, 0, 4.9, 8, 12, 59, 61, 180)] == [
        "not updated yet",
        "updated just now",
        "updated just now",
        "updated 5 s ago",
        "updated 10 s ago",
        "updated 55 s ago",
        "updated 1 min ago",
        "updated 3 min ago",
    ]


async def test_the_view_is_as_fresh_as_its_least_recently_read_part(server, alice, trip):
    import httpx

    from app.client import TripClient
    from tests.conftest import BASE

    now = [100.0]
    async with TripClient(
        api_key=alice.key, base_url=BASE, transport=httpx.ASGITransport(app=server.app)
    ) as client:
        channel = (await client.list_channels(trip["_id"])).items[0].id
        poller = Poller(
            client,
            trip["_id"],
            trip["revision"],
            channels=lambda: [channel, "other"],
            open_channel=lambda: channel,
            on_changes=print,
            on_offline=print,
            on_online=print,
            clock=lambda: now[0],
        )
        assert poller.updated_at is None
        poller.checked = {"chat": 90.0, "trip": 80.0}
        assert poller.updated_at == 80.0
        assert await poller._poll_trip() is None  # same revision: nothing new
        await client.send_message(trip["_id"], channel, "one")
        assert await poller._poll_channel(channel, True) is None  # the first look only learns what is there
        await client.send_message(trip["_id"], channel, "two")
        news = await poller._poll_channel(channel, True)
        assert [message.content for message in news.messages] == ["two"]


async def test_a_429_waits_as_long_as_the_service_asks_and_is_not_an_outage(tmp_path):
    import asyncio

    import httpx

    from app.client import TripClient
    from app.server.app import create_app
    from app.server.settings import Settings
    from app.server.storage.database import Database
    from tests.conftest import BASE, Server

    class Recording(httpx.AsyncBaseTransport):
        def __init__(self, app) -> None:
            self.inner = httpx.ASGITransport(app=app)
            self.answers: list[tuple[int, str | None]] = []

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await self.inner.handle_async_request(request)
            self.answers.append((response.status_code, response.headers.get("retry-after")))
            return response

    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'trip.db'}", rate_limit=4)
    db = Database(settings.database_url)
    app = create_app(settings, db)
    async with app.router.lifespan_context(app):
        _, key = await Server(app, db).user_key("alice@example.com", "Alice")
        transport = Recording(app)
        async with TripClient(api_key=key, base_url=BASE, transport=transport, max_retries=0) as client:
            me = await client.me()
            trip = await client.create_trip(
                group_id=me.default_group_id, title="T", start_date="2026-07-15", end_date="2026-07-16"
            )
            waits: list[float] = []
            offline: list[object] = []

            async def sleep(seconds: float) -> None:
                waits.append(seconds)
                if len(waits) > 4:
                    raise asyncio.CancelledError

            poller = Poller(
                client,
                trip.id,
                trip.revision,
                channels=lambda: [],
                open_channel=lambda: None,
                on_changes=print,
                on_offline=lambda *args: offline.append(args),
                on_online=print,
                sleep=sleep,
            )
            try:
                await poller.run()
            except asyncio.CancelledError:
                pass
    polls = transport.answers[2:]  # after /me and the new trip
    refused = [index for index, (status, _) in enumerate(polls) if status == 429]
    assert refused, polls
    first = refused[0]
    assert waits[first + 1] >= float(polls[first][1])  # as long as Retry-After says, at least
    assert offline == []  # "slow down" is not "the service is gone"


async def test_a_busy_channel_between_two_polls_loses_no_message(server, alice, trip):
    import httpx

    from app.client import TripClient
    from app.tui.polling import OPEN_CHANNEL_PAGE
    from tests.conftest import BASE

    async with TripClient(
        api_key=alice.key, base_url=BASE, transport=httpx.ASGITransport(app=server.app)
    ) as client:
        channel = (await client.list_channels(trip["_id"])).items[0].id
        poller = Poller(
            client,
            trip["_id"],
            trip["revision"],
            channels=lambda: [channel],
            open_channel=lambda: channel,
            on_changes=print,
            on_offline=print,
            on_online=print,
        )
        assert await poller._poll_channel(channel, True) is None
        sent = [f"m{i}" for i in range(2 * OPEN_CHANNEL_PAGE + 5)]  # more than two pages
        for content in sent:
            await client.send_message(trip["_id"], channel, content)
        news = await poller._poll_channel(channel, True)
        assert [message.content for message in news.messages] == sent  # oldest first, none missing
        assert await poller._poll_channel(channel, True) is None
