"""The SSH keys screen, opened from the command palette, against the real server: paste a key to
add it, a private key is refused with the reason, `d` deletes; a shared (keyless) view has no such command."""

from __future__ import annotations

import asyncssh
import httpx

from app.client import SharedTripClient
from app.tui.app import TripdeckApp
from app.tui.screens.ssh_keys import SshKeyList, SshKeysScreen
from tests.conftest import BASE, new_trip
from tests.tui.conftest import wait_for


async def open_from_palette(pilot, app) -> SshKeysScreen:
    await pilot.press("ctrl+p", *"SSH keys")
    await pilot.pause(0.5)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, SshKeysScreen), what="the SSH keys screen")
    return app.screen


async def test_add_refuse_and_delete_keys_from_the_palette(server, tui, alice):
    key = asyncssh.generate_private_key("ssh-ed25519", comment="phone")
    app, _ = tui(alice.key)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_from_palette(pilot, app)
        await wait_for(
            pilot,
            lambda: "No SSH keys yet" in str(screen.query_one(SshKeyList).get_option_at_index(0).prompt),
            what="the empty list",
        )
        await pilot.press("a")
        app.screen.query_one("#ssh-key-input").value = key.export_private_key().decode().replace("\n", " ")
        await pilot.press("enter")
        message = screen.query_one("#ssh-key-message")
        await wait_for(pilot, lambda: "private key" in str(message.render()), what="the refusal")
        assert (await alice.http.get("/me/ssh-keys")).json()["items"] == []

        app.screen.query_one("#ssh-key-input").value = key.export_public_key().decode().strip()
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(screen.keys) == 1, what="the key listed")
        assert screen.keys[0].fingerprint == key.get_fingerprint() and screen.keys[0].name == "phone"
        assert key.get_fingerprint() in str(screen.query_one(SshKeyList).get_option_at_index(0).prompt)
        assert [k["fingerprint"] for k in (await alice.http.get("/me/ssh-keys")).json()["items"]] == [
            key.get_fingerprint()
        ]

        await pilot.press("d")
        await pilot.pause(0.2)
        await pilot.press("y")
        await wait_for(pilot, lambda: screen.keys == [], what="the key deleted")
        assert (await alice.http.get("/me/ssh-keys")).json()["items"] == []
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, SshKeysScreen), what="the screen closed")


async def test_a_shared_view_offers_no_ssh_keys(server, alice):
    trip = await new_trip(alice)
    token = (await alice.http.post(f"/trips/{trip['_id']}/share-token")).json()["token"]
    shared = SharedTripClient(token, base_url=BASE, transport=httpx.ASGITransport(app=server.app))
    app = TripdeckApp(url=BASE, shared=shared, cursor_blink=False)
    async with app.run_test(size=(100, 30)):
        assert not any(command.title == "SSH keys" for command in app.get_system_commands(app.screen))
