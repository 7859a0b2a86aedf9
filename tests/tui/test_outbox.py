"""The offline outbox: messages and item writes made while the service is unreachable wait on
disk, survive a restart of the TUI and arrive exactly once, in order; a refused one (or an edit
of a row someone changed since) stays visible to retry or discard."""

from __future__ import annotations

import json
import stat
import subprocess
import sys

import pytest

from app.tui.outbox import Outbox, Owner, PendingWrite, key_fingerprint
from app.tui.screens.trip import TripScreen
from app.tui.widgets.channel_chat import ChannelChat
from app.tui.widgets.checklist import Checklist
from app.tui.widgets.legs_timeline import LegsTimeline
from app.tui.widgets.pane import RowList
from app.tui.widgets.status import OfflineBanner, OutboxBar
from tests.cli_server import ROOT, api_server, child_env  # noqa: F401  (api_server is a fixture)
from tests.conftest import BASE, new_trip
from tests.tui.conftest import wait_for
from tests.tui.test_editing import form_closed, form_opened, open_trip, replace, rows
from tests.tui.test_trip_screen import messages_shown


async def server_messages(alice, trip_id: str, channel_id: str) -> list[str]:
    items = (await alice.http.get(f"/trips/{trip_id}/channels/{channel_id}/messages?limit=100")).json()[
        "items"
    ]
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
    assert [item.content for item in outbox_of(path, alice).items] == ["one", "two [b]three[/b]", "four"]
    assert await server_messages(alice, trip["_id"], channel) == []

    # Restarted and online: each is sent once, in order, with the key it got when typed.
    app, transport = tui(alice.key, trip_id=trip["_id"], outbox_path=path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: not app.outbox.items, what="the outbox to empty")
        await wait_for(
            pilot,
            lambda: messages_shown(app)[-3:] == ["one", "two [b]three[/b]", "four"],
            what="shown",
            state=lambda: [
                (m.content, m.creation_time, m.id)
                for m in app.screen.query_one(ChannelChat).active_state().history.items
            ],
        )
        assert not app.screen.query_one(OutboxBar).display
    assert await server_messages(alice, trip["_id"], channel) == ["one", "two [b]three[/b]", "four"]
    assert outbox_of(path, alice).items == []


async def test_a_resend_with_the_stored_key_does_not_post_twice(server, tui, alice, tmp_path):
    trip = await new_trip(alice)
    channel = (await alice.http.get(f"/trips/{trip['_id']}/channels")).json()["items"][0]["_id"]
    path = tmp_path / "outbox.jsonl"
    outbox = outbox_of(path, alice)
    item = outbox.add(trip["_id"], channel, "sent, but the answer was lost")
    # The first attempt reached the server; the TUI never heard back, so the item is still queued.
    await alice.http.post(
        f"/trips/{trip['_id']}/channels/{channel}/messages",
        json={"content": item.content},
        headers={"Idempotency-Key": item.idempotency_key},
    )
    app, _ = tui(alice.key, trip_id=trip["_id"], outbox_path=path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: not app.outbox.items, what="the outbox to empty")
    assert await server_messages(alice, trip["_id"], channel) == ["sent, but the answer was lost"]


async def test_a_refused_message_stays_with_its_error_and_can_be_discarded(server, tui, alice, tmp_path):
    trip = await new_trip(alice)
    path = tmp_path / "outbox.jsonl"
    outbox_of(path, alice).add(trip["_id"], "no-such-channel", "lost?")
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
    assert outbox_of(path, alice).items == []


# --- writes (creates, edits, deletes) in the same outbox ---------------------------------------


async def leg_of(alice, trip_id: str, title: str) -> dict:
    return (
        await alice.http.post(
            f"/trips/{trip_id}/legs",
            json={
                "order": 1,
                "title": title,
                "destination": title,
                "startDate": "2026-07-15",
                "endDate": "2026-07-16",
                "timezone": "Europe/Lisbon",
            },
        )
    ).json()


async def operations_since(alice, trip_id: str, revision: int) -> list[str]:
    diff = (await alice.http.get(f"/trips/{trip_id}/itinerary/diff?since_revision={revision}")).json()
    return [op["operation_type"] for op in diff["operations"]]


async def test_three_messages_and_an_edit_queued_offline_arrive_once_after_a_restart(
    server, tui, alice, tmp_path
):
    trip = await new_trip(alice)
    channel = (await alice.http.get(f"/trips/{trip['_id']}/channels")).json()["items"][0]["_id"]
    leg = await leg_of(alice, trip["_id"], "Lisbon")
    revision = (await alice.http.get(f"/trips/{trip['_id']}")).json()["revision"]
    path = tmp_path / "outbox.jsonl"
    app, transport = tui(alice.key, trip_id=trip["_id"], outbox_path=path)
    async with app.run_test(size=(100, 24)) as pilot:
        screen = await open_trip(pilot, app)
        transport.offline = True
        await pilot.press("5", *"one", "enter", *"two", "enter", "escape")
        await form_opened(pilot, "1", "e")
        await replace(pilot, "title", "Lisbon [b]old town[/b]")
        await pilot.press("enter")
        await form_closed(pilot)  # queued: the form closes, nothing is lost
        await pilot.press("5", *"three", "enter")
        await wait_for(pilot, lambda: len(app.outbox.items) == 4, what="four pending")
        bar = str(screen.query_one(OutboxBar).render())
        assert "edit leg Lisbon" in bar and "pending" in bar
    kept = outbox_of(path, alice).items
    assert [item.label for item in kept] == ["one", "two", "edit leg Lisbon", "three"]
    edit = kept[2]
    assert isinstance(edit, PendingWrite) and edit.body == {"title": "Lisbon [b]old town[/b]"}
    assert edit.base["title"] == "Lisbon" and edit.idempotency_key
    assert await server_messages(alice, trip["_id"], channel) == []

    # Restarted while still offline: the four are shown as pending and the offline banner says
    # so; then the service comes back and the TUI reconnects on its own, with no key pressed.
    app, transport = tui(alice.key, trip_id=trip["_id"], outbox_path=path)
    transport.offline = True
    async with app.run_test(size=(100, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TripScreen), what="the trip screen")
        assert "edit leg Lisbon" in str(app.screen.query_one(OutboxBar).render())
        banner = app.screen.query_one(OfflineBanner)
        await wait_for(pilot, lambda: banner.display, what="the offline banner")
        transport.offline = False
        await wait_for(pilot, lambda: not app.outbox.items, what="the outbox to empty")
        await wait_for(
            pilot,
            lambda: (
                [leg.title for leg in app.screen.query_one(LegsTimeline).legs] == ["Lisbon [b]old town[/b]"]
            ),
            what="the edited leg shown",
        )
        await wait_for(pilot, lambda: not banner.display, what="the banner gone")
    assert await server_messages(alice, trip["_id"], channel) == ["one", "two", "three"]
    stored = (await alice.http.get(f"/trips/{trip['_id']}/legs/{leg['_id']}")).json()
    assert stored["title"] == "Lisbon [b]old town[/b]"
    assert await operations_since(alice, trip["_id"], revision) == ["update_leg"]  # applied once
    assert outbox_of(path, alice).items == []


async def test_an_offline_create_whose_first_attempt_arrived_is_not_made_twice(server, tui, alice):
    trip = await new_trip(alice)
    app, transport = tui(alice.key, trip_id=trip["_id"])
    async with app.run_test(size=(100, 24)) as pilot:
        screen = await open_trip(pilot, app)
        await form_opened(pilot, "3", "n")
        await pilot.press(*"Buy adapters")
        transport.answers_lost = True  # the create reaches the server; its answer does not come back
        await pilot.press("enter")
        await form_closed(pilot)
        await wait_for(pilot, lambda: app.outbox.items, what="queued")
        (item,) = app.outbox.items
        assert (item.kind, item.action, item.label) == (
            "action_items",
            "create",
            "new action item Buy adapters",
        )
        assert len(await rows(alice, trip["_id"], "action-items")) == 1  # it did arrive
        transport.answers_lost = False
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: not app.outbox.items, what="the outbox to empty")
        await wait_for(
            pilot,
            lambda: [i.text for i in screen.query_one(Checklist).items] == ["Buy adapters"],
            what="the item shown",
        )
    assert transport.requests.count(f"POST /api/v1/trips/{trip['_id']}/action-items") >= 2
    assert [i["text"] for i in await rows(alice, trip["_id"], "action-items")] == ["Buy adapters"]


async def test_an_offline_edit_of_a_row_changed_meanwhile_fails_and_is_not_applied(
    server, tui, alice, tmp_path
):
    trip = await new_trip(alice)
    pin = (
        await alice.http.post(
            f"/trips/{trip['_id']}/map-pins", json={"name": "Belem", "lat": 38.69, "lng": -9.21}
        )
    ).json()
    app, transport = tui(alice.key, trip_id=trip["_id"])
    async with app.run_test(size=(100, 24)) as pilot:
        screen = await open_trip(pilot, app)
        transport.offline = True
        await form_opened(pilot, "2", "e")
        await replace(pilot, "name", "Belém tower")
        await pilot.press("enter")
        await form_closed(pilot)
        # Another client renames the same pin while this one is offline.
        await alice.http.patch(f"/trips/{trip['_id']}/map-pins/{pin['_id']}", json={"name": "Torre de Belém"})
        transport.offline = False
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: app.outbox.items and app.outbox.items[0].error, what="the refusal")
        assert "changed on the server since" in app.outbox.items[0].error
        assert "NOT SENT" in str(screen.query_one(OutboxBar).render())
        await pilot.press("R")  # retried: the row is still not what the edit started from
        await pilot.pause(0.3)
        await wait_for(pilot, lambda: app.outbox.items and app.outbox.items[0].error, what="refused again")
        await pilot.press("X")
        assert "edit map pin Belem" in app.screen.question.plain
        await pilot.press("y")
        await wait_for(pilot, lambda: not app.outbox.items, what="discarded")
    stored = (await alice.http.get(f"/trips/{trip['_id']}/map-pins/{pin['_id']}")).json()
    assert stored["name"] == "Torre de Belém"  # theirs: the queued rename was not sent over it


async def test_an_offline_edit_and_another_members_change_of_other_fields_both_count(server, tui, alice, bob):
    trip = await new_trip(alice)
    await alice.http.post(f"/trips/{trip['_id']}/members", json={"email": bob.email, "role": "editor"})
    item = (
        await alice.http.post(f"/trips/{trip['_id']}/action-items", json={"text": "Pack", "urgency": "now"})
    ).json()
    pin = (
        await alice.http.post(
            f"/trips/{trip['_id']}/map-pins", json={"name": "Belem", "lat": 38.69, "lng": -9.21}
        )
    ).json()
    app, transport = tui(alice.key, trip_id=trip["_id"])
    async with app.run_test(size=(100, 24)) as pilot:
        await open_trip(pilot, app)
        transport.offline = True
        await pilot.press("3", "space")  # tick "Pack" offline
        await form_opened(pilot, "2", "e")
        await replace(pilot, "name", "Belém tower")
        await pilot.press("enter")
        await form_closed(pilot)
        await wait_for(pilot, lambda: len(app.outbox.items) == 2, what="both queued")
        # Meanwhile Bob edits other fields of the same two rows.
        await bob.http.patch(
            f"/trips/{trip['_id']}/action-items/{item['_id']}", json={"text": "Pack the tent"}
        )
        await bob.http.patch(f"/trips/{trip['_id']}/map-pins/{pin['_id']}", json={"notes": "closed Mondays"})
        transport.offline = False
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: not app.outbox.items, what="the outbox to empty")
    stored_item = (await alice.http.get(f"/trips/{trip['_id']}/action-items/{item['_id']}")).json()
    assert (stored_item["text"], stored_item["done"]) == ("Pack the tent", True)
    stored_pin = (await alice.http.get(f"/trips/{trip['_id']}/map-pins/{pin['_id']}")).json()
    assert (stored_pin["name"], stored_pin["notes"]) == ("Belém tower", "closed Mondays")


async def test_offline_tick_and_delete_are_sent_and_a_delete_of_a_gone_row_counts_as_done(server, tui, alice):
    trip = await new_trip(alice)
    items = [
        (
            await alice.http.post(f"/trips/{trip['_id']}/action-items", json={"text": text, "urgency": "now"})
        ).json()
        for text in ("Pack", "Book taxi")
    ]
    app, transport = tui(alice.key, trip_id=trip["_id"])
    async with app.run_test(size=(100, 24)) as pilot:
        await open_trip(pilot, app)
        transport.offline = True
        await pilot.press("3", "space")  # tick the first
        await wait_for(pilot, lambda: len(app.outbox.items) == 1, what="the tick queued")
        await pilot.press("home", "d", "y")  # delete the other (the ticked one moved below it)
        await wait_for(pilot, lambda: len(app.outbox.items) == 2, what="the delete queued")
        assert [item.label for item in app.outbox.items] == ["tick Pack", "delete action item Book taxi"]
        await alice.http.delete(f"/trips/{trip['_id']}/action-items/{items[1]['_id']}")  # gone meanwhile
        transport.offline = False
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: not app.outbox.items, what="the outbox to empty")
    assert [(i["text"], i.get("done")) for i in await rows(alice, trip["_id"], "action-items")] == [
        ("Pack", True)
    ]


def test_lines_of_older_and_newer_versions_are_kept_as_they_are(tmp_path):
    """An item of an older version recorded no user: nobody's to send (it might be another
    member's), so it stays in the file untouched, like a line of a later version."""
    path = tmp_path / "outbox.jsonl"
    old = json.dumps(
        {
            "id": "a1",
            "trip_id": "t1",
            "channel_id": "c1",
            "content": "written by the first outbox",
            "idempotency_key": "outbox-old",
            "parent_id": None,
            "error": None,
        }
    )
    newer = json.dumps({"v": 99, "type": "teleport", "id": "z"})
    path.write_text(old + "\n" + newer + "\n" + '{"torn', encoding="utf-8")
    owner = Owner(BASE, "u1", "k1")
    outbox = Outbox(path, owner)
    assert outbox.items == []
    outbox.add_write(
        "t1", "legs", "update", "leg1", body={"title": "B"}, base={"title": "A"}, label="edit leg A"
    )
    again = Outbox(path, owner)
    assert [type(item).__name__ for item in again.items] == ["PendingWrite"]
    assert again.items[0].body == {"title": "B"} and again.items[0].base == {"title": "A"}
    assert path.read_text(encoding="utf-8").splitlines()[:2] == [old, newer]


async def test_an_offline_trip_edit_is_queued_then_sent(server, tui, alice):
    trip = await new_trip(alice)
    app, transport = tui(alice.key, trip_id=trip["_id"])
    async with app.run_test(size=(100, 24)) as pilot:
        screen = await open_trip(pilot, app)
        transport.offline = True
        await form_opened(pilot, "E")
        await replace(pilot, "title", "Cotswolds, longer")
        await pilot.press("enter")
        await form_closed(pilot)
        (item,) = app.outbox.items
        assert (item.kind, item.action, item.body) == ("trip", "update", {"title": "Cotswolds, longer"})
        transport.offline = False
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: not app.outbox.items, what="the outbox to empty")
        await wait_for(
            pilot, lambda: screen.data.trip.title == "Cotswolds, longer", what="the new title shown"
        )
    assert (await alice.http.get(f"/trips/{trip['_id']}")).json()["title"] == "Cotswolds, longer"


def row_texts(pane) -> list[str]:
    from rich.console import Console

    console = Console(width=120, color_system=None)
    row_list = pane.query_one(RowList)
    texts = []
    for option in row_list.options:
        with console.capture() as capture:
            console.print(option.prompt)
        texts.append(" ".join(capture.get().split()))
    return texts


async def trip_with_pack(alice, tui):
    """A trip whose checklist holds one open item, "Pack", and a TUI for it (not started)."""
    trip = await new_trip(alice)
    await alice.http.post(f"/trips/{trip['_id']}/action-items", json={"text": "Pack", "urgency": "now"})
    app, transport = tui(alice.key, trip_id=trip["_id"])
    return trip, app, transport


async def test_writes_made_offline_show_in_their_panes_as_not_sent_yet(server, tui, alice):
    trip, app, transport = await trip_with_pack(alice, tui)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_trip(pilot, app)
        checklist = screen.query_one(Checklist)
        transport.offline = True
        await pilot.press("3", "space")  # tick "Pack" offline
        await wait_for(
            pilot,
            lambda: any("☑ Pack" in t and "changed · not sent yet" in t for t in row_texts(checklist)),
            what="the tick shown, marked",
        )
        await form_opened(pilot, "n")
        await replace(pilot, "text", "Buy [b]sunscreen[/b]")
        await pilot.press("enter")
        await form_closed(pilot)
        await wait_for(
            pilot,
            lambda: any(
                "Buy [b]sunscreen[/b]" in t and "new · not sent yet" in t for t in row_texts(checklist)
            ),
            what="the new item listed, marked",
        )
        # A row the service does not know yet cannot be ticked, edited or deleted.
        new_row = next(i for i, t in enumerate(row_texts(checklist)) if "sunscreen" in t)
        checklist.query_one(RowList).highlighted = new_row
        await pilot.press("e")
        await pilot.pause(0.2)
        assert app.screen is screen
        assert any("Not sent yet" in str(n.message) for n in app._notifications)
        transport.offline = False
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: not app.outbox.items, what="the outbox to empty")
        await wait_for(
            pilot, lambda: not any("not sent yet" in t for t in row_texts(checklist)), what="marks gone"
        )
        assert any("Buy [b]sunscreen[/b]" in t for t in row_texts(checklist))
    stored = await rows(alice, trip["_id"], "action-items")
    assert sorted((i["text"], bool(i.get("done"))) for i in stored) == [
        ("Buy [b]sunscreen[/b]", False),
        ("Pack", True),
    ]


async def test_the_outbox_is_sent_on_its_own_after_an_outage_the_live_feed_never_saw(server, tui, alice):
    trip, app, transport = await trip_with_pack(alice, tui)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_trip(pilot, app)
        transport.offline = True  # between two polls of the feed, which never sees the outage
        await pilot.press("3", "space")
        await wait_for(pilot, lambda: len(app.outbox.items) == 1, what="the tick queued")
        banner = screen.query_one(OfflineBanner)
        await wait_for(
            pilot, lambda: banner.display and not screen.online, what="offline said, by the failed send"
        )
        transport.offline = False
        await wait_for(pilot, lambda: not app.outbox.items, what="the outbox sent without a key press")
        await wait_for(pilot, lambda: screen.online and not banner.display, what="online again")
    assert [(i["text"], i.get("done")) for i in await rows(alice, trip["_id"], "action-items")] == [
        ("Pack", True)
    ]


def outbox_of(path, actor) -> Outbox:
    """The outbox file as `actor`'s session on the test service sees it."""
    return Outbox(path, Owner(BASE, actor.user_id, key_fingerprint(actor.key)))


async def test_a_message_ann_queued_is_never_sent_or_shown_as_ben_and_waits_for_her(
    server, tui, alice, bob, tmp_path
):
    """One machine account, two members (the README's `j` join flow): Ann typed a message while
    the service was down and quit; Ben opens the trip with his key on the same account."""
    trip = await new_trip(alice)
    await alice.http.post(f"/trips/{trip['_id']}/members", json={"email": bob.email, "role": "editor"})
    channel = (await alice.http.get(f"/trips/{trip['_id']}/channels")).json()["items"][0]["_id"]
    path = tmp_path / "outbox.jsonl"
    anns = json.dumps(
        {
            "v": 2,
            "type": "message",
            "id": "ann1",
            "trip_id": trip["_id"],
            "channel_id": channel,
            "content": "from Ann",
            "idempotency_key": "outbox-ann",
            "parent_id": None,
            "error": None,
            "service": BASE,
            "user_id": alice.user_id,
            "key_id": key_fingerprint(alice.key),
        }
    )
    path.write_text(anns + "\n", encoding="utf-8")

    app, _ = tui(bob.key, trip_id=trip["_id"], outbox_path=path)
    async with app.run_test(size=(100, 24)) as pilot:
        await wait_for(pilot, lambda: app.screen.data is not None, what="Ben's trip")
        await pilot.press("5", *"from Ben", "enter")
        await wait_for(pilot, lambda: "from Ben" in messages_shown(app), what="Ben's message")
        await pilot.pause(0.5)
        assert app.outbox.items == [] and not app.screen.query_one(OutboxBar).display
        assert "from Ann" not in messages_shown(app)
    assert await server_messages(alice, trip["_id"], channel) == ["from Ben"]
    assert path.read_text(encoding="utf-8").splitlines() == [anns]  # untouched

    app, _ = tui(alice.key, trip_id=trip["_id"], outbox_path=path)
    async with app.run_test(size=(100, 24)) as pilot:
        await wait_for(pilot, lambda: outbox_of(path, alice).items == [], what="Ann's message sent")
    items = (await alice.http.get(f"/trips/{trip['_id']}/channels/{channel}/messages?limit=10")).json()[
        "items"
    ]
    assert [(m["content"], m["authorId"]) for m in reversed(items)] == [
        ("from Ben", bob.user_id),
        ("from Ann", alice.user_id),
    ]


def test_an_outbox_shows_only_its_users_items_on_its_service(tmp_path):
    path = tmp_path / "outbox.jsonl"
    Outbox(path, Owner(BASE, "u2", "k2")).add("t1", "c1", "someone else's")
    outbox = Outbox(path, Owner(BASE, "u1", "k1"))
    assert outbox.items == []
    outbox.add("t1", "c1", "mine")
    assert [item.content for item in Outbox(path, Owner(BASE, "u1")).items] == ["mine"]  # any key of u1
    assert [item.content for item in Outbox(path, Owner(BASE, "", "k1")).items] == ["mine"]  # by key, offline
    assert Outbox(path, Owner("http://elsewhere/api/v1", "u1", "k1")).items == []
    assert [item.content for item in Outbox(path, Owner(BASE, "u2")).items] == ["someone else's"]


ADD_AND_FLUSH = r"""
import asyncio, json, sys
from pathlib import Path
import httpx
from app.client import TripClient
from app.tui import sender
from app.tui.outbox import Outbox, Owner, key_fingerprint

path, url, key, user, trip, channel, name, count, log = sys.argv[1:]

class Logged(httpx.AsyncHTTPTransport):
    async def handle_async_request(self, request):
        if request.method == "POST":
            with open(log, "a") as file:  # one line per request sent, appended atomically
                file.write(json.loads(request.content)["content"] + "\n")
        return await super().handle_async_request(request)

async def main():
    outbox = Outbox(Path(path), Owner(url, user, key_fingerprint(key)))
    async with TripClient(key, base_url=url, transport=Logged()) as client:
        flushes = []
        for number in range(int(count)):
            outbox.add(trip, channel, f"{name}-{number}")
            flushes.append(asyncio.create_task(sender.send_waiting(client, outbox, trip_id=trip)))
            await asyncio.sleep(0)
        assert all(await asyncio.gather(*flushes))
        assert await sender.send_waiting(client, outbox)

asyncio.run(main())
"""


@pytest.mark.slow
def test_two_processes_adding_and_flushing_at_once_send_every_item_exactly_once(api_server, tmp_path):
    import httpx

    key = api_server.key("outbox-two@example.com")
    http = httpx.Client(base_url=api_server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    me = http.get("/me").json()
    trip = http.post(
        "/trips",
        json={
            "groupId": me["defaultGroupId"],
            "title": "Two",
            "startDate": "2026-12-01",
            "endDate": "2026-12-20",
        },
    ).json()["_id"]
    channel = http.get(f"/trips/{trip}/channels").json()["items"][0]["_id"]
    path, log = tmp_path / "outbox.jsonl", tmp_path / "sent.log"
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                ADD_AND_FLUSH,
                str(path),
                api_server.url,
                key,
                me["_id"],
                trip,
                channel,
                name,
                "25",
                str(log),
            ],
            cwd=ROOT,
            env=child_env(),
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    for process in processes:
        assert process.wait(timeout=120) == 0, process.stderr.read()
    expected = sorted(f"{name}-{number}" for name in "ab" for number in range(25))
    assert sorted(log.read_text().splitlines()) == expected  # each POSTed once, none lost
    stored = http.get(f"/trips/{trip}/channels/{channel}/messages?limit=100").json()["items"]
    assert sorted(message["content"] for message in stored) == expected
    assert Outbox(path, Owner(api_server.url, me["_id"])).items == []
    http.close()


def test_two_outboxes_on_one_file_keep_each_others_items(tmp_path):
    path = tmp_path / "outbox.jsonl"
    owner = Owner(BASE, "u1", "k1")
    first, second = Outbox(path, owner), Outbox(path, owner)
    first.add("t1", "c1", "from A")
    second.add("t1", "c1", "from B")
    first.remove(second.items[-1].id)  # A sent B's item: A's own stays
    assert [item.content for item in Outbox(path, owner).items] == ["from A"]


async def test_what_waits_is_sent_at_start_up_from_the_picker_which_shows_the_count(
    server, tui, alice, tmp_path
):
    from app.tui.screens.picker import TripPickerScreen

    trip = await new_trip(alice)
    channel = (await alice.http.get(f"/trips/{trip['_id']}/channels")).json()["items"][0]["_id"]
    path = tmp_path / "outbox.jsonl"
    outbox_of(path, alice).add(trip["_id"], channel, "typed on the train")
    outbox_of(path, alice).add(trip["_id"], "no-such-channel", "refused")

    app, transport = tui(alice.key, outbox_path=path)
    transport.offline = True
    async with app.run_test(size=(100, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TripPickerScreen), what="the picker")
        count = lambda: str(app.screen.query_one("#picker-outbox").render())  # noqa: E731
        await wait_for(pilot, lambda: "2 unsent" in count(), what="the count while offline")
        transport.offline = False
        await wait_for(
            pilot, lambda: len(outbox_of(path, alice).items) == 1, timeout=30, what="the message sent"
        )
        await wait_for(pilot, lambda: "1 unsent" in count() and "failed" in count(), what="the count after")
        assert isinstance(app.screen, TripPickerScreen)  # the trip was never opened
    assert await server_messages(alice, trip["_id"], channel) == ["typed on the train"]


async def test_items_of_a_service_that_is_gone_cost_no_request_at_start_up(server, tui, alice, tmp_path):
    """Items stamped with another service (an old `trip demo`'s port, a service since moved)
    can never be this session's: they stay in the file for whoever owns them, but a start-up
    does not ask the service whose its key is because of them. Items of this service made with
    another key may be this user's, and that question stays."""
    trip = await new_trip(alice)
    path = tmp_path / "outbox.jsonl"

    async def me_requests() -> int:
        app, transport = tui(alice.key, trip_id=trip["_id"], outbox_path=path)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: app.screen.data is not None, what="trip")
            await pilot.pause(0.3)
        return transport.requests.count("GET /api/v1/me")

    alone = await me_requests()
    gone = Outbox(path, Owner("http://127.0.0.1:40667/api/v1", "user-of-a-gone-demo", "k"))
    gone.add_write("t1", "legs", "update", "l1", body={"title": "Lisboa"}, label="edit leg Lisbon")
    assert await me_requests() == alone
    assert [item.label for item in Outbox(path, gone.owner).items] == ["edit leg Lisbon"]  # kept
    Outbox(path, Owner(BASE, "", "another-key")).add(trip["_id"], "c1", "of another key")
    assert await me_requests() == alone + 1
