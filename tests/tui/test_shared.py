"""`trip ui --share TOKEN`: a trip read-only through its share link, against the real server.
No key: the panes show the safe projection, no write is offered, the chat says it is not
shared, a change by a member shows up on its own, and a revoked link says so."""

from __future__ import annotations

from app.client import SharedTripClient
from app.tui.app import TripdeckApp
from app.tui.clock import Clock
from app.tui.screens.trip import TripScreen
from app.tui.widgets.legs_timeline import LegsTimeline
from app.tui.widgets.status import OfflineBanner, TripHeader
from tests.conftest import BASE, new_trip
from tests.tui.conftest import SwitchableTransport, wait_for


def shared_app(server, token: str, tmp_path) -> tuple[TripdeckApp, SwitchableTransport]:
    transport = SwitchableTransport(server.app)
    shared = SharedTripClient(token, base_url=BASE, transport=transport, max_retries=0)
    app = TripdeckApp(
        url=BASE,
        shared=shared,
        cursor_blink=False,
        reconnect_after=0.2,
        shared_interval=0.2,
        clock=Clock.frozen("2026-07-16T10:30", "Europe/London"),
        outbox_path=tmp_path / "outbox.jsonl",
    )
    return app, transport


def shown(widget) -> str:
    return "\n".join(strip.text for strip in widget.render_lines(widget.region.reset_offset))


async def test_a_share_link_opens_the_trip_read_only_and_follows_it(server, alice, tmp_path):
    trip = await new_trip(alice, title="[bold]Shared[/bold] trip")
    trip_id = trip["_id"]
    leg = {
        "order": 1,
        "title": "Lisbon",
        "destination": "Lisbon",
        "startDate": "2026-07-15",
        "endDate": "2026-07-18",
        "timezone": "Europe/Lisbon",
        "stays": [{"name": "Casa", "doorCode": "4711", "wifiPassword": "hunter2", "lat": 38.7, "lng": -9.1}],
    }
    assert (await alice.http.post(f"/trips/{trip_id}/legs", json=leg)).status_code == 201
    token = (await alice.http.post(f"/trips/{trip_id}/share-token")).json()["token"]

    app, transport = shared_app(server, token, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, TripScreen) and app.screen.data is not None,
            what="the shared trip",
        )
        screen = app.screen
        assert screen.trip_id == trip_id
        assert not any("Authorization" in line for line in transport.requests)
        header = str(screen.query_one(TripHeader).render())
        assert "[bold]Shared[/bold] trip" in header and "read-only" in header
        assert [leg.title for leg in screen.query_one(LegsTimeline).legs] == ["Lisbon"]
        stay = screen.data.legs.items[0].stays[0]
        assert stay.name == "Casa" and stay.door_code is None and stay.wifi_password is None

        # No write is offered: not in the footer, the help, or the keys.
        for action in ("new_item", "edit_item", "delete_item", "members", "edit_trip", "export", "trips"):
            assert screen.check_action(action, ()) is False
        await pilot.press("n")
        await pilot.press("m")
        assert app.screen is screen
        await pilot.press("5")
        chat_input = screen.query_one("#chat-input")
        assert chat_input.disabled
        assert "chat is not shared" in str(screen.query_one("#message-list").options[0].prompt)

        # A member's change arrives without a key press.
        pin = {"name": "Miradouro", "lat": 38.71, "lng": -9.13, "category": "view"}
        assert (await alice.http.post(f"/trips/{trip_id}/map-pins", json=pin)).status_code == 201
        await wait_for(
            pilot, lambda: any(p.name == "Miradouro" for p in screen.data.pins.items), what="the new pin"
        )

        # Revoked: the view says the link no longer works (not that it retries: that cannot
        # help), and keeps what it showed.
        assert (await alice.http.delete(f"/trips/{trip_id}/share-token")).status_code == 204
        banner = screen.query_one(OfflineBanner)
        await wait_for(
            pilot,
            lambda: banner.display and "no longer works" in shown(banner) and "…" not in shown(banner),
            what="the banner",
            state=lambda: shown(banner),
        )  # shown once laid out, a frame after display
        assert "retry" not in shown(banner) and "OFFLINE" not in shown(banner)
        assert "offline" not in str(screen.query_one(TripHeader).render())
        assert any(p.name == "Miradouro" for p in screen.data.pins.items)
        # and asks no more: each 404 counts against the address's failed attempts (every member's, over SSH)
        asked = sum("/shared/" in line for line in transport.requests)
        await pilot.pause(2.0)  # ten times the interval
        assert sum("/shared/" in line for line in transport.requests) == asked


async def test_a_share_link_view_goes_offline_and_comes_back(server, alice, tmp_path):
    trip = await new_trip(alice)
    token = (await alice.http.post(f"/trips/{trip['_id']}/share-token")).json()["token"]
    app, transport = shared_app(server, token, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, TripScreen) and app.screen.data is not None,
            what="the shared trip",
        )
        screen = app.screen
        banner = screen.query_one(OfflineBanner)
        transport.offline = True
        await wait_for(
            pilot,
            lambda: banner.display and "cannot reach" in shown(banner),
            what="offline",
            state=lambda: shown(banner),
        )
        await alice.http.patch(f"/trips/{trip['_id']}", json={"title": "Renamed meanwhile"})
        transport.offline = False
        await wait_for(
            pilot,
            lambda: not banner.display and screen.data.trip.title == "Renamed meanwhile",
            what="back, with the new title",
        )


async def test_the_read_only_chat_offers_no_reply_or_write(server, alice, tmp_path):
    from textual.widgets import Footer

    trip = await new_trip(alice)
    token = (await alice.http.post(f"/trips/{trip['_id']}/share-token")).json()["token"]
    app, _ = shared_app(server, token, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, TripScreen) and app.screen.data is not None,
            what="the shared trip",
        )
        await pilot.press("5")
        await pilot.pause(0.2)
        footer = " ".join(str(key.description) for key in app.screen.query_one(Footer).query("FooterKey"))
        assert "Reply" not in footer and "Write" not in footer and "channel" not in footer, footer
        assert not {"r", "i"} & set(app.screen.active_bindings), app.screen.active_bindings


async def test_a_link_revoked_before_it_is_opened_says_so_and_asks_no_more(server, alice, tmp_path):
    from textual.widgets import Static

    trip = await new_trip(alice)
    token = (await alice.http.post(f"/trips/{trip['_id']}/share-token")).json()["token"]
    assert (await alice.http.delete(f"/trips/{trip['_id']}/share-token")).status_code == 204
    app, transport = shared_app(server, token, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TripScreen), what="the trip screen")
        screen = app.screen
        waiting = screen.query_one("#waiting", Static)
        await wait_for(
            pilot,
            lambda: "no longer works" in str(waiting.render()),
            what="the reason",
            state=lambda: str(waiting.render()),
        )
        assert "trying again" not in str(waiting.render()).lower()
        # Each 404 counts against the address's failed attempts: asking again cannot help.
        asked = sum("/shared/" in line for line in transport.requests)
        await pilot.pause(2.0)  # ten times the first backoff
        assert sum("/shared/" in line for line in transport.requests) == asked
