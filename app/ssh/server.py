"""The SSH server of `trip ssh`: public-key sign-in against the members' registered keys, then
one `trip ui` per session on a pseudo-terminal, acting with a short-lived API key.

A session's API key is made when the session starts, handed to the child in its environment
(never argv, never a file), and revoked when the session ends, however it ends; keys of sessions
that a crashed server could not revoke are swept at the next start (a session lives at most
`Limits.max_session` seconds, so an older session key is nobody's).

Nothing else is served: no shell, no other command, no SFTP or SCP, no port, agent or X11
forwarding. `ssh -t host share TOKEN` opens a share link read-only (no API key is made)."""

from __future__ import annotations

import asyncio
import fcntl
import ipaddress
import logging
import os
import re
import shlex
import signal
import struct
import sys
import termios
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh
from sqlalchemy import delete, select

from app import settings
from app.server.storage import accounts
from app.server.storage import ssh_keys as key_store
from app.server.storage import tables as t
from app.server.storage.database import Database
from app.server.storage.files import FILE_MODE, make_private_directories
from app.server.storage.shares import TOKEN_PREFIX, hash_token
from app.settings import inherited

log = logging.getLogger("trip.ssh")

SESSION_KEY_NAME = "trip ssh session"
"""The name of every session's API key (`trip keys list` shows it); the start-up sweep finds them by it."""
UI_COMMAND = (sys.executable, "-m", "app.cli", "ui")
PASSED_ENVIRONMENT = ("PATH", "HOME", "PYTHONPATH", "VIRTUAL_ENV", "SYSTEMROOT")
"""Of the server's environment, only these reach a session (never TRIP_DATABASE_URL, say)."""
CLIENT_ENVIRONMENT = ("LANG", "LC_ALL", "LC_CTYPE", settings.TIME_ZONE, "COLORTERM")
"""What a client may set with `SendEnv`."""
SHARE_TOKEN = re.compile(re.escape(TOKEN_PREFIX) + r"[A-Za-z0-9_-]{43}")
"""What `trip serve` makes (app/server/storage/shares.py): anything else is refused unlooked-up."""
UNKNOWN_KEYS_PER_CONNECTION = 6
"""Keys a client may offer in one connection before it is disconnected (OpenSSH's MaxAuthTries)."""
FLUSH_DELAY = 0.004
"""Seconds the app's output is gathered before it goes out: a frame that the terminal driver hands
over in several reads leaves in one SSH packet, not one per read."""
OUTPUT_READ = 65536
CLOSE_GRACE = 5.0
"""Seconds a client has to close the channel of an ended session before its connection is closed."""
INPUT_BUFFER = 65536
"""Bytes of input held for the app at most (a paste while it starts)."""
MAX_WIDTH, MAX_HEIGHT = 500, 300
"""The largest terminal a session gets: a client may ask for any size (up to 2**32), and the app's
memory and CPU grow with the number of cells, so a huge size would cost the host for nothing."""
DRAIN_LIMIT = 1 << 20
"""Bytes of the app's last output read at most when a session ends."""
TERMINAL_RESET = b"\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l\x1b[?1004l\x1b[?2004l\x1b[?1049l\x1b[?25h\x1b[0m"
"""Mouse reporting, focus events and bracketed paste off, the main screen back, the cursor shown:
sent when the server ended the app (idle, key deleted, stopping), which had no chance to restore them."""


@dataclass(frozen=True)
class Limits:
    sessions_per_user: int = 3
    sessions_total: int = 50
    idle_timeout: float = 3600.0
    """Seconds without a keystroke before a session is closed (output does not count: a reader
    who only watches the chat is idle)."""
    failed_auth_per_minute: int = 10
    """Failed sign-ins per client address (IPv6: per /64) per minute; then the address is refused
    until the minute ends. An unknown key offered, and a connection that ends unauthenticated, each count."""
    max_session: float = 12 * 3600.0
    login_timeout: float = 30.0
    key_check: float = 10.0
    """Seconds between two looks at whether the session's SSH key is still registered: deleting
    a lost laptop's key ends its sessions within this time."""


@dataclass
class Config:
    database_url: str
    api_url: str
    host_key: Path
    limits: Limits = field(default_factory=Limits)
    data_dir: Path | None = None
    """Where the sessions' outbox and log live (default: the host key's directory)."""
    ui_command: tuple[str, ...] = UI_COMMAND


# --- host key -----------------------------------------------------------------------------------


class HostKeyProblem(Exception):
    pass


def load_or_make_host_key(path: Path) -> asyncssh.SSHKey:
    """The server's host key: made (ed25519) on first start, owner-only (0600 in a 0700 directory
    made for it). An existing key that others may read is refused, as sshd does."""
    try:
        descriptor = None
        make_private_directories(path.parent)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
    except FileExistsError:
        pass
    except OSError as error:
        raise HostKeyProblem(f"cannot make the host key {path}: {error.strerror}") from None
    if descriptor is not None:
        try:
            os.fchmod(descriptor, FILE_MODE)
            key = asyncssh.generate_private_key("ssh-ed25519", comment="tripdeck host key")
            os.write(descriptor, key.export_private_key())
        finally:
            os.close(descriptor)
        log.warning("made the host key %s (%s)", path, key.get_fingerprint())
        return key
    try:
        mode = os.stat(path).st_mode
        if mode & 0o077:
            raise HostKeyProblem(
                f"the host key {path} may be read by others (mode {mode & 0o777:o}): chmod 600 it, or remove it to make a new one"
            )
        return asyncssh.read_private_key(path)
    except (OSError, asyncssh.KeyImportError) as error:
        raise HostKeyProblem(f"cannot read the host key {path}: {error}") from None


# --- limits -------------------------------------------------------------------------------------


def address_bucket(address: str) -> str:
    """The address failed attempts count for: itself, or its /64 for IPv6 (one subscriber's network)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


class FailedSignIns:
    """Failed sign-ins per address in fixed one-minute windows (this process only)."""

    def __init__(self, limit: int, clock=time.monotonic) -> None:
        self.limit = limit
        self.clock = clock
        self._windows: dict[str, tuple[float, int]] = {}

    def _window(self, bucket: str) -> tuple[float, int]:
        now = self.clock()
        start, count = self._windows.get(bucket, (now, 0))
        if now - start >= 60:
            start, count = now, 0
        return start, count

    def blocked(self, address: str) -> bool:
        return self._window(address_bucket(address))[1] >= self.limit

    def fail(self, address: str) -> None:
        bucket = address_bucket(address)
        start, count = self._window(bucket)
        if len(self._windows) > 100_000:
            now = self.clock()
            self._windows = {b: w for b, w in self._windows.items() if now - w[0] < 60}
        self._windows[bucket] = (start, count + 1)


# --- the server ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    ssh_key_id: str
    user_id: str
    email: str
    fingerprint: str


class TripSSH:
    """The SSH service: `await start(host, port)`, `await close()`."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.limits = config.limits
        self.db = Database(config.database_url)
        self.failed = FailedSignIns(self.limits.failed_auth_per_minute)
        self.sessions: set[Session] = set()
        self.data_dir = config.data_dir or config.host_key.parent
        self._listener: asyncssh.SSHAcceptor | None = None
        self.host_key_fingerprint = ""

    async def start(self, host: str, port: int) -> int:
        """Migrate, sweep session keys left by a crash, listen; returns the port (0 picks one)."""
        await self.db.migrate()  # first: a database that cannot be used is said before anything is made
        host_key = load_or_make_host_key(self.config.host_key)
        self.host_key_fingerprint = host_key.get_fingerprint()
        """Published to members, so that they can check it on their first connection."""
        await self.sweep_session_keys()
        make_private_directories(self.data_dir)
        self._listener = await asyncssh.create_server(
            lambda: Connection(self),
            host,
            port,
            server_host_keys=[host_key],
            encoding=None,
            public_key_auth=True,
            password_auth=False,
            kbdint_auth=False,
            host_based_auth=False,
            gss_auth=False,
            gss_kex=False,
            allow_pty=True,
            line_editor=False,
            x11_forwarding=False,
            agent_forwarding=False,
            sftp_factory=None,
            allow_scp=False,
            login_timeout=self.limits.login_timeout,
            keepalive_interval=60,
            keepalive_count_max=3,
        )
        return self._listener.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
            await self._listener.wait_closed()
        sessions = list(self.sessions)
        for session in sessions:
            session.stop("the server is stopping")
        await asyncio.gather(*(session.finished() for session in sessions), return_exceptions=True)
        await self.db.dispose()

    async def sweep_session_keys(self) -> int:
        """Delete the session keys older than the longest session: their server ended without
        revoking them (killed, the machine lost power)."""
        older = int((time.time() - self.limits.max_session - 60) * 1000)
        async with self.db.write() as conn:
            result = await conn.execute(
                delete(t.api_keys).where(
                    t.api_keys.c.name == SESSION_KEY_NAME, t.api_keys.c.created_at < older
                )
            )
        if result.rowcount:
            log.warning("revoked %d session keys left by an earlier run", result.rowcount)
        return result.rowcount

    async def member_of(self, fingerprint: str) -> Member | None:
        async with self.db.read() as conn:
            owner = await key_store.owner_of(conn, fingerprint)
        return None if owner is None else Member(owner.key_id, owner.user_id, owner.email, fingerprint)

    async def still_registered(self, member: Member) -> bool:
        found = await self.member_of(member.fingerprint)
        return found is not None and found.user_id == member.user_id

    async def begin_session(self, member: Member, *, with_key: bool) -> str | None:
        """Record the SSH key's use, and make the session's API key (all four scopes: the app
        does everything its member may do)."""
        async with self.db.write() as conn:
            await key_store.touch(conn, member.ssh_key_id)
            return (
                await accounts.create_key(conn, member.user_id, None, name=SESSION_KEY_NAME)
                if with_key
                else None
            )

    async def share_opens(self, token: str) -> bool:
        if not SHARE_TOKEN.fullmatch(token):
            return False  # not even the form of one (shr_ and 43 URL-safe characters)
        async with self.db.read() as conn:
            found = await conn.execute(
                select(t.trips.c.id).where(t.trips.c.share_token_hash == hash_token(token))
            )
        return found.scalar() is not None

    async def revoke(self, key: str) -> None:
        async with self.db.write() as conn:
            await accounts.revoke_key(conn, key)

    def sessions_of(self, user_id: str) -> int:
        return sum(
            1 for session in self.sessions if session.member is not None and session.member.user_id == user_id
        )


def unknown_key_banner(fingerprint: str) -> str:
    return (
        f"Tripdeck: the key {fingerprint} is not registered to any member.\r\n"
        "If it is yours, register it (public key only), then connect again:\r\n"
        '  in the terminal app: ctrl+p, "SSH keys", and paste your .pub line\r\n'
        "  or ask the server's operator: trip keys add-ssh --email YOU FILE.pub\r\n"
    )


class Connection(asyncssh.SSHServer):
    """One client connection: public-key sign-in only, against the registered keys."""

    def __init__(self, service: TripSSH) -> None:
        self.service = service
        self.conn: asyncssh.SSHServerConnection | None = None
        self.address = ""
        self.member: Member | None = None
        self._candidate: Member | None = None
        self._unknown = 0
        self._bannered = False
        self._database_away = False

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        peer = conn.get_extra_info("peername") or ("", 0)
        self.address = str(peer[0])
        if self.service.failed.blocked(self.address):
            log.warning("ssh refused %s: too many failed sign-ins this minute", self.address)
            conn.disconnect(
                asyncssh.DISC_NO_MORE_AUTH_METHODS_AVAILABLE,
                "too many failed sign-ins from your address; try again in a minute",
            )

    def connection_lost(self, exc: Exception | None) -> None:
        # A connection that never signed in counts once (a password-only client, a scanner); one
        # that offered unknown keys has been counted for them already.
        if (
            self.member is None
            and self._unknown == 0
            and not self._database_away
            and not self.service.failed.blocked(self.address)
        ):
            self.service.failed.fail(self.address)

    def begin_auth(self, username: str) -> bool:
        return True  # the user name is ignored: the key alone says who the member is

    def public_key_auth_supported(self) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def host_based_auth_supported(self) -> bool:
        return False

    async def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        self._candidate = None
        fingerprint = key.get_fingerprint("sha256")
        assert self.conn is not None
        try:
            member = await self.service.member_of(fingerprint)
        except Exception as error:  # the database is away: refuse the key, but it is not the client's failure
            log.warning(
                "ssh could not look up key %s from %s (%s: %s)",
                fingerprint,
                self.address,
                error.__class__.__name__,
                error,
            )
            self._database_away = True
            if not self._bannered:
                self._bannered = True
                self.conn.send_auth_banner("Tripdeck cannot check keys right now; try again in a minute.\r\n")
            return False
        if member is not None:
            self._candidate = member
            return True
        self._unknown += 1
        self.service.failed.fail(self.address)
        log.info("ssh unknown key %s from %s", fingerprint, self.address)
        if not self._bannered:
            self._bannered = True
            self.conn.send_auth_banner(unknown_key_banner(fingerprint))
        if self._unknown >= UNKNOWN_KEYS_PER_CONNECTION or self.service.failed.blocked(self.address):
            self.conn.disconnect(asyncssh.DISC_NO_MORE_AUTH_METHODS_AVAILABLE, "too many keys refused")
        return False

    def auth_completed(self) -> None:
        self.member = self._candidate

    def session_requested(self) -> Session:
        return Session(self.service, self)


class Session(asyncssh.SSHServerSession):
    """One session channel: a `trip ui` on a pseudo-terminal sized and typed as the client's."""

    def __init__(self, service: TripSSH, connection: Connection) -> None:
        self.service = service
        self.chan: asyncssh.SSHServerChannel | None = None
        self.member = connection.member
        self.address = connection.address
        self.term_type = "xterm-256color"
        self.size = (80, 24)
        self.has_pty = False
        self.share_token: str | None = None
        self.process: asyncio.subprocess.Process | None = None
        self.master: int | None = None
        self.api_key: str | None = None
        self.started = time.monotonic()
        self.last_input = time.monotonic()
        self.bytes_out = 0
        self._outgoing = bytearray()
        self._flush: asyncio.TimerHandle | None = None
        self._incoming = bytearray()
        self._reading = False
        self._paused = False
        self._task: asyncio.Task | None = None
        self._stop = asyncio.Event()
        self._closed = False
        """The channel is gone: nothing more is written to it."""
        self._reason = "the app quit"
        self._connection: asyncssh.connection.SSHConnection | None = None
        """Kept from the start: a torn-down channel no longer gives its connection (it asserts)."""
        self._app_stopped = False
        """The server ended the app (it did not quit): the client's terminal is restored for it."""

    # --- asyncssh callbacks ---

    def connection_made(self, chan: asyncssh.SSHServerChannel) -> None:
        self.chan = chan
        self._connection = chan.get_connection()

    def pty_requested(self, term_type: str, term_size, term_modes) -> bool:
        self.has_pty = True
        self.term_type = term_type or self.term_type
        width, height = term_size[0], term_size[1]
        if width and height:
            self.size = clamp_size(width, height)
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        try:
            words = shlex.split(command)
        except ValueError:
            return False
        if len(words) == 2 and words[0] == "share" and words[1]:
            self.share_token = words[1]
            return True
        # Only the first word: the rest may be a token typed wrong (`shar TOKEN`).
        log.info(
            "ssh refused the command %r from %s",
            command.split(maxsplit=1)[0][:20] if command.strip() else "",
            self.address,
        )
        return False

    def subsystem_requested(self, subsystem: str) -> bool:
        return False

    def session_started(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run())

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        if width and height:
            self.size = clamp_size(width, height)
            if self.master is not None:
                _set_size(self.master, *self.size)  # the kernel sends the app SIGWINCH

    def data_received(self, data: bytes, datatype) -> None:
        self.last_input = time.monotonic()
        if len(self._incoming) + len(data) > INPUT_BUFFER:
            return  # the app is not reading (still starting, or stuck): drop rather than grow
        self._incoming += data  # keys typed while the app starts wait for it
        self._write_input()

    def eof_received(self) -> bool:
        return True  # keep the channel open: the app decides when it ends

    def pause_writing(self) -> None:
        self._paused = True
        self._stop_reading()  # the client is slow: the app's writes wait in the PTY, not in memory

    def resume_writing(self) -> None:
        self._paused = False
        self._start_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self.stop(
            "the client disconnected" if exc is None else f"the connection broke ({exc.__class__.__name__})"
        )

    def stop(self, reason: str) -> None:
        """End the session (the run task stops the app, revokes the key and says goodbye)."""
        if not self._stop.is_set():
            self._reason = reason
            self._stop.set()

    async def finished(self) -> None:
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    # --- the session ---

    async def run(self) -> None:
        """The session, start to end. Only this task cleans up, whatever ends the session (the
        app quits, the client goes, idle, the server stops): so a key made while the client was
        leaving is revoked all the same."""
        assert self.chan is not None
        service, limits = self.service, self.service.limits
        member = self.member
        if member is None:
            self.chan.write(b"Not signed in.\r\n")
            self.chan.exit(1)
            return
        if not self.has_pty:
            self.chan.write(b"Tripdeck is a terminal app: connect with a terminal (ssh -t).\r\n")
            self.chan.exit(1)
            return
        if self.share_token is not None and not await self._share_opens():
            return
        if len(service.sessions) >= limits.sessions_total:
            self._refuse("The server has as many sessions as it takes; try again later.")
            return
        if service.sessions_of(member.user_id) >= limits.sessions_per_user:
            self._refuse(f"You already have {limits.sessions_per_user} sessions open; close one first.")
            return
        service.sessions.add(self)
        try:
            self.api_key = await service.begin_session(member, with_key=self.share_token is None)
            if not self._stop.is_set():
                await self._spawn()
                await self._watch()
        except Exception as error:  # the child could not start, the database failed...
            log.exception("ssh session of %s failed", member.email)
            self._reason = f"failed ({error.__class__.__name__})"
            if not self._closed:
                self.chan.write(b"\r\nTripdeck: the session failed on the server; try again.\r\n")
        finally:
            await self._end(self._reason)

    async def _share_opens(self) -> bool:
        """Whether the share token opens a trip, looked up here before any app starts: every app
        calls the API from this host's address, which the API shuts out for a minute after 30
        failed attempts (a share 404 is one), so one member's wrong tokens would shut out every
        member. A wrong token counts as a failed sign-in of the client's own address instead."""
        assert self.share_token is not None
        service = self.service
        try:
            opens = not service.failed.blocked(self.address) and await service.share_opens(self.share_token)
        except Exception as error:  # the database is away: not the client's failure
            log.warning("ssh could not look up a share token (%s: %s)", error.__class__.__name__, error)
            self._refuse("Tripdeck cannot check share links right now; try again in a minute.")
            return False
        if not opens:
            service.failed.fail(self.address)
            self._refuse("Tripdeck: that share link opens no trip (mistyped, or revoked).")
        return opens

    def _refuse(self, text: str) -> None:
        assert self.chan is not None and self.member is not None
        log.info(
            "ssh refused session of %s (%s) from %s: %s",
            self.member.email,
            self.member.fingerprint,
            self.address,
            text,
        )
        self.chan.write(text.encode() + b"\r\n")
        self.chan.exit(1)

    def _environment(self) -> dict[str, str]:
        assert self.chan is not None
        env = inherited(PASSED_ENVIRONMENT)
        env["LANG"] = "C.UTF-8"
        client_env = self.chan.get_environment()
        env.update(
            {
                name: value
                for name, value in client_env.items()
                if name in CLIENT_ENVIRONMENT and len(value) < 100
            }
        )
        data = self.service.data_dir
        env.update(
            {
                "TERM": self.term_type,
                settings.API_URL: self.service.config.api_url,
                # Several members' outboxes share one file, each reading only its own (app/tui/outbox.py).
                settings.OUTBOX_FILE: str(data / "ssh-outbox.jsonl"),
                settings.LOG_FILE: str(data / "ssh-sessions.log"),
                # No config file: nothing of the server account's (its key, its keymap) reaches a member.
                settings.CONFIG_FILE: str(data / "ssh-no-config.json"),
                # The member's files are on their own machine: nothing (an export, a screenshot) is
                # written to this server's disk, where other local users could read it.
                settings.NO_LOCAL_FILES: "1",
            }
        )
        if self.api_key is not None:
            env[settings.API_KEY] = self.api_key
        if self.share_token is not None:
            env[settings.SHARE_TOKEN] = self.share_token  # not argv: `ps` shows that to every local user
        return env

    async def _spawn(self) -> None:
        master, slave = os.openpty()
        self.master = master
        argv = [*list(self.service.config.ui_command), "--url", self.service.config.api_url]
        try:
            os.set_blocking(master, False)  # first: the end reads what is left, and must never wait
            _set_size(master, *self.size)
            self.process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=self._environment(),
                start_new_session=True,
                preexec_fn=_take_terminal,
                close_fds=True,
            )
        finally:
            os.close(slave)
        self._start_reading()
        self._write_input()

    async def _watch(self) -> None:
        """Until the app exits, or the session is idle or too long, or its SSH key is deleted."""
        assert self.process is not None and self.member is not None
        limits = self.service.limits
        waiting = asyncio.ensure_future(self.process.wait())
        stopping = asyncio.ensure_future(self._stop.wait())
        next_check = time.monotonic() + limits.key_check
        try:
            while True:
                now = time.monotonic()
                deadline = min(
                    self.last_input + limits.idle_timeout, self.started + limits.max_session, next_check
                )
                await asyncio.wait(
                    {waiting, stopping},
                    timeout=max(0.05, deadline - now),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if self._stop.is_set():
                    return
                if waiting.done():
                    self._reason = f"the app quit ({self.process.returncode})"
                    return
                now = time.monotonic()
                if now >= next_check:
                    next_check = now + limits.key_check
                    if not await self.service.still_registered(self.member):
                        self._reason = "its SSH key was deleted"
                        return
                if now >= self.started + limits.max_session:
                    self._reason = "the session reached its longest time"
                    return
                if now >= self.last_input + limits.idle_timeout:
                    self._reason = "idle"
                    return
        finally:
            for task in (waiting, stopping):
                if not task.done():
                    task.cancel()

    # --- the pseudo-terminal ---

    def _start_reading(self) -> None:
        if self.master is not None and not self._reading and not self._paused:
            asyncio.get_running_loop().add_reader(self.master, self._read_output)
            self._reading = True

    def _stop_reading(self) -> None:
        if self.master is not None and self._reading:
            asyncio.get_running_loop().remove_reader(self.master)
            self._reading = False

    def _read_output(self) -> None:
        assert self.master is not None
        try:
            data = os.read(self.master, OUTPUT_READ)
        except BlockingIOError:
            return
        except OSError:  # EIO: the app closed its side
            data = b""
        if not data:
            self._stop_reading()
            return
        self._outgoing += data
        if self._flush is None:
            self._flush = asyncio.get_running_loop().call_later(FLUSH_DELAY, self._send_output)

    def _send_output(self) -> None:
        self._flush = None
        if self._outgoing and self.chan is not None and not self._closed:
            try:
                self.chan.write(bytes(self._outgoing))
                self.bytes_out += len(self._outgoing)
            except (OSError, asyncssh.Error):  # the client closed the channel: the session is ending
                pass
        self._outgoing.clear()

    def _write_input(self) -> None:
        if self.master is None:
            return
        loop = asyncio.get_running_loop()
        while self._incoming:
            try:
                written = os.write(self.master, self._incoming)
            except BlockingIOError:
                loop.add_writer(self.master, self._input_writable)
                return
            except OSError:
                self._incoming.clear()
                return
            del self._incoming[:written]

    def _input_writable(self) -> None:
        if self.master is not None:
            asyncio.get_running_loop().remove_writer(self.master)
        self._write_input()

    # --- the end ---

    async def _end(self, reason: str) -> None:
        """Stop the app, revoke the session's key, close the channel, log one line."""
        service = self.service
        try:
            await self._stop_process()
        except Exception:
            log.exception("ssh could not stop a session's app")
        finally:
            self._close_terminal()
            if self.api_key is not None:
                key, self.api_key = self.api_key, None
                try:
                    await service.revoke(key)
                except Exception:
                    log.exception("could not revoke a session key; the next start sweeps it")
            was_running = self in service.sessions
            service.sessions.discard(self)
            if self.chan is not None and not self._closed:
                status = (
                    self.process.returncode
                    if self.process is not None and self.process.returncode is not None
                    else 0
                )
                try:
                    if reason == "idle":
                        self.chan.write(b"\r\nTripdeck: closed after being idle.\r\n")
                    elif reason == "its SSH key was deleted":
                        self.chan.write(b"\r\nTripdeck: the SSH key of this session was deleted.\r\n")
                    self.chan.exit(max(0, status))
                except (OSError, asyncssh.Error, BrokenPipeError):
                    pass
            if was_running and self.member is not None:
                log.info(
                    "ssh session user=%s key=%s from=%s duration=%.1fs bytes_out=%d share=%s ended: %s",
                    self.member.email,
                    self.member.fingerprint,
                    self.address,
                    time.monotonic() - self.started,
                    self.bytes_out,
                    "yes" if self.share_token is not None else "no",
                    reason,
                )
            if self.chan is not None and (connection := self._connection) is not None:
                # One session a connection: quitting the app ends the connection, once the client
                # has the exit status and the channel's close (closing at once could cut them off,
                # and OpenSSH then exits 255, "closed by remote host").
                try:
                    await asyncio.wait_for(self.chan.wait_closed(), CLOSE_GRACE)
                except TimeoutError:
                    pass
                except Exception as error:  # the channel is torn down already: the connection still closes
                    log.debug("ssh channel close: %r", error)
                connection.close()

    def _close_terminal(self) -> None:
        """Send what the app wrote last (and, if the server ended it, the terminal restored), then
        close the PTY. Never raises and never waits: it runs in the event loop of every session."""
        if self.master is None:
            return
        master = self.master
        try:
            self._send_output_now()
            if self._app_stopped and self.chan is not None and not self._closed:
                self.chan.write(TERMINAL_RESET)
        except Exception:
            log.exception("ssh could not send a session's last output")
        finally:
            self._stop_reading()
            asyncio.get_running_loop().remove_writer(master)
            os.close(master)
            self.master = None

    def _send_output_now(self) -> None:
        """What the app wrote last (its goodbye, the terminal restored) goes out before the end."""
        if self._flush is not None:
            self._flush.cancel()
        if self.master is not None:
            os.set_blocking(self.master, False)  # whatever failed before: a read here must not wait
        drained = 0
        while self.master is not None and drained < DRAIN_LIMIT:
            try:
                data = os.read(self.master, OUTPUT_READ)
            except OSError:  # nothing more (EAGAIN), or the app's side is closed (EIO)
                break
            if not data:
                break
            drained += len(data)
            self._outgoing += data
        self._send_output()

    async def _stop_process(self) -> None:
        process = self.process
        if process is None or process.returncode is not None:
            return
        for signal_number, wait in ((signal.SIGHUP, 2.0), (signal.SIGTERM, 2.0), (signal.SIGKILL, 5.0)):
            self._app_stopped = True
            try:
                os.killpg(process.pid, signal_number)
            except ProcessLookupError:
                return
            try:
                await asyncio.wait_for(process.wait(), wait)
                return
            except TimeoutError:
                continue


def clamp_size(width: int, height: int) -> tuple[int, int]:
    return max(1, min(width, MAX_WIDTH)), max(1, min(height, MAX_HEIGHT))


def _set_size(fd: int, width: int, height: int) -> None:
    width, height = clamp_size(width, height)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))


def _take_terminal() -> None:
    """In the child, after setsid: make the PTY its controlling terminal, so that a resize sends it SIGWINCH."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
