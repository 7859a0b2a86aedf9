"""The TUI against the real server in-process: pick a trip, switch panes by key, read and send
messages, receive another member's message with no key press, go offline and come back."""

from __future__ import annotations

import datetime as dt

from app.client import TripClient
from app.demo import story
from app.demo.seed import seed
from app.tui.screens.picker import TripPickerScreen
from app.tui.screens.trip import TripScreen
from app.tui.widgets.agenda import Agenda
from app.tui.widgets.channel_chat import ChannelChat, ChatInput, MessageList
from app.tui.widgets.checklist import Checklist
from app.tui.widgets.legs_timeline import LegsTimeline
from app.tui.widgets.map_pins import MapPins
from app.tui.widgets.status import OfflineBanner
from tests.conftest import BASE, new_trip
from tests.tui.conftest import wait_for


async def seeded_demo(server) -> tuple[dict[str, str], str, dict[str, str]]:
    """The demo trip seeded through the SDK by its four members; returns keys, trip id, channels."""
    keys = {}
    for person in story.PEOPLE:
        _, keys[person.ref] = await server.user_key(person.email, person.name)
    clients = {
        ref: TripClient(
            api_key=key, base_url=BASE, transport=__import__("httpx").ASGITransport(app=server.app)
        )
        for ref, key in keys.items()
    }
    try:
        seeded = await seed(clients, dt.date(2026, 7, 10))
    finally:
        for client in clients.values():
            await client.aclose()
    return keys, seeded.trip_id, seeded.channels


def messages_shown(app) -> list[str]:
    chat = app.screen.query_one(ChannelChat)
    state = chat.active_state()
    return [message.content for message in state.history.items] if state else []


async def test_pick_a_trip_and_see_every_pane_filled(server, tui, alice):
    keys, trip_id, _ = await seeded_demo(server)
    await new_trip(alice, title="Someone else's trip")  # not a trip Sam may see
    app, _ = tui(keys["you"])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(
            pilot, lambda: isinstance(app.screen, TripPickerScreen) and app.screen.trips, what="trip list"
        )
        assert [trip.title for trip in app.screen.trips] == [story.TITLE]
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, TripScreen) and app.screen.data is not None, what="trip"
        )
        screen = app.screen
        assert screen.trip_id == trip_id
        assert [leg.title for leg in screen.query_one(LegsTimeline).legs] == [
            "Lisbon",
            "Seville",
            "Granada",
            "Marrakech",
        ]
        assert len(screen.query_one(MapPins).pins) == len(story.PINS)
        assert len(screen.query_one(Checklist).items) == len(story.ACTION_ITEMS)
        assert len(screen.query_one(Agenda).commitments) == len(story.COMMITMENTS)
        await wait_for(pilot, lambda: len(messages_shown(app)) > 0, what="chat history")
        assert messages_shown(app)[-1] == "@Sam did the travel insurance go through?"
        # The deliberate overlap is a conflict in the itinerary summary, marked in the agenda.
        await wait_for(pilot, lambda: screen.data.summary is not None, what="the itinerary summary")
        assert any(c.type == "overlapping_commitments" for c in screen.data.summary.conflicts)
        assert "in conflict" in str(screen.query_one(Agenda).border_subtitle)


async def test_switch_panes_by_key(server, tui, alice):
    trip = await new_trip(alice)
    app, _ = tui(alice.key, trip_id=trip["_id"])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(
            pilot, lambda: isinstance(app.screen, TripScreen) and app.screen.data is not None, what="trip"
        )
        screen = app.screen
        for key, pane in [("2", MapPins), ("3", Checklist), ("4", Agenda), ("1", LegsTimeline)]:
            await pilot.press(key)
            assert screen.query_one(pane).has_class("-visible")
            assert screen.query_one(pane).has_focus_within
            assert sum(p.display for p in screen.panes().values()) == 1  # one pane at a time at 80x24
        await pilot.press("tab")
        assert screen.active == 2
        await pilot.press("5")
        assert isinstance(app.focused, ChatInput)  # ready to type
        await pilot.press("3")  # typed, not a pane switch
        assert screen.active == 5 and app.focused.value == "3"
        await pilot.press("escape")
        assert isinstance(app.focused, MessageList)
        await pilot.press("3")
        assert screen.active == 3


async def test_read_and_send_a_message(server, tui, alice, bob):
    trip = await new_trip(alice)
    channel = (await alice.http.get(f"/trips/{trip['_id']}/channels")).json()["items"][0]["_id"]
    await alice.http.post(f"/trips/{trip['_id']}/channels/{channel}/messages", json={"content": "first!"})
    app, _ = tui(alice.key, trip_id=trip["_id"])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: messages_shown(app) == ["first!"], what="history")
        await pilot.press("5")
        await pilot.press(*"[b]hi[/b] \\o/", "enter")
        await wait_for(pilot, lambda: "[b]hi[/b] \\o/" in messages_shown(app), what="own message")
        page = (await alice.http.get(f"/trips/{trip['_id']}/channels/{channel}/messages")).json()["items"]
        assert page[0]["content"] == "[b]hi[/b] \\o/"
        await pilot.press("up")  # input history
        assert app.focused.value == "[b]hi[/b] \\o/"


async def test_a_message_from_another_member_arrives_without_a_key_press(server, tui, alice, bob):
    trip = await new_trip(alice)
    await alice.http.post(f"/trips/{trip['_id']}/members", json={"email": bob.email, "role": "editor"})
    channel = (await alice.http.get(f"/trips/{trip['_id']}/channels")).json()["items"][0]["_id"]
    app, transport = tui(alice.key, trip_id=trip["_id"])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(
            pilot, lambda: app.screen.data is not None and app.screen.follower is not None, what="live feed"
        )
        await pilot.pause(0.3)
        before = len(transport.requests)
        await pilot.pause(2.0)
        assert len(transport.requests) - before <= 1  # idle: one long poll held open, no busy polling
        await bob.http.post(
            f"/trips/{trip['_id']}/channels/{channel}/messages", json={"content": "hi @Alice, from Bob"}
        )
        await wait_for(pilot, lambda: "hi @Alice, from Bob" in messages_shown(app), what="Bob's message")
        chat = app.screen.query_one(ChannelChat)
        # Seen on the legs pane, not the chat: counted as unread and as a mention.
        assert chat.unread_total == (1, 1)
        await pilot.press("5")
        assert chat.unread_total == (0, 0)
        # Checklist changes arrive too.
        await bob.http.post(
            f"/trips/{trip['_id']}/action-items", json={"text": "Bob's new item", "urgency": "now"}
        )
        await wait_for(
            pilot,
            lambda: any(i.text == "Bob's new item" for i in app.screen.query_one(Checklist).items),
            what="checklist update",
        )


async def test_offline_banner_then_recovery_on_its_own(server, tui, alice, bob):
    trip = await new_trip(alice)
    await alice.http.post(f"/trips/{trip['_id']}/members", json={"email": bob.email, "role": "editor"})
    channel = (await alice.http.get(f"/trips/{trip['_id']}/channels")).json()["items"][0]["_id"]
    app, transport = tui(alice.key, trip_id=trip["_id"])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(
            pilot, lambda: app.screen.data is not None and app.screen.follower is not None, what="live feed"
        )
        banner = app.screen.query_one(OfflineBanner)
        assert not banner.display
        transport.offline = True
        # The poll in flight ends with this message; the next one finds the network down.
        await bob.http.post(f"/trips/{trip['_id']}/channels/{channel}/messages", json={"content": "before"})
        await wait_for(pilot, lambda: banner.display, what="offline banner")
        assert "OFFLINE" in str(banner.render())
        await bob.http.post(
            f"/trips/{trip['_id']}/channels/{channel}/messages", json={"content": "while you were away"}
        )
        transport.offline = False
        await wait_for(pilot, lambda: not banner.display, what="recovery")
        await wait_for(pilot, lambda: "while you were away" in messages_shown(app), what="missed message")


async def test_a_new_channel_appears_with_its_first_message(server, tui, alice, bob):
    trip = await new_trip(alice)
    await alice.http.post(f"/trips/{trip['_id']}/members", json={"email": bob.email, "role": "editor"})
    app, _ = tui(alice.key, trip_id=trip["_id"])
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(
            pilot, lambda: app.screen.data is not None and app.screen.follower is not None, what="live feed"
        )
        channel = (
            await bob.http.post(f"/trips/{trip['_id']}/channels", json={"name": "[red]random[/]"})
        ).json()
        await bob.http.post(
            f"/trips/{trip['_id']}/channels/{channel['_id']}/messages", json={"content": "new room"}
        )
        chat = app.screen.query_one(ChannelChat)
        await wait_for(
            pilot,
            lambda: chat.knows(channel["_id"]) and chat.states[channel["_id"]].unread == 1,
            what="the new channel with one unread message",
        )
        assert "[red]random[/]" in str(chat.query_one("#channel-list").options[1].prompt)


async def test_a_live_refresh_keeps_every_row_paged_in(server, tui, alice):
    """250 legs: paged in 100 at a time to the end, then someone renames one: the list is read
    again, all of it, not just its first 200 rows (which left K/J saying "scroll to the end")."""
    from app.tui.widgets.legs_timeline import LegsTimeline
    from app.tui.widgets.pane import RowList

    trip = await new_trip(alice)
    legs = [
        {
            "clientRef": f"day-{n}",
            "title": f"Day {n}",
            "startDate": "2026-07-16",
            "endDate": "2026-07-17",
            "order": 10 + n,
            "destination": "Porto",
            "timezone": "Europe/Lisbon",
        }
        for n in range(250)
    ]
    result = (await alice.http.post(f"/trips/{trip['_id']}/sync", json={"legs": legs})).json()
    assert result["legs"]["created"] == 250, result["legs"]["items"][:1]
    app, _ = tui(alice.key, trip_id=trip["_id"])
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.screen.data is not None, what="the trip")
        screen = app.screen
        row_list = screen.query_one(LegsTimeline).query_one(RowList)
        while not screen.data.legs.complete:
            row_list.focus()
            await pilot.press("end")
            await pilot.pause(0.2)
        total = len(screen.data.legs.items)
        assert total >= 250
        first = screen.data.legs.items[0]
        await alice.http.patch(f"/trips/{trip['_id']}/legs/{first.id}", json={"title": "Day zero"})
        await wait_for(pilot, lambda: screen.data.legs.items[0].title == "Day zero", what="the rename shown")
        assert len(screen.data.legs.items) == total and screen.data.legs.complete
        await pilot.press("J")
        await pilot.pause(0.2)
        assert not any("Scroll to the last leg" in str(n.message) for n in app._notifications)
