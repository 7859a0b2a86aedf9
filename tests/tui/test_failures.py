"""Every background task that fails, on every screen, reaches the user as one notice that says
what failed and what to do, and a line in the log file in the data directory (with the request
id when the service answered). Textual 8 reports a worker's failure to the node that started it
only, so each screen is tried here."""

from __future__ import annotations

from app.client import TripClient
from app.tui.app import TripdeckApp
from app.tui.screens.first_run import FirstRunScreen
from app.tui.screens.form import FormScreen
from app.tui.screens.members import MembersScreen
from app.tui.screens.picker import TripPickerScreen
from tests.conftest import new_trip
from tests.tui.conftest import SwitchableTransport, wait_for
from tests.tui.test_editing import form_opened, open_trip, replace


def notices(app) -> list[str]:
    return [str(notice.message) for notice in app._notifications]


async def failure_noticed(pilot, what: str) -> str:
    app = pilot.app
    await wait_for(
        pilot,
        lambda: any(what in notice for notice in notices(app)),
        what=f"a notice of {what!r} among {notices(app)}",
    )
    return next(notice for notice in notices(app) if what in notice)


def logged(tmp_path) -> str:
    path = tmp_path / "data" / "tripdeck.log"
    return path.read_text(encoding="utf-8") if path.exists() else ""


async def test_trip_screen_an_export_that_cannot_reach_the_service_says_so(server, tui, alice, tmp_path):
    trip = await new_trip(alice)
    app, transport = tui(alice.key, trip_id=trip["_id"], export_dir=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_trip(pilot, app)
        transport.offline = True
        await pilot.press("ctrl+e")
        notice = await failure_noticed(pilot, "Exporting failed")
        assert "cannot reach the trip service" in notice and "try again" in notice
    assert "Exporting failed" in logged(tmp_path)


async def test_members_screen_a_share_link_refused_says_so_with_the_request_id(
    server, tui, alice, bob, tmp_path
):
    trip = await new_trip(alice)
    await alice.http.post(f"/trips/{trip['_id']}/members", json={"email": bob.email, "role": "planner"})
    app, _transport = tui(bob.key, trip_id=trip["_id"])
    async with app.run_test(size=(100, 30)) as pilot:
        await open_trip(pilot, app)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MembersScreen), what="members")
        await alice.http.delete(f"/trips/{trip['_id']}/members/{bob.user_id}")  # Bob is removed meanwhile
        await pilot.press("s")
        notice = await failure_noticed(pilot, "Creating the share link failed")
        assert ("NOT_FOUND" in notice or "FORBIDDEN" in notice) and "request req_" in notice
        assert "Creating the share link failed" in str(app.screen.query_one("#share-link").render())
    log = logged(tmp_path)
    assert "Creating the share link failed" in log and "req_" in log


async def test_picker_an_archive_refused_says_so(server, tui, alice, bob, tmp_path):
    trip = await new_trip(alice, title="Alice's")
    await alice.http.post(f"/trips/{trip['_id']}/members", json={"email": bob.email, "role": "viewer"})
    app, _ = tui(bob.key)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(
            pilot, lambda: isinstance(app.screen, TripPickerScreen) and app.screen.trips, what="trips"
        )
        await pilot.press("a")
        await pilot.pause(0.2)
        await pilot.press("y")
        notice = await failure_noticed(pilot, "Archiving the trip failed")
        assert "FORBIDDEN" in notice and "role" in notice
    assert "Archiving the trip failed" in logged(tmp_path)


async def test_form_a_queued_write_that_cannot_be_kept_on_disk_says_so(server, tui, alice, tmp_path):
    trip = await new_trip(alice)
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    app, transport = tui(alice.key, trip_id=trip["_id"], outbox_path=blocked / "outbox.jsonl")
    async with app.run_test(size=(100, 30)) as pilot:
        await open_trip(pilot, app)
        transport.offline = True
        await form_opened(pilot, "3", "n")
        await replace(pilot, "text", "Buy adapters")
        await pilot.press("enter")
        notice = await failure_noticed(pilot, "Saving failed")
        assert "File exists" in notice and "not-a-directory" in notice
        assert isinstance(app.screen, FormScreen)  # what was typed is still there
    assert "Saving failed" in logged(tmp_path)


async def test_first_run_a_url_httpx_cannot_use_says_so(server, alice, tmp_path):
    transport = SwitchableTransport(server.app)

    def factory(url: str, key: str) -> TripClient:
        return TripClient(api_key=key, base_url=url, transport=transport, max_retries=0)

    app = TripdeckApp(
        client_factory=factory,
        config_path=tmp_path / "config.json",
        cursor_blink=False,
        log_path=tmp_path / "data" / "tripdeck.log",
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, FirstRunScreen), what="first run")
        app.screen.query_one("#setup-url").value = "http://exa\x01mple/api/v1"
        app.screen.query_one("#setup-key").value = alice.key
        await pilot.press("enter")
        await failure_noticed(pilot, "Checking the key failed")
        await wait_for(
            pilot,
            lambda: "Checking" not in str(app.screen.query_one("#setup-error").render()),
            what="no 'Checking…' left on screen",
        )
    assert "Checking the key failed" in logged(tmp_path)


async def test_ssh_keys_a_list_that_cannot_be_read_says_so(server, tui, alice, tmp_path):
    from tests.tui.test_ssh_keys import open_from_palette

    app, transport = tui(alice.key)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TripPickerScreen), what="trips")
        transport.offline = True
        await open_from_palette(pilot, app)
        notice = await failure_noticed(pilot, "Loading your SSH keys failed")
        assert "cannot reach the trip service" in notice
    assert "Loading your SSH keys failed" in logged(tmp_path)


async def test_new_trip_dialog_a_failure_that_is_not_the_services_answer_says_so(
    server, tui, alice, tmp_path
):
    from app.tui.screens.modals import NewTripScreen

    async def create(new):
        raise RuntimeError("the trip could not be made")  # a bug of ours, not a refusal

    app, _ = tui(alice.key)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TripPickerScreen), what="trips")
        app.push_screen(NewTripScreen(create))
        await wait_for(pilot, lambda: isinstance(app.screen, NewTripScreen), what="the dialog")
        await pilot.press(*"Lisbon", "enter")
        notice = await failure_noticed(pilot, "Creating the trip failed")
        assert "the trip could not be made" in notice
    assert "Creating the trip failed" in logged(tmp_path)
