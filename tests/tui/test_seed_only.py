"""The TUI against a service of the seed's API only (tests/seed_only.py: our real app with every
extension answering 404): the trip opens and fills, chat works both ways by polling, edits and a
reorder land through plain REST, and the summary's conflicts are computed here (issue 23)."""

from __future__ import annotations

import pytest

from app.client import TripClient
from app.tui.app import TripdeckApp
from app.tui.clock import Clock
from app.tui.screens.trip import TripScreen
from app.tui.widgets.agenda import Agenda
from app.tui.widgets.channel_chat import ChannelChat
from app.tui.widgets.legs_timeline import LegsTimeline
from app.tui.widgets.status import TripHeader
from tests.conftest import BASE
from tests.seed_only import SeedOnly
from tests.tui.conftest import SwitchableTransport, wait_for


@pytest.fixture
def seed_tui(server, tmp_path):
    """`app, transport = seed_tui(key, trip_id=...)`: the TUI on the seed-only service."""
    seed_app = SeedOnly(server.app)

    def make(key: str, **options) -> tuple[TripdeckApp, SwitchableTransport]:
        transport = SwitchableTransport(seed_app)
        client = TripClient(api_key=key, base_url=BASE, transport=transport, max_retries=0)
        options.setdefault("clock", Clock.frozen("2026-07-16T10:30", "Europe/London"))
        options.setdefault("outbox_path", tmp_path / "data" / "outbox.jsonl")
        options.setdefault("log_path", tmp_path / "data" / "tripdeck.log")
        options.setdefault("poll_per_minute", 300)
        app = TripdeckApp(
            client=client, url=BASE, key=key, cursor_blink=False, reconnect_after=0.2, **options
        )
        return app, transport

    make.service = seed_app
    return make


def loaded(app) -> bool:
    return isinstance(app.screen, TripScreen) and app.screen.data is not None


def header(app) -> str:
    return str(app.screen.query_one(TripHeader).render())


async def add_leg(actor, trip_id: str, title: str, start: str, end: str, order: int) -> dict:
    response = await actor.http.post(
        f"/trips/{trip_id}/legs",
        json={
            "title": title,
            "destination": title,
            "startDate": start,
            "endDate": end,
            "timezone": "Europe/London",
            "order": order,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_the_trip_opens_and_fills_and_says_how_fresh_it_is(seed_tui, alice, trip):
    await add_leg(alice, trip["_id"], "Bath", "2026-07-15", "2026-07-18", 1)
    app, _ = seed_tui(alice.key, trip_id=trip["_id"])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: loaded(app), what="the trip to load")
        assert [leg.title for leg in app.screen.query_one(LegsTimeline).legs] == ["Bath"]
        await wait_for(
            pilot,
            lambda: "updated" in header(app),
            what="the freshness in the header",
            state=lambda: header(app),
        )
        assert "live" not in header(app)


def messages_shown(app) -> list[str]:
    state = app.screen.query_one(ChannelChat).active_state()
    return [message.content for message in state.history.items] if state else []


async def test_chat_both_ways_by_polling(seed_tui, alice, bob, trip):
    await alice.http.post(f"/trips/{trip['_id']}/members", json={"email": bob.email, "role": "editor"})
    channel = (await alice.http.get(f"/trips/{trip['_id']}/channels")).json()["items"][0]["_id"]
    await alice.http.post(f"/trips/{trip['_id']}/channels/{channel}/messages", json={"content": "first!"})
    app, transport = seed_tui(alice.key, trip_id=trip["_id"])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: messages_shown(app) == ["first!"], what="history")
        await pilot.press("5")
        await pilot.press(*"hello from a plain API", "enter")
        await wait_for(pilot, lambda: "hello from a plain API" in messages_shown(app), what="own message")
        page = (await alice.http.get(f"/trips/{trip['_id']}/channels/{channel}/messages")).json()["items"]
        assert page[0]["content"] == "hello from a plain API"
        await pilot.press("escape", "1")  # the chat out of sight: Bob's message is unread
        await bob.http.post(
            f"/trips/{trip['_id']}/channels/{channel}/messages", json={"content": "hi @Alice"}
        )
        await wait_for(
            pilot,
            lambda: "hi @Alice" in messages_shown(app),
            timeout=30,
            what="Bob's message, no key pressed",
        )
        assert app.screen.query_one(ChannelChat).unread_total == (1, 1)
        assert messages_shown(app).count("hello from a plain API") == 1
        assert not any(
            path.endswith("/changes") for path in transport.requests[-20:]
        )  # learned: not asked again


async def test_a_change_by_someone_else_reloads_the_lists(seed_tui, alice, bob, trip):
    await alice.http.post(f"/trips/{trip['_id']}/members", json={"email": bob.email, "role": "editor"})
    app, _ = seed_tui(alice.key, trip_id=trip["_id"])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: loaded(app) and app.screen.poller is not None, what="polling")
        await add_leg(bob, trip["_id"], "Oxford", "2026-07-18", "2026-07-20", 1)
        await wait_for(
            pilot,
            lambda: [leg.title for leg in app.screen.query_one(LegsTimeline).legs] == ["Oxford"],
            timeout=30,
            what="Bob's leg",
        )


async def test_reorder_and_edit_land_through_plain_rest(seed_tui, alice, trip):
    from tests.tui.test_editing import form_closed, form_opened, replace

    for order, title in enumerate(["A", "B", "C"], start=1):
        await add_leg(alice, trip["_id"], title, "2026-07-15", "2026-07-16", order)
    app, transport = seed_tui(alice.key, trip_id=trip["_id"])

    async def titles() -> list[str]:
        return [leg["title"] for leg in (await alice.http.get(f"/trips/{trip['_id']}/legs")).json()["items"]]

    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: loaded(app), what="the trip")
        screen = app.screen
        await pilot.press("1", "down", "K")  # B up
        await wait_for(
            pilot,
            lambda: [leg.title for leg in screen.query_one(LegsTimeline).legs] == ["B", "A", "C"],
            what="B first",
        )
        assert await titles() == ["B", "A", "C"]
        await pilot.press("J", "J")
        await wait_for(
            pilot,
            lambda: [leg.title for leg in screen.query_one(LegsTimeline).legs] == ["A", "C", "B"],
            what="B last",
        )
        await pilot.pause(0.5)
        assert await titles() == ["A", "C", "B"]
        assert (
            sum(1 for r in transport.requests if r.startswith("POST") and r.endswith("/ops")) == 1
        )  # learned once

        await form_opened(pilot, "home", "e")
        await replace(pilot, "title", "Bath")
        await pilot.press("enter")
        await form_closed(pilot)
        await wait_for(
            pilot,
            lambda: next(leg.title for leg in screen.query_one(LegsTimeline).legs) == "Bath",
            what="the edit",
        )
        assert (await titles())[0] == "Bath"


async def test_a_reorder_after_someone_moved_a_leg_writes_nothing(seed_tui, alice, trip):
    legs = [
        await add_leg(alice, trip["_id"], title, "2026-07-15", "2026-07-16", order)
        for order, title in enumerate(["A", "B"], start=1)
    ]
    app, _ = seed_tui(alice.key, trip_id=trip["_id"], poll_per_minute=1)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: loaded(app), what="the trip")
        await alice.http.patch(f"/trips/{trip['_id']}/legs/{legs[0]['_id']}", json={"order": 5})  # B A now
        await pilot.press("1", "down", "K")  # B up, on A B as shown
        await wait_for(
            pilot,
            lambda: [leg.title for leg in app.screen.query_one(LegsTimeline).legs] == ["B", "A"],
            what="their order shown",
        )
        legs_now = (await alice.http.get(f"/trips/{trip['_id']}/legs")).json()["items"]
        assert [(leg["title"], leg["order"]) for leg in legs_now] == [("B", 2), ("A", 5)]


async def test_what_the_service_lacks_is_not_offered_and_help_says_why(seed_tui, alice, trip):
    from app.tui.screens.modals import HelpScreen

    app, _ = seed_tui(alice.key, trip_id=trip["_id"])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(
            pilot, lambda: loaded(app) and app.client.supports("activity") is False, what="the probe"
        )
        screen = app.screen
        assert screen.check_action("activity", ()) is False and screen.check_action("undo", ()) is False
        screen.active = 5
        assert screen.check_action("new_channel", ()) is False
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        rows = dict(app.screen.sections)["Not on this service"]
        assert ("a u", "this service does not support the activity feed and undo", "") in rows
        assert any("share links" in why for _, why, _ in rows)
        await pilot.press("escape")
        assert "SSH keys" not in [command.title for command in app.get_system_commands(app.screen)]
        from app.tui.screens.members import MembersScreen

        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MembersScreen), what="the members")
        assert not any(app.screen.check_action(action, ()) for action in ("add", "change_role", "share"))


async def test_our_own_service_still_offers_everything(tui, alice, trip):
    app, _ = tui(alice.key, trip_id=trip["_id"])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: loaded(app) and app.screen.follower is not None, what="the live feed")
        assert app.screen.poller is None and "● live" in header(app)
        assert app.screen.check_action("activity", ()) is not False
        from app.tui.service_features import not_offered

        assert not_offered(app.client) == []
        assert "SSH keys" in [command.title for command in app.get_system_commands(app.screen)]


async def test_the_summary_pane_shows_conflicts_computed_here(seed_tui, alice, trip):
    leg = await add_leg(alice, trip["_id"], "Bath", "2026-07-15", "2026-07-18", 1)
    for title, time, end in (("Tea", "15:00", "16:00"), ("Spa", "15:30", "17:00")):
        response = await alice.http.post(
            f"/trips/{trip['_id']}/commitments",
            json={
                "title": title,
                "startDate": "2026-07-16",
                "startTime": time,
                "endTime": end,
                "category": "activity",
                "legId": leg["_id"],
            },
        )
        assert response.status_code == 201
    app, _ = seed_tui(alice.key, trip_id=trip["_id"])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: loaded(app) and app.screen.data.summary is not None, what="the summary")
        screen = app.screen
        assert any(c.type == "overlapping_commitments" for c in screen.data.summary.conflicts)
        await pilot.press("4")
        await wait_for(
            pilot,
            lambda: "in conflict" in str(screen.query_one(Agenda).border_subtitle),
            what="the agenda's conflicts",
        )
        assert "conflict" in header(app)


async def test_a_message_in_another_channel_counts_as_unread(seed_tui, alice, bob, trip):
    await alice.http.post(f"/trips/{trip['_id']}/members", json={"email": bob.email, "role": "editor"})
    other = (await alice.http.post(f"/trips/{trip['_id']}/channels", json={"name": "food"})).json()["_id"]
    app, _ = seed_tui(alice.key, trip_id=trip["_id"])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(
            pilot,
            lambda: loaded(app) and app.screen.poller is not None and other in app.screen.poller.seen,
            what="a first look at the other channel",
        )
        chat = app.screen.query_one(ChannelChat)
        assert chat.active != other and chat.unread_total == (0, 0)
        await bob.http.post(f"/trips/{trip['_id']}/channels/{other}/messages", json={"content": "tapas?"})
        await wait_for(
            pilot,
            lambda: chat.unread_total == (1, 0),
            timeout=30,
            what="the unread count",
            state=lambda: chat.unread_total,
        )


async def test_at_the_default_pace_another_members_message_arrives_within_30_seconds(
    seed_tui, alice, bob, trip
):
    await alice.http.post(f"/trips/{trip['_id']}/members", json={"email": bob.email, "role": "editor"})
    channel = (await alice.http.get(f"/trips/{trip['_id']}/channels")).json()["items"][0]["_id"]
    app, _ = seed_tui(alice.key, trip_id=trip["_id"], poll_per_minute=None)  # 15 a minute, as in use
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: loaded(app) and app.screen.poller is not None, what="polling")
        await bob.http.post(
            f"/trips/{trip['_id']}/channels/{channel}/messages", json={"content": "on my way"}
        )
        await wait_for(pilot, lambda: "on my way" in messages_shown(app), timeout=30, what="Bob's message")
        assert "updated" in header(app)
