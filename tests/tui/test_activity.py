"""The activity screen and undo against the real server: the feed with who, when and the
sentence, live; Enter shows a change field by field; `r` reverts after asking, and a conflict
shows the later change and changes nothing; `u` on the trip screen undoes your own last change.
A snapshot of the screen at 80x24 from the fixed demo data."""

from __future__ import annotations

from textual.widgets import Static

from app.tui.screens.activity import ActivityList, ActivityScreen
from app.tui.screens.modals import ConfirmScreen
from app.tui.screenshots import demo_app
from tests.conftest import new_trip
from tests.tui.conftest import wait_for
from tests.tui.test_editing import open_trip

LEG = {
    "order": 1,
    "title": "Lisbon",
    "destination": "Lisbon",
    "startDate": "2026-07-15",
    "endDate": "2026-07-18",
    "timezone": "Europe/Lisbon",
}


def rows_shown(screen: ActivityScreen) -> list[str]:
    activity_list = screen.query_one(ActivityList)
    return [str(activity_list.get_option_at_index(i).prompt) for i in range(activity_list.option_count)]


def detail(screen: ActivityScreen) -> str:
    widget = screen.query_one("#activity-detail", Static)
    return str(widget.render()) if widget.display else ""


def notices(app) -> list[str]:
    return [str(notification.message) for notification in app._notifications]


async def notice_starting(pilot, app, start: str | tuple[str, ...]) -> str:
    """Wait for the notice that starts with `start`, and return it."""
    await wait_for(
        pilot,
        lambda: any(message.startswith(start) for message in notices(app)),
        what=f"a notice starting {start!r}",
        state=lambda: notices(app),
    )
    return next(message for message in notices(app) if message.startswith(start))


async def add_pack(actor, trip_id: str) -> dict:
    """The checklist item "Pack", added by `actor`."""
    answer = await actor.http.post(f"/trips/{trip_id}/action-items", json={"text": "Pack", "urgency": "now"})
    assert answer.status_code == 201, answer.text
    return answer.json()


async def tick_offline(pilot, app, transport) -> None:
    """Go offline and tick the checklist's first item: the tick waits in the outbox."""
    transport.offline = True
    await pilot.press("3", "space")
    await wait_for(pilot, lambda: len(app.outbox.items) == 1, what="the tick queued")


async def shared_trip(alice, bob) -> tuple[str, dict]:
    trip = await new_trip(alice)
    response = await alice.http.post(
        f"/trips/{trip['_id']}/members", json={"email": bob.email, "role": "editor"}
    )
    assert response.status_code == 201
    leg = (await alice.http.post(f"/trips/{trip['_id']}/legs", json=LEG)).json()
    return trip["_id"], leg


async def renamed_leg_and_an_item(alice, bob, *, item_by) -> tuple[str, dict, dict]:
    """A trip of Alice's and Bob's where Alice renamed the leg and `item_by` added an item."""
    trip_id, leg = await shared_trip(alice, bob)
    assert (
        await alice.http.patch(f"/trips/{trip_id}/legs/{leg['_id']}", json={"title": "Lisboa"})
    ).status_code == 200
    item = await add_pack(item_by, trip_id)
    return trip_id, leg, item


async def tick_a_row_that_goes(pilot, app, transport, bob, trip_id: str, item: dict) -> None:
    """Tick `item` offline, let Bob delete it meanwhile, come back: the service will refuse the tick."""
    await tick_offline(pilot, app, transport)
    assert (await bob.http.delete(f"/trips/{trip_id}/action-items/{item['_id']}")).status_code == 204
    transport.offline = False


async def own_trip(alice) -> tuple[str, dict]:
    trip = await new_trip(alice)
    leg = (await alice.http.post(f"/trips/{trip['_id']}/legs", json=LEG)).json()
    return trip["_id"], leg


async def test_the_activity_screen_is_live_shows_details_and_reverts(server, tui, alice, bob):
    trip_id, leg = await shared_trip(alice, bob)
    assert (
        await alice.http.patch(f"/trips/{trip_id}/legs/{leg['_id']}", json={"title": "Lisboa"})
    ).status_code == 200
    app, _ = tui(alice.key, trip_id=trip_id)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_trip(pilot, app)
        await pilot.press("a")
        await wait_for(
            pilot, lambda: isinstance(app.screen, ActivityScreen) and app.screen.feed.items, what="activity"
        )
        screen = app.screen
        assert [
            "Alice renamed the leg “Lisbon” to “Lisboa”" in rows_shown(screen)[0],
            "Alice added the leg “Lisbon”" in rows_shown(screen)[1],
        ] == [True, True]

        # Bob changes the leg while the screen is open: it shows up with no key pressed.
        assert (
            await bob.http.patch(f"/trips/{trip_id}/legs/{leg['_id']}", json={"destination": "Porto"})
        ).status_code == 200
        await wait_for(
            pilot,
            lambda: "Bob changed the destination of “Lisboa”" in rows_shown(screen)[0],
            what="Bob's change, live",
            state=lambda: rows_shown(screen),
        )

        await pilot.press("enter")
        await wait_for(pilot, lambda: "destination" in detail(screen), what="the details")
        assert "Lisbon → Porto" in detail(screen) and "Bob" in detail(screen)

        # Alice reverts Bob's change: asked first, then the leg has its destination back.
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        await pilot.press("y")
        await wait_for(
            pilot,
            lambda: any("undid Bob's change" in row for row in rows_shown(screen)),
            what="the revert listed",
            state=lambda: rows_shown(screen),
        )
        assert (await alice.http.get(f"/trips/{trip_id}/legs/{leg['_id']}")).json()["destination"] == "Lisbon"
        assert "undone" in next(row for row in rows_shown(screen) if "Bob changed the destination" in row)


async def test_a_revert_conflict_shows_the_later_change_and_changes_nothing(server, tui, alice, bob):
    trip_id, leg = await shared_trip(alice, bob)
    assert (
        await alice.http.patch(f"/trips/{trip_id}/legs/{leg['_id']}", json={"title": "Lisboa"})
    ).status_code == 200
    assert (
        await bob.http.patch(f"/trips/{trip_id}/legs/{leg['_id']}", json={"title": "Lisbon old town"})
    ).status_code == 200
    revision = (await alice.http.get(f"/trips/{trip_id}")).json()["revision"]
    app, _ = tui(alice.key, trip_id=trip_id)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_trip(pilot, app)
        await pilot.press("a")
        await wait_for(
            pilot, lambda: isinstance(app.screen, ActivityScreen) and app.screen.feed.items, what="activity"
        )
        screen = app.screen
        await pilot.press("down")  # Alice's own rename, under Bob's
        assert "Alice renamed" in rows_shown(screen)[screen.query_one(ActivityList).highlighted]
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        await pilot.press("y")
        await wait_for(pilot, lambda: "Not reverted" in detail(screen), what="the conflict")
        assert "Bob renamed the leg “Lisboa” to “Lisbon old town”" in detail(screen)
    assert (await alice.http.get(f"/trips/{trip_id}")).json()["revision"] == revision


async def test_u_undoes_my_own_last_change_and_says_how_to_redo(server, tui, alice, bob):
    trip_id, leg = await shared_trip(alice, bob)
    assert (
        await alice.http.patch(f"/trips/{trip_id}/legs/{leg['_id']}", json={"title": "Lisboa"})
    ).status_code == 200
    # Bob's later change of another field is not Alice's to undo, and does not stop hers.
    assert (
        await bob.http.patch(f"/trips/{trip_id}/legs/{leg['_id']}", json={"destination": "Porto"})
    ).status_code == 200
    app, _ = tui(alice.key, trip_id=trip_id)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_trip(pilot, app)
        await pilot.press("u")

        notice = await notice_starting(pilot, app, "Undone:")
        assert "renamed the leg “Lisbon” to “Lisboa”" in notice and "redo" in notice
        assert screen is app.screen
    now = (await alice.http.get(f"/trips/{trip_id}/legs/{leg['_id']}")).json()
    assert (now["title"], now["destination"]) == ("Lisbon", "Porto")


async def test_the_activity_is_in_the_palette_and_a_viewer_may_not_revert(server, tui, alice, bob):
    trip = await new_trip(alice)
    await alice.http.post(f"/trips/{trip['_id']}/members", json={"email": bob.email, "role": "viewer"})
    await alice.http.post(f"/trips/{trip['_id']}/legs", json=LEG)
    app, _ = tui(bob.key, trip_id=trip["_id"])
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_trip(pilot, app)
        assert not screen.check_action("undo", ())
        await pilot.press("ctrl+p", *"Activity")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, ActivityScreen) and app.screen.feed.items, what="activity"
        )
        assert not app.screen.check_action("revert", ())
        await pilot.press("r")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ActivityScreen)  # nothing asked


def test_the_activity_screen_at_80x24(snap_compare):
    assert snap_compare(demo_app(), terminal_size=(80, 24), press=["a", "down", "down", "enter"])


async def test_a_failed_load_reaches_the_user_and_u_with_nothing_to_undo_says_so(server, tui, alice):
    trip = await new_trip(alice)
    app, transport = tui(alice.key, trip_id=trip["_id"])
    async with app.run_test(size=(100, 30)) as pilot:
        await open_trip(pilot, app)

        await pilot.press("u")
        await wait_for(
            pilot,
            lambda: "Nothing of yours to undo." in notices(app),
            what="the notice",
            state=lambda: notices(app),
        )
        transport.offline = True
        await pilot.press("a")
        await notice_starting(pilot, app, "Loading the activity failed")
        assert isinstance(app.screen, ActivityScreen)
        assert "cannot reach the trip service" in detail(app.screen)  # said in place too


async def test_a_revert_by_someone_else_reaches_an_open_trip_screen(server, tui, alice, bob):
    from app.tui.widgets.legs_timeline import LegsTimeline

    trip_id, leg = await shared_trip(alice, bob)
    assert (
        await alice.http.patch(f"/trips/{trip_id}/legs/{leg['_id']}", json={"title": "Lisboa"})
    ).status_code == 200
    renamed = (await alice.http.get(f"/trips/{trip_id}/operations")).json()["items"][0]
    app, _ = tui(alice.key, trip_id=trip_id)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_trip(pilot, app)
        assert [shown.title for shown in screen.query_one(LegsTimeline).legs] == ["Lisboa"]
        revision = (await bob.http.get(f"/trips/{trip_id}")).json()["revision"]
        response = await bob.http.post(
            f"/trips/{trip_id}/operations/{renamed['op_id']}/revert", json={"base_revision": revision}
        )
        assert response.status_code == 200
        await wait_for(
            pilot,
            lambda: [shown.title for shown in screen.query_one(LegsTimeline).legs] == ["Lisbon"],
            what="the leg's old title, live",
            state=lambda: [s.title for s in screen.query_one(LegsTimeline).legs],
        )


def test_the_activity_screen_at_160x48(snap_compare):
    assert snap_compare(demo_app(), terminal_size=(160, 48), press=["a", "enter"])


async def test_u_with_my_newest_change_still_in_the_outbox_sends_it_first_and_undoes_it(server, tui, alice):
    # The rename is on the service; the tick after it waits in the outbox (made offline, and the
    # sender's next attempt is far off). `u` means the tick, not the rename the service has last.
    trip_id, leg = await own_trip(alice)
    assert (
        await alice.http.patch(f"/trips/{trip_id}/legs/{leg['_id']}", json={"title": "Lisboa"})
    ).status_code == 200
    item = await add_pack(alice, trip_id)
    app, transport = tui(alice.key, trip_id=trip_id, reconnect_after=60)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_trip(pilot, app)
        await tick_offline(pilot, app, transport)
        transport.offline = False  # back, before the sender has tried again
        await pilot.press("u")

        notice = await notice_starting(pilot, app, "Undone:")
        assert "ticked off" in notice and "Pack" in notice
        assert not app.outbox.items
    assert (await alice.http.get(f"/trips/{trip_id}/legs/{leg['_id']}")).json()["title"] == "Lisboa"
    ticked = (await alice.http.get(f"/trips/{trip_id}/action-items/{item['_id']}")).json()
    assert ticked["done"] is False  # sent, then undone


async def test_u_while_my_newest_change_cannot_be_sent_undoes_nothing_and_says_why(server, tui, alice):
    trip_id, leg = await own_trip(alice)
    assert (
        await alice.http.patch(f"/trips/{trip_id}/legs/{leg['_id']}", json={"title": "Lisboa"})
    ).status_code == 200
    await alice.http.post(f"/trips/{trip_id}/action-items", json={"text": "Pack", "urgency": "now"})
    app, transport = tui(alice.key, trip_id=trip_id, reconnect_after=60)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_trip(pilot, app)
        await tick_offline(pilot, app, transport)
        await pilot.press("u")

        await notice_starting(pilot, app, "Not undone")
        assert len(app.outbox.items) == 1  # the tick still waits, to be sent later
    assert (await alice.http.get(f"/trips/{trip_id}/legs/{leg['_id']}")).json()["title"] == "Lisboa"


async def test_u_when_the_service_refuses_my_waiting_change_undoes_nothing_before_it(server, tui, alice, bob):
    trip_id, leg, item = await renamed_leg_and_an_item(alice, bob, item_by=alice)
    app, transport = tui(alice.key, trip_id=trip_id, reconnect_after=60)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_trip(pilot, app)
        await tick_a_row_that_goes(pilot, app, transport, bob, trip_id, item)
        await pilot.press("u")

        assert "refused" in await notice_starting(pilot, app, "Not undone")
    assert (await alice.http.get(f"/trips/{trip_id}/legs/{leg['_id']}")).json()["title"] == "Lisboa"


async def test_u_says_at_once_that_it_sends_what_waits_first(server, tui, alice):
    """Sending what waits may take long (offline, the SDK tries to connect again and again): `u`
    says what it is doing before the first answer, not only after the last."""
    import asyncio

    trip_id, _leg = await own_trip(alice)
    item = await add_pack(alice, trip_id)
    app, transport = tui(alice.key, trip_id=trip_id, reconnect_after=60)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_trip(pilot, app)
        await tick_offline(pilot, app, transport)
        transport.offline = False
        answer = asyncio.Event()
        reach = transport.handle_async_request

        async def slow_writes(request):
            if request.method != "GET":
                await answer.wait()  # the service takes its time with every write
            return await reach(request)

        transport.handle_async_request = slow_writes  # type: ignore[method-assign]
        await pilot.press("u")

        await wait_for(
            pilot,
            lambda: any("Sending 1 queued change before undoing" in m for m in notices(app)),
            what="the notice while it sends",
            state=lambda: notices(app),
        )
        assert len(app.outbox.items) == 1  # still on its way
        answer.set()
        await notice_starting(pilot, app, "Undone:")
    ticked = (await alice.http.get(f"/trips/{trip_id}/action-items/{item['_id']}")).json()
    assert ticked["done"] is False  # sent, then undone


async def test_u_when_my_newest_change_failed_earlier_names_it_and_undoes_nothing(server, tui, alice, bob):
    """My newest change was refused before `u` (NOT SENT in the outbox bar): undoing the change
    before it would undo what I did not mean. `u` names the unsent one and says what to do."""
    # Bob's item: Alice's newest change the service has is the rename.
    trip_id, leg, item = await renamed_leg_and_an_item(alice, bob, item_by=bob)
    app, transport = tui(alice.key, trip_id=trip_id, reconnect_after=60)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_trip(pilot, app)
        await tick_a_row_that_goes(pilot, app, transport, bob, trip_id, item)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: bool(app.outbox.items[0].error), what="the tick refused")
        await pilot.press("u")

        said = await notice_starting(pilot, app, ("Not undone", "Undone"))
        assert said.startswith("Not undone") and "never sent" in said, said
        assert app.outbox.items[0].label in said and "R" in said and "X" in said, said
        await pilot.pause(0.3)
    assert (await alice.http.get(f"/trips/{trip_id}/legs/{leg['_id']}")).json()["title"] == "Lisboa"
