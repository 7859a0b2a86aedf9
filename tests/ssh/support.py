"""Real `trip serve` and `trip ssh` processes on one database, members with SSH keys, and a
terminal (pyte) behind an asyncssh client on a PTY, for the SSH tests and the benchmark."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import asyncssh
import httpx
import pyte

from app.server.storage.accounts import create_key, ensure_user
from app.server.storage.database import Database
from tests.processes import ROOT, free_port, start_servers, stop_servers


@dataclass
class SshServer:
    port: int
    proc: subprocess.Popen
    log: Path
    host_key: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    async def logged(self, text: str, timeout: float = 30.0) -> bool:
        """Whether `text` reaches the server's log within `timeout` (a session's line is written
        as its cleaning up ends, which may be after the client saw the end)."""
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.1)
        return True

    def session_children(self) -> list[int]:
        """The pids of the `trip ui` processes this server runs now."""
        children: list[int] = []
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            children += [int(pid) for pid in (task / "children").read_text().split()]
        return children

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIP_")}
    env["PYTHONPATH"] = str(ROOT)
    return env


def start_ssh(
    db_url: str,
    api_url: str,
    directory: Path,
    *flags: str,
    timeout: float = 120,
    env: dict[str, str] | None = None,
) -> SshServer:
    port = free_port()
    host_key = directory / f"host-{port}" / "ssh_host_ed25519_key"
    log = Path(tempfile.mkstemp(prefix=f"trip-ssh-{port}-", suffix=".log")[1])
    argv = [
        sys.executable,
        "-m",
        "app.cli",
        "ssh",
        "--db",
        db_url,
        "--url",
        api_url,
        "--port",
        str(port),
        "--host-key",
        str(host_key),
        *flags,
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv, cwd=ROOT, env={**child_env(), **(env or {})}, stdout=out, stderr=subprocess.STDOUT
        )
    server = SshServer(port, proc, log, host_key)
    deadline = time.monotonic() + timeout
    while "Tripdeck over SSH on" not in server.output():
        if proc.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"trip ssh did not start:\n{server.output()}")
        time.sleep(0.1)
    return server


@dataclass
class Member:
    email: str
    user_id: str
    api_key: str
    ssh_key: asyncssh.SSHKey
    http: httpx.AsyncClient


class Stack:
    """`trip serve` and `trip ssh` on one database."""

    def __init__(self, db_url: str, directory: Path) -> None:
        self.db_url = db_url
        self.directory = directory
        self.api = start_servers(db_url, 1, args=["--rate-limit", "100000"])
        self.api_url = self.api[0].url
        try:
            self.ssh = start_ssh(db_url, self.api_url, directory)
        except BaseException:
            stop_servers(self.api)
            raise
        self.extra: list[SshServer] = []

    def another_ssh(self, *flags: str, env: dict[str, str] | None = None) -> SshServer:
        server = start_ssh(self.db_url, self.api_url, self.directory, *flags, env=env)
        self.extra.append(server)
        return server

    def stop(self) -> None:
        for server in [self.ssh, *self.extra]:
            server.stop()
        stop_servers(self.api)

    async def member(self, email: str, name: str, *, register: bool = True) -> Member:
        """A user with a key, an SSH key registered through POST /me/ssh-keys, and an HTTP client."""
        db = Database(self.db_url)
        try:
            async with db.write() as conn:
                user_id = await ensure_user(conn, email, name)
                api_key = await create_key(conn, user_id)
        finally:
            await db.dispose()
        http = httpx.AsyncClient(
            base_url=self.api_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=30
        )
        ssh_key = asyncssh.generate_private_key("ssh-ed25519", comment=email)
        if register:
            added = await http.post("/me/ssh-keys", json={"publicKey": ssh_key.export_public_key().decode()})
            assert added.status_code == 201, added.text
        return Member(email, user_id, api_key, ssh_key, http)


async def new_trip(member: Member, title: str) -> dict:
    me = (await member.http.get("/me")).json()
    response = await member.http.post(
        "/trips",
        json={
            "groupId": me["defaultGroupId"],
            "title": title,
            "startDate": "2027-05-01",
            "endDate": "2027-05-08",
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def connect(port: int, key: asyncssh.SSHKey | None = None, **options) -> asyncssh.connect:
    options.setdefault("client_keys", [key] if key is not None else None)
    return asyncssh.connect(
        "127.0.0.1", port, known_hosts=None, username="anyone", agent_path=None, **options
    )


class Terminal:
    """What the user sees: the session's output fed to a pyte screen of the PTY's size."""

    def __init__(self, process: asyncssh.SSHClientProcess, width: int, height: int) -> None:
        self.process = process
        self.screen = pyte.Screen(width, height)
        self.stream = pyte.ByteStream(self.screen)
        self.received = 0
        self.raw = bytearray()
        self._reader = asyncio.get_running_loop().create_task(self._read())
        self.closed = asyncio.Event()

    @classmethod
    async def open(
        cls, conn: asyncssh.SSHClientConnection, width: int = 80, height: int = 24, command: str | None = None
    ) -> Terminal:
        process = await conn.create_process(
            command, term_type="xterm-256color", term_size=(width, height), encoding=None
        )
        return cls(process, width, height)

    async def _read(self) -> None:
        try:
            while True:
                data = await self.process.stdout.read(65536)
                if not data:
                    break
                self.received += len(data)
                self.raw += data
                self.stream.feed(data)
        finally:
            self.closed.set()

    def text(self) -> str:
        return "\n".join(self.screen.display)

    async def wait_for(self, pattern: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.text()):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{pattern!r} not on the screen within {timeout}s; it shows:\n{self.text()}"
                )
            if self.closed.is_set():
                raise AssertionError(
                    f"the session ended before {pattern!r} showed; last screen:\n{self.text()}"
                )
            await asyncio.sleep(0.05)

    async def quiet(self, seconds: float = 0.5, timeout: float = 30) -> None:
        """Until no output arrived for `seconds`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            before = self.received
            await asyncio.sleep(seconds)
            if self.received == before:
                return

    def type(self, text: str | bytes) -> None:
        self.process.stdin.write(text.encode() if isinstance(text, str) else text)

    def resize(self, width: int, height: int) -> None:
        self.screen.resize(height, width)
        self.process.change_terminal_size(width, height)

    async def ended(self, timeout: float = 60) -> int | None:
        await asyncio.wait_for(self.process.wait_closed(), timeout)
        await asyncio.wait_for(self.closed.wait(), timeout)
        return self.process.exit_status


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
