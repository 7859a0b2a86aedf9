"""The members screen against the real server: an owner adds a member by email and changes the
role, creates and revokes the share link; a viewer is not offered those keys."""

from __future__ import annotations

from textual.widgets._footer import FooterKey

from app.tui.screens.form import FormScreen
from app.tui.screens.members import MembersScreen
from tests.conftest import new_trip
from tests.tui.conftest import wait_for
from tests.tui.test_editing import form_closed, form_opened, open_trip, pick, replace


async def test_owner_adds_a_member_changes_the_role_and_shares(server, tui, alice, bob):
    trip = await new_trip(alice)
    app, _ = tui(alice.key, trip_id=trip["_id"])
    async with app.run_test(size=(100, 30)) as pilot:
        await open_trip(pilot, app)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MembersScreen), what="members")
        screen = app.screen
        await form_opened(pilot, "a")
        await replace(pilot, "email", "nobody@example.com")
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: app.screen.query_one("#form-error").display or app.screen.errors,
            what="the refusal",
        )  # no such user: the form stays open
        assert isinstance(app.screen, FormScreen)
        await replace(pilot, "email", bob.email)
        await pilot.press("enter")
        await form_closed(pilot)
        await wait_for(pilot, lambda: any(m.email == bob.email for m in screen.members), what="Bob listed")
        bob_row = next(m for m in screen.members if m.email == bob.email)
        assert bob_row.role == "editor"
        await pilot.press("end")
        await form_opened(pilot, "r")
        await pick(pilot, "role", "viewer")
        await pilot.press("ctrl+s")
        await form_closed(pilot)
        await wait_for(
            pilot,
            lambda: any(m.email == bob.email and m.role == "viewer" for m in screen.members),
            what="Bob a viewer",
        )
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.share_url, what="share link")
        url = screen.share_url
        anonymous = server.client(None)
        try:
            assert (await anonymous.get(url)).status_code == 200  # the link opens the trip, no key
            await pilot.press("S")
            await wait_for(
                pilot,
                lambda: (
                    screen.share_url is None and "revoked" in str(screen.query_one("#share-link").render())
                ),
                what="revoked",
            )
            assert (await anonymous.get(url)).status_code == 404
        finally:
            await anonymous.aclose()


async def test_a_viewer_is_not_offered_member_controls(server, tui, alice, bob):
    trip = await new_trip(alice)
    await alice.http.post(f"/trips/{trip['_id']}/members", json={"email": bob.email, "role": "viewer"})
    app, _ = tui(bob.key, trip_id=trip["_id"])
    async with app.run_test(size=(100, 30)) as pilot:
        await open_trip(pilot, app)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MembersScreen), what="members")
        screen = app.screen
        assert [m.role for m in screen.members] == ["owner", "viewer"] or len(screen.members) == 2
        assert not screen.check_action("add", ()) and not screen.check_action("share", ())
        await pilot.press("a")
        await pilot.pause(0.2)
        assert app.screen is screen  # no form


async def test_export_calendar_and_pins_from_the_command_palette(server, tui, alice, tmp_path):
    import json

    trip = await new_trip(alice)
    await alice.http.post(
        f"/trips/{trip['_id']}/commitments",
        json={
            "title": "Dinner",
            "startDate": "2026-07-16",
            "category": "dinner",
            "startTime": "19:00",
            "endTime": "21:00",
            "timezone": "Europe/London",
        },
    )
    await alice.http.post(f"/trips/{trip['_id']}/map-pins", json={"name": "Pub", "lat": 51.5, "lng": -0.1})
    app, _ = tui(alice.key, trip_id=trip["_id"], export_dir=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_trip(pilot, app)
        await pilot.press("ctrl+p", *"Export calendar")
        await pilot.pause(0.5)
        await pilot.press("enter")
        ics = tmp_path / f"trip-{trip['_id']}.ics"
        await wait_for(pilot, ics.exists, what="the .ics file")
        await pilot.press("ctrl+g")
        geojson = tmp_path / f"trip-{trip['_id']}.geojson"
        await wait_for(pilot, geojson.exists, what="the GeoJSON file")
    text = ics.read_text()
    assert "SUMMARY:Dinner" in text and "TZID=Europe/London" in text
    features = json.loads(geojson.read_text())["features"]
    assert [feature["properties"]["name"] for feature in features] == ["Pub"]


async def test_an_owner_removes_a_member_and_a_viewer_may_only_leave(server, tui, alice, bob, make_actor):
    trip = await new_trip(alice)
    carol = await make_actor("carol@example.com", "Carol")
    for actor, role in ((bob, "viewer"), (carol, "editor")):
        response = await alice.http.post(
            f"/trips/{trip['_id']}/members", json={"email": actor.email, "role": role}
        )
        assert response.status_code == 201, response.text

    # Bob, a viewer: `d` is offered on his own row only (leave), not on Alice's or Carol's.
    app, _ = tui(bob.key, trip_id=trip["_id"])
    async with app.run_test(size=(100, 30)) as pilot:
        await open_trip(pilot, app)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MembersScreen), what="members")
        screen = app.screen
        member_list = screen.query_one("#member-list")
        for index, member in enumerate(screen.members):
            member_list.highlighted = index
            await pilot.pause()
            assert bool(screen.check_action("remove", ())) is (member.user_id == bob.user_id), member.name
        member_list.highlighted = next(i for i, m in enumerate(screen.members) if m.user_id == alice.user_id)
        await pilot.press("d")
        await pilot.pause(0.2)
        assert app.screen is screen  # nothing asked, nothing removed

    # Alice, the owner, removes Carol by keys: d, then y.
    app, _ = tui(alice.key, trip_id=trip["_id"])
    async with app.run_test(size=(100, 30)) as pilot:
        await open_trip(pilot, app)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MembersScreen), what="members")
        screen = app.screen
        screen.query_one("#member-list").highlighted = next(
            i for i, m in enumerate(screen.members) if m.user_id == carol.user_id
        )
        await pilot.pause()
        await pilot.press("d")
        await wait_for(pilot, lambda: app.screen is not screen, what="the question")
        await pilot.press("y")
        await wait_for(
            pilot, lambda: all(m.user_id != carol.user_id for m in screen.members), what="Carol gone"
        )
    listed = (await alice.http.get(f"/trips/{trip['_id']}/members")).json()["items"]
    assert {m["userId"] for m in listed} == {alice.user_id, bob.user_id}

    # Bob leaves: the trip is gone from his view and he is back at the trips list.
    app, _ = tui(bob.key, trip_id=trip["_id"])
    async with app.run_test(size=(100, 30)) as pilot:
        await open_trip(pilot, app)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MembersScreen), what="members")
        screen = app.screen
        screen.query_one("#member-list").highlighted = next(
            i for i, m in enumerate(screen.members) if m.user_id == bob.user_id
        )
        await pilot.pause()
        await pilot.press("d", "y")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "TripPickerScreen", what="the trips list")
    assert (await bob.http.get(f"/trips/{trip['_id']}")).status_code in (403, 404)


async def test_a_viewer_is_not_offered_the_keys_that_change_the_plan(server, tui, alice, bob):
    trip = await new_trip(alice)
    await alice.http.post(f"/trips/{trip['_id']}/members", json={"email": bob.email, "role": "viewer"})
    await alice.http.post(f"/trips/{trip['_id']}/action-items", json={"text": "Passports", "urgency": "now"})
    app, _ = tui(bob.key, trip_id=trip["_id"])
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_trip(pilot, app)
        footer_keys = {binding.action for _, binding, enabled, _ in app.active_bindings.values() if enabled}
        assert not footer_keys & {"new_item", "edit_item", "delete_item"}
        await pilot.press("3", "escape")
        for action in ("new_item", "edit_item", "delete_item", "toggle_done", "edit_trip", "move_leg"):
            assert screen.check_action(action, ()) is False, action
        await pilot.press("n", "space", "E")
        await pilot.pause(0.2)
        assert app.screen is screen
        assert not (await alice.http.get(f"/trips/{trip['_id']}/action-items")).json()["items"][0]["done"]
        # The chat is still theirs.
        assert screen.check_action("members", ()) is True


async def test_a_viewer_is_not_offered_edits_on_the_trip_screen_and_the_footer_says_so(
    server, tui, alice, bob
):
    trip = await new_trip(alice)
    await alice.http.post(f"/trips/{trip['_id']}/members", json={"email": bob.email, "role": "viewer"})
    await alice.http.post(
        f"/trips/{trip['_id']}/legs",
        json={"title": "Lisbon", "destination": "Lisbon", "startDate": "2026-07-15", "endDate": "2026-07-17"},
    )

    def footer_keys(app) -> set[str]:
        return {key.description for key in app.screen.query(FooterKey)}

    app, _ = tui(alice.key, trip_id=trip["_id"])
    async with app.run_test(size=(100, 30)) as pilot:
        await open_trip(pilot, app)
        await wait_for(
            pilot, lambda: {"New", "Edit", "Delete"} <= footer_keys(app), what="the owner's edit keys"
        )

    app, _ = tui(bob.key, trip_id=trip["_id"])
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_trip(pilot, app)
        await pilot.pause()
        assert {"Trips", "Members"} <= footer_keys(app)
        assert not {"New", "Edit", "Delete"} & footer_keys(app)
        await pilot.press("1", "e")
        await pilot.press("n")
        await pilot.pause(0.2)
        assert app.screen is screen  # no form opened
