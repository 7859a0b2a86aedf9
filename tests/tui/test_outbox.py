"""The offline outbox: messages typed while the service is unreachable wait on disk, survive a
restart of the TUI and arrive exactly once, in order; a refused one stays visible to retry."""

from __future__ import annotations

import stat

from app.tui.outbox import Outbox
from app.tui.widgets.status import OutboxBar
from tests.conftest import new_trip
from tests.tui.conftest import wait_for
from tests.tui.test_trip_screen import messages_shown


async def server_messages(alice, trip_id: str, channel_id: str) -> list[str]:
    items = (await alice.http.get(f"/trips/{trip_id}/channels/{channel_id}/messages?limit=100")).json()["items"]
    return [message["content"] for message in reversed(items)]


async def test_three_messages_queued_offline_survive_a_restart_and_arrive_once(server, tui, alice, tmp_path):
    trip = await new_trip(alice)
    channel = (await alice.http.get(f"/trips/{trip['_id']}/channels")).json()["items"][0]["_id"]
    path = tmp_path / "outbox.jsonl"
    app, transport = tui(alice.key, trip_id=trip["_id"], outbox_path=path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.screen.data is not None, what="trip")
        transport.offline = True
        await pilot.press("5")
        for text in ["one", "two [b]three[/b]", "four"]:
            await pilot.press(*text, "enter")
        bar = app.screen.query_one(OutboxBar)
        await wait_for(pilot, lambda: len(app.outbox.items) == 3, what="three pending")
        assert bar.display and "pending" in str(bar.render())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [item.content for item in Outbox(path).items] == ["one", "two [b]three[/b]", "four"]
    assert await server_messages(alice, trip["_id"], channel) == []

    # Restarted and online: each is sent once, in order, with the key it got when typed.
    app, transport = tui(alice.key, trip_id=trip["_id"], outbox_path=path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: not app.outbox.items, what="the outbox to empty")
        await wait_for(pilot, lambda: messages_shown(app)[-3:] == ["one", "two [b]three[/b]", "four"], what="shown")
        assert not app.screen.query_one(OutboxBar).display
    assert await server_messages(alice, trip["_id"], channel) == ["one", "two [b]three[/b]", "four"]
    assert Outbox(path).items == []


async def test_a_resend_with_the_stored_key_does_not_post_twice(server, tui, alice, tmp_path):
    trip = await new_trip(alice)
    channel = (await alice.http.get(f"/trips/{trip['_id']}/channels")).json()["items"][0]["_id"]
    path = tmp_path / "outbox.jsonl"
    outbox = Outbox(path)
    item = outbox.add(trip["_id"], channel, "sent, but the answer was lost")
    # The first attempt reached the server; the TUI never heard back, so the item is still queued.
    await alice.http.post(f"/trips/{trip['_id']}/channels/{channel}/messages", json={"content": item.content},
                          headers={"Idempotency-Key": item.idempotency_key})
    app, _ = tui(alice.key, trip_id=trip["_id"], outbox_path=path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: not app.outbox.items, what="the outbox to empty")
    assert await server_messages(alice, trip["_id"], channel) == ["sent, but the answer was lost"]


async def test_a_refused_message_stays_with_its_error_and_can_be_discarded(server, tui, alice, tmp_path):
    trip = await new_trip(alice)
    path = tmp_path / "outbox.jsonl"
    Outbox(path).add(trip["_id"], "no-such-channel", "lost?")
    app, _ = tui(alice.key, trip_id=trip["_id"], outbox_path=path)
    async with app.run_test(size=(100, 24)) as pilot:
        await wait_for(pilot, lambda: app.outbox.items and app.outbox.items[0].error, what="the refusal")
        assert "NOT_FOUND" in app.outbox.items[0].error
        assert "NOT SENT" in str(app.screen.query_one(OutboxBar).render())
        await pilot.press("1", "R")  # retry: refused again, still kept
        await pilot.pause(0.3)
        await wait_for(pilot, lambda: app.outbox.items and app.outbox.items[0].error, what="refused again")
        await pilot.press("X", "y")
        await wait_for(pilot, lambda: not app.outbox.items, what="discarded")
    assert Outbox(path).items == []
