"""`trip ssh` end to end: a real SSH server process, a real `trip serve`, and an asyncssh client on
a PTY whose output feeds a terminal emulator, so the tests see what a member sees."""

from __future__ import annotations

import asyncio
import os
import stat
import time
import uuid
from pathlib import Path

import asyncssh
import httpx
import pytest
from sqlalchemy import func, select, update

from app.server.auth import hash_key
from app.server.storage import tables as t
from app.server.storage.accounts import create_key
from app.server.storage.database import Database
from app.ssh.server import SESSION_KEY_NAME
from tests.ssh.support import Terminal, connect, new_trip, start_ssh

pytestmark = pytest.mark.slow


def email(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:6]}@example.com"


async def refused_soon(api_url: str, key: str) -> bool:
    """Does the service refuse `key` within a few seconds (revocation reaches its key cache within one)?"""
    async with httpx.AsyncClient(base_url=api_url) as http:
        for _ in range(200):
            if (await http.get("/me", headers={"Authorization": f"Bearer {key}"})).status_code == 401:
                return True
            await asyncio.sleep(0.1)
    return False


async def session_key_of(pid: int) -> str:
    """The API key in a session's `trip ui` environment (a child seen between its fork and its
    exec still has the server's environment: wait for the exec)."""
    for _ in range(400):
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        found = [v.split(b"=", 1)[1].decode() for v in environ if v.startswith(b"TRIP_API_KEY=")]
        if found:
            return found[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no TRIP_API_KEY in the environment of {pid}")


async def test_a_member_sees_their_trips_chats_and_the_session_key_dies_with_the_session(stack):
    alice = await stack.member(email("alice"), "Alice")
    trip = await new_trip(alice, "Lisbon by the sea")
    await new_trip(await stack.member(email("eve"), "Eve"), "Eve's secret trip")
    async with connect(stack.ssh.port, alice.ssh_key) as conn:
        terminal = await Terminal.open(conn, 80, 24)
        await terminal.wait_for("Lisbon by the sea")
        assert "secret" not in terminal.text()
        children = stack.ssh.session_children()
        assert len(children) == 1
        session_key = await session_key_of(children[0])
        assert session_key.startswith("osk_")
        cmdline = Path(f"/proc/{children[0]}/cmdline").read_bytes()
        assert session_key.encode() not in cmdline  # the key is in the environment only
        async with httpx.AsyncClient(base_url=stack.api_url) as http:
            me = await http.get("/me", headers={"Authorization": f"Bearer {session_key}"})
            assert me.json()["_id"] == alice.user_id

        terminal.type("\r")  # open the highlighted trip
        await terminal.wait_for("No legs yet")
        terminal.type("5")  # the chat pane, its input focused
        await terminal.wait_for("general")
        await terminal.quiet(0.3)
        terminal.type("hello from ssh\r")
        channel = (await alice.http.get(f"/trips/{trip['_id']}/channels")).json()["items"][0]
        for _ in range(300):
            messages = (
                await alice.http.get(f"/trips/{trip['_id']}/channels/{channel['_id']}/messages")
            ).json()["items"]
            if messages:
                break
            await asyncio.sleep(0.1)
        assert [(m["content"], m["authorId"]) for m in messages] == [("hello from ssh", alice.user_id)]
        await terminal.wait_for("hello from ssh")

        terminal.type("\x1b")  # leave the chat input
        await terminal.quiet(0.3)
        terminal.type("q")  # quitting the app ends the connection
        assert await terminal.ended() == 0
    assert await refused_soon(stack.api_url, session_key)
    log = stack.ssh.output()
    line = next(line for line in log.splitlines() if f"user={alice.email}" in line and "ended" in line)
    assert "duration=" in line and "from=127.0.0.1" in line and alice.ssh_key.get_fingerprint() in line
    assert session_key not in log and session_key[4:12] not in log


async def test_a_resize_reaches_the_app(stack):
    bob = await stack.member(email("bob"), "Bob")
    await new_trip(bob, "Alps")
    async with connect(stack.ssh.port, bob.ssh_key) as conn:
        terminal = await Terminal.open(conn, 80, 24)
        await terminal.wait_for("Alps")
        assert "palette" in terminal.screen.display[23]  # the footer on the last row
        terminal.resize(120, 40)
        for _ in range(600):
            if "palette" in terminal.screen.display[39]:
                break
            await asyncio.sleep(0.05)
        assert "palette" in terminal.screen.display[39], terminal.text()
        assert (
            terminal.screen.display[39].rstrip().endswith("palette")
            and len(terminal.screen.display[39]) == 120
        )


async def test_a_disconnect_without_quitting_stops_the_app_and_revokes_its_key(stack):
    carol = await stack.member(email("carol"), "Carol")
    conn = await connect(stack.ssh.port, carol.ssh_key)
    terminal = await Terminal.open(conn, 80, 24)
    await terminal.wait_for("No trips yet")
    (child,) = stack.ssh.session_children()
    session_key = await session_key_of(child)
    conn.abort()  # the laptop lid closes
    for _ in range(300):
        if not Path(f"/proc/{child}").exists() and not stack.ssh.session_children():
            break
        await asyncio.sleep(0.1)
    assert stack.ssh.session_children() == []
    assert await refused_soon(stack.api_url, session_key)
    for _ in range(300):  # the end of a session the client left is logged as any other
        if f"user={carol.email}" in stack.ssh.output():
            break
        await asyncio.sleep(0.1)
    line = next((line for line in stack.ssh.output().splitlines() if f"user={carol.email}" in line), "")
    assert "ended: the" in line and "from=127.0.0.1" in line and carol.ssh_key.get_fingerprint() in line
    assert "Task exception was never retrieved" not in stack.ssh.output()


async def test_an_unknown_key_is_told_its_fingerprint_and_sees_nothing(stack):
    stranger = asyncssh.generate_private_key("ssh-ed25519")
    banners: list[str] = []

    class Client(asyncssh.SSHClient):
        def auth_banner_received(self, msg: str, lang: str) -> None:
            banners.append(msg)

    with pytest.raises(asyncssh.PermissionDenied):
        async with connect(stack.ssh.port, stranger, client_factory=Client):
            pass
    assert len(banners) == 1
    assert stranger.get_fingerprint() in banners[0]
    assert "trip keys add-ssh" in banners[0] and "SSH keys" in banners[0]


async def test_a_registered_key_after_an_unknown_one_gets_in(stack):
    dave = await stack.member(email("dave"), "Dave")
    await new_trip(dave, "Rome")
    async with connect(
        stack.ssh.port, client_keys=[asyncssh.generate_private_key("ssh-ed25519"), dave.ssh_key]
    ) as conn:
        terminal = await Terminal.open(conn)
        await terminal.wait_for("Rome")


async def test_passwords_and_keyboard_interactive_are_refused(stack):
    member = await stack.member(email("pw"), "Pw")
    with pytest.raises(asyncssh.PermissionDenied):
        async with connect(
            stack.ssh.port,
            password="hunter2",
            kbdint_auth=True,
            preferred_auth="password,keyboard-interactive",
        ):
            pass
    with pytest.raises(asyncssh.PermissionDenied):  # a registered member's password attempt too
        async with connect(stack.ssh.port, password=member.email, preferred_auth="password"):
            pass


async def test_exec_subsystems_and_forwarding_are_refused(stack):
    erin = await stack.member(email("erin"), "Erin")
    async with connect(stack.ssh.port, erin.ssh_key) as conn:
        with pytest.raises(asyncssh.ChannelOpenError):
            await conn.run("cat /etc/passwd", check=True)
        with pytest.raises((asyncssh.ChannelOpenError, asyncssh.SFTPError)):
            async with conn.start_sftp_client():
                pass
        with pytest.raises(asyncssh.ChannelOpenError):
            await conn.open_connection("127.0.0.1", 22)
        with pytest.raises(asyncssh.ChannelListenError):
            await conn.forward_remote_port("127.0.0.1", 0, "127.0.0.1", 22)
        assert stack.ssh.session_children() == []


async def test_share_opens_the_shared_trip_read_only(stack):
    fay = await stack.member(email("fay"), "Fay")
    trip = await new_trip(fay, "Shared Sicily")
    token = (await fay.http.post(f"/trips/{trip['_id']}/share-token")).json()["token"]
    async with connect(stack.ssh.port, fay.ssh_key) as conn:
        before = (await fay.http.get("/me/ssh-keys")).json()
        terminal = await Terminal.open(conn, 80, 24, command=f"share {token}")
        await terminal.wait_for("Shared Sicily")
        (child,) = stack.ssh.session_children()
        environ = Path(f"/proc/{child}/environ").read_bytes()
        assert b"TRIP_API_KEY=" not in environ  # a share link needs no key, so none is made
        assert f"TRIP_SHARE_TOKEN={token}".encode() in environ
        assert (
            token.encode() not in Path(f"/proc/{child}/cmdline").read_bytes()
        )  # `ps` shows that to everyone
        terminal.type("q")
        await terminal.ended()
    assert (await fay.http.get("/me/ssh-keys")).json() != before  # the key's last use was recorded


async def test_limits_per_user_idle_and_failed_sign_ins(stack):
    # The idle time leaves a loaded machine room to start the app; a keystroke restarts it.
    server = stack.another_ssh("--sessions-per-user", "1", "--idle-timeout", "10", "--failed-auth-limit", "3")
    gus = await stack.member(email("gus"), "Gus")
    async with connect(server.port, gus.ssh_key) as first:
        terminal = await Terminal.open(first)
        await terminal.wait_for("No trips yet")
        async with connect(server.port, gus.ssh_key) as second:
            refused = await Terminal.open(second)
            assert await refused.ended() == 1
            assert "already have 1 session" in refused.text()
        terminal.type("\x1b")  # a key that does nothing on the picker
        typed = time.monotonic()
        # No keystroke for 10 s: the session ends, saying why.
        assert await terminal.ended(timeout=40) is not None
        assert time.monotonic() - typed >= 9.5
        assert "idle" in terminal.text()
    assert await server.logged("ended: idle"), server.output()

    for _ in range(3):
        with pytest.raises(asyncssh.PermissionDenied):
            async with connect(server.port, asyncssh.generate_private_key("ssh-ed25519")):
                pass
    with pytest.raises((asyncssh.DisconnectError, asyncssh.ConnectionLost, ConnectionResetError)):
        async with connect(server.port, gus.ssh_key):  # a good key, but the address is over its limit
            pass
    assert await server.logged("too many failed sign-ins"), server.output()


def test_the_host_key_is_made_owner_only_and_an_open_one_is_refused(stack, tmp_path):
    key = stack.ssh.host_key
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(key.parent).st_mode) == 0o700
    exposed = tmp_path / "exposed_key"
    exposed.write_bytes(asyncssh.generate_private_key("ssh-ed25519").export_private_key())
    exposed.chmod(0o644)
    with pytest.raises(RuntimeError, match="may be read by others"):
        start_ssh(stack.db_url, stack.api_url, tmp_path, "--host-key", str(exposed), timeout=30)


async def test_deleting_the_ssh_key_ends_its_sessions(stack):
    hal = await stack.member(email("hal"), "Hal")
    async with connect(stack.ssh.port, hal.ssh_key) as conn:
        terminal = await Terminal.open(conn)
        await terminal.wait_for("No trips yet")
        (child,) = stack.ssh.session_children()
        session_key = await session_key_of(child)
        (registered,) = (await hal.http.get("/me/ssh-keys")).json()["items"]
        assert (await hal.http.delete(f"/me/ssh-keys/{registered['_id']}")).status_code == 204
        await terminal.ended(timeout=30)  # the server looks every 10 s
        assert "SSH key of this session was deleted" in terminal.text()
        assert_terminal_restored(terminal.raw)
    assert await refused_soon(stack.api_url, session_key)
    with pytest.raises(asyncssh.PermissionDenied):
        async with connect(stack.ssh.port, hal.ssh_key):
            pass


async def session_keys_of(stack, user_id: str) -> int:
    db = Database(stack.db_url)
    try:
        async with db.read() as conn:
            return (
                await conn.execute(
                    select(func.count()).where(
                        t.api_keys.c.user_id == user_id, t.api_keys.c.name == SESSION_KEY_NAME
                    )
                )
            ).scalar_one()
    finally:
        await db.dispose()


async def test_clients_that_leave_at_once_leave_no_session_key_behind(stack):
    ivy = await stack.member(email("ivy"), "Ivy")
    for _ in range(5):
        conn = await connect(stack.ssh.port, ivy.ssh_key)
        await conn.create_process(term_type="xterm", term_size=(80, 24), encoding=None)
        conn.abort()
    for _ in range(600):
        if await session_keys_of(stack, ivy.user_id) == 0 and not stack.ssh.session_children():
            break
        await asyncio.sleep(0.1)
    assert await session_keys_of(stack, ivy.user_id) == 0
    assert stack.ssh.session_children() == []


async def test_stopping_the_server_ends_its_sessions_and_revokes_their_keys(stack):
    server = stack.another_ssh()
    jo = await stack.member(email("jo"), "Jo")
    async with connect(server.port, jo.ssh_key) as conn:
        terminal = await Terminal.open(conn)
        await terminal.wait_for("No trips yet")
        (child,) = server.session_children()
        session_key = await session_key_of(child)
        await asyncio.get_running_loop().run_in_executor(None, server.stop)
        assert server.proc.returncode == 0
        await terminal.ended()
    assert_terminal_restored(terminal.raw)
    assert not Path(f"/proc/{child}").exists()
    assert await refused_soon(stack.api_url, session_key)
    assert "ended: the server is stopping" in server.output()


async def test_the_host_key_fingerprint_is_announced_and_is_the_one_served(stack):
    async with connect(stack.ssh.port, (await stack.member(email("kim"), "Kim")).ssh_key) as conn:
        served = conn.get_server_host_key().get_fingerprint()
    assert f"host key {served}" in stack.ssh.output()


async def test_keys_typed_while_the_app_starts_reach_it(stack):
    lee = await stack.member(email("lee"), "Lee")
    async with connect(stack.ssh.port, lee.ssh_key) as conn:
        terminal = await Terminal.open(conn)
        terminal.type("q")  # before the app is up: held for it, not dropped
        assert await terminal.ended(timeout=30) == 0


async def test_a_session_gets_the_client_terminal_and_none_of_the_servers_secrets(stack):
    server = stack.another_ssh(
        env={"TRIP_DATABASE_URL": stack.db_url, "AWS_SECRET_ACCESS_KEY": "do-not-pass"}
    )
    max_ = await stack.member(email("max"), "Max")
    async with connect(server.port, max_.ssh_key) as conn:
        process = await conn.create_process(
            term_type="screen-256color",
            term_size=(100, 30),
            encoding=None,
            env={"TZ": "Asia/Tokyo", "LD_PRELOAD": "/tmp/evil.so"},
        )
        terminal = Terminal(process, 100, 30)
        await terminal.wait_for("No trips yet")
        (child,) = server.session_children()
        environ = dict(
            v.split("=", 1) for v in Path(f"/proc/{child}/environ").read_text().split("\0") if "=" in v
        )
        terminal.type("q")
        await terminal.ended()
    assert environ["TERM"] == "screen-256color" and environ["TZ"] == "Asia/Tokyo"
    assert (
        "LD_PRELOAD" not in environ
        and "AWS_SECRET_ACCESS_KEY" not in environ
        and "TRIP_DATABASE_URL" not in environ
    )
    assert environ["TRIP_API_URL"] == stack.api_url and environ["TRIP_API_KEY"].startswith("osk_")
    assert not Path(environ["TRIP_CONFIG_FILE"]).exists()


async def test_a_start_revokes_the_session_keys_a_crashed_server_left(stack):
    nia = await stack.member(email("nia"), "Nia")
    db = Database(stack.db_url)
    try:
        async with db.write() as conn:
            stale = await create_key(conn, nia.user_id, None, name=SESSION_KEY_NAME)
            recent = await create_key(
                conn, nia.user_id, None, name=SESSION_KEY_NAME
            )  # a live session elsewhere
            day_ago = int((time.time() - 24 * 3600) * 1000)
            await conn.execute(
                update(t.api_keys).where(t.api_keys.c.key_hash == hash_key(stale)).values(created_at=day_ago)
            )
    finally:
        await db.dispose()
    stack.another_ssh()
    assert await refused_soon(stack.api_url, stale)
    async with httpx.AsyncClient(base_url=stack.api_url) as http:
        assert (await http.get("/me", headers={"Authorization": f"Bearer {recent}"})).status_code == 200
        assert (await http.get("/me", headers={"Authorization": f"Bearer {nia.api_key}"})).status_code == 200


async def test_every_way_a_client_leaves_ends_its_session_cleanly(stack):
    server = stack.another_ssh()
    tom = await stack.member(email("tom"), "Tom")
    for leave in ("close the channel", "close the connection", "send EOF and close"):
        async with connect(server.port, tom.ssh_key) as conn:
            terminal = await Terminal.open(conn)
            await terminal.wait_for("No trips yet")
            before = server.output().count(f"user={tom.email}")
            if leave == "close the channel":
                terminal.process.close()
            elif leave == "close the connection":
                conn.close()
            else:
                terminal.process.stdin.write_eof()
                terminal.process.close()
                conn.close()
        for _ in range(150):
            if server.output().count(f"user={tom.email}") > before:
                break
            await asyncio.sleep(0.1)
        assert server.output().count(f"user={tom.email}") == before + 1, leave
    await asyncio.sleep(6)  # past the grace a closing channel has (CLOSE_GRACE)
    await asyncio.get_running_loop().run_in_executor(
        None, server.stop
    )  # a task that failed says so at the latest now
    assert server.proc.returncode == 0
    assert "Task exception was never retrieved" not in server.output()
    assert "Traceback" not in server.output()


def terminal_size_of(pid: int) -> tuple[int, int]:
    """(width, height) of the PTY a session's app runs on."""
    import fcntl
    import struct
    import termios

    fd = os.open(f"/proc/{pid}/fd/0", os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        rows, cols, _, _ = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))
    finally:
        os.close(fd)
    return cols, rows


async def size_becomes(pid: int, size: tuple[int, int]) -> tuple[int, int]:
    for _ in range(400):
        if (seen := terminal_size_of(pid)) == size:
            break
        await asyncio.sleep(0.05)
    return seen


async def test_a_huge_terminal_is_clamped_and_freezes_nobody(stack):
    olga = await stack.member(email("olga"), "Olga")
    pat = await stack.member(email("pat"), "Pat")
    async with connect(stack.ssh.port, olga.ssh_key) as conn:
        # A size that does not fit the kernel's 16-bit window size, then a huge one that does.
        process = await conn.create_process(term_type="xterm", term_size=(70000, 70000), encoding=None)
        _terminal = Terminal(process, 500, 300)  # kept: its reader drains the session's output
        for _ in range(600):
            if stack.ssh.session_children():
                break
            await asyncio.sleep(0.05)
        (child,) = stack.ssh.session_children()
        session_key = await session_key_of(child)
        assert await size_becomes(child, (500, 300)) == (500, 300)
        process.change_terminal_size(10000, 10000)
        await asyncio.sleep(0.3)
        assert terminal_size_of(child) == (500, 300)
        process.change_terminal_size(100, 30)
        assert await size_becomes(child, (100, 30)) == (100, 30)
        # The server still serves others meanwhile.
        async with asyncio.timeout(30), connect(stack.ssh.port, pat.ssh_key) as other:
            second = await Terminal.open(other)
            await second.wait_for("No trips yet")
            second.type("q")
            await second.ended()
    assert await refused_soon(stack.api_url, session_key)
    for _ in range(300):
        if f"user={olga.email}" in stack.ssh.output():
            break
        await asyncio.sleep(0.1)
    assert f"user={olga.email}" in stack.ssh.output()


async def test_a_session_end_restores_the_clients_terminal_when_the_server_ends_it(stack):
    server = stack.another_ssh("--idle-timeout", "10")
    quinn = await stack.member(email("quinn"), "Quinn")
    async with connect(server.port, quinn.ssh_key) as conn:
        terminal = await Terminal.open(conn)
        await terminal.wait_for("No trips yet")
        assert b"\x1b[?1049h" in terminal.raw and b"\x1b[?1000h" in terminal.raw
        await terminal.ended(timeout=40)
    assert_terminal_restored(terminal.raw)
    assert terminal.raw.rfind(b"idle") > terminal.raw.rfind(
        b"\x1b[?1049l"
    )  # the reason shows on the main screen


def assert_terminal_restored(raw: bytes | bytearray) -> None:
    """The main screen is back, mouse reporting off and the cursor shown, after all the app wrote."""
    for on, off in (
        (b"\x1b[?1049h", b"\x1b[?1049l"),
        (b"\x1b[?1000h", b"\x1b[?1000l"),
        (b"\x1b[?25l", b"\x1b[?25h"),
    ):
        assert raw.rfind(off) > raw.rfind(on), (
            f"{off!r} not sent after the last {on!r}: {bytes(raw[-300:])!r}"
        )


async def test_a_share_token_that_opens_nothing_starts_no_app_and_counts_against_its_client(stack):
    # Every app calls the API from this host's address: wrong share tokens must not reach the API,
    # whose failed-attempt limit would then shut out every member of this host.
    server = stack.another_ssh("--failed-auth-limit", "4")
    rita = await stack.member(email("rita"), "Rita")
    trip = await new_trip(rita, "Shared Crete")
    token = (await rita.http.post(f"/trips/{trip['_id']}/share-token")).json()["token"]
    wrong = ["shr_" + "A" * 43, "shr_short", token[:-1] + ("B" if token[-1] != "B" else "C")]
    for bad in wrong:
        async with connect(server.port, rita.ssh_key) as conn:
            refused = await Terminal.open(conn, command=f"share {bad}")
            assert await refused.ended(timeout=10) == 1
            assert "opens no trip" in refused.text()
            assert server.session_children() == []
    async with connect(server.port, rita.ssh_key) as conn:  # a good one still opens
        terminal = await Terminal.open(conn, command=f"share {token}")
        await terminal.wait_for("Shared Crete")
        terminal.type("q")
        await terminal.ended()
    async with connect(server.port, rita.ssh_key) as conn:  # the fourth wrong one fills this address's minute
        refused = await Terminal.open(conn, command=f"share {wrong[0]}")
        assert await refused.ended(timeout=10) == 1
    with pytest.raises((asyncssh.DisconnectError, asyncssh.ConnectionLost, ConnectionResetError)):
        async with connect(server.port, rita.ssh_key):
            pass
    assert token not in server.output() and wrong[0] not in server.output()


async def test_a_session_writes_no_file_on_the_server(stack):
    sam = await stack.member(email("sam"), "Sam")
    trip = await new_trip(sam, "Export me")
    async with connect(stack.ssh.port, sam.ssh_key) as conn:
        terminal = await Terminal.open(conn, 120, 90)  # the help whole on one screen
        await terminal.wait_for("Export me")
        terminal.type("\r")
        await terminal.wait_for("No legs yet")
        (child,) = stack.ssh.session_children()
        cwd = Path(os.readlink(f"/proc/{child}/cwd"))
        terminal.type("\x05")  # ctrl+e: export the calendar
        await terminal.quiet(0.5)
        terminal.type("?")
        await terminal.wait_for("Not over SSH")
        assert "Exports and screenshots" in terminal.text(), terminal.text()
        terminal.type("\x1b")
        await terminal.quiet(0.3)
        terminal.type("\x10")  # ctrl+p: the palette offers no screenshot
        await terminal.quiet(0.3)
        terminal.type("Screensh")
        await terminal.quiet(0.5)
        assert "Screenshot" not in terminal.text()
        terminal.type("\x1b")
        await terminal.quiet(0.3)
        terminal.type("q")
        await terminal.ended()
    assert not (cwd / f"trip-{trip['_id']}.ics").exists()
    assert "Wrote" not in terminal.text()
