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
    poller = Poller(None, "trip", 1, channels=lambda: ["general", "food", "cars"], open_channel=lambda: "general",
                    on_changes=print, on_offline=print, on_online=print)  # type: ignore[arg-type]
    turns = [poller.next_request() for _ in range(8)]
    assert turns[0::2] == [("chat", "general")] * 4
    assert [what for what, _ in turns[1::2]] == ["trip", "head", "trip", "head"]
    assert {channel for what, channel in turns if what == "head"} == {"food", "cars"}


def test_freshness_moves_in_steps_of_five_seconds():
    assert [freshness(s) for s in (None, 0, 4.9, 8, 12, 59, 61, 180)] == [
        "not updated yet", "updated just now", "updated just now", "updated 5 s ago", "updated 10 s ago",
        "updated 55 s ago", "updated 1 min ago", "updated 3 min ago"]


async def test_the_view_is_as_fresh_as_its_least_recently_read_part(server, alice, trip):
    import httpx

    from app.client import TripClient
    from tests.conftest import BASE

    now = [100.0]
    async with TripClient(api_key=alice.key, base_url=BASE, transport=httpx.ASGITransport(app=server.app)) as client:
        channel = (await client.list_channels(trip["_id"])).items[0].id
        poller = Poller(client, trip["_id"], trip["revision"], channels=lambda: [channel, "other"],
                        open_channel=lambda: channel, on_changes=print, on_offline=print, on_online=print,
                        clock=lambda: now[0])
        assert poller.updated_at is None
        poller.checked = {"chat": 90.0, "trip": 80.0}
        assert poller.updated_at == 80.0
        assert await poller._poll_trip() is None  # same revision: nothing new
        await client.send_message(trip["_id"], channel, "one")
        assert await poller._poll_channel(channel, True) is None  # the first look only learns what is there
        await client.send_message(trip["_id"], channel, "two")
        news = await poller._poll_channel(channel, True)
        assert [message.content for message in news.messages] == ["two"]
