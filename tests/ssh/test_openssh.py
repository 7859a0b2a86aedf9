"""`trip ssh` with the plain OpenSSH client a member already has: an unknown key is told its
fingerprint, a registered one lands in the app and `q` ends the connection with status 0."""

from __future__ import annotations

import asyncio
import os
import pty
import select
import shutil
import time
from pathlib import Path

import asyncssh
import pytest

from tests.ssh.support import new_trip

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("ssh") is None, reason="no OpenSSH client here"),
]


def run_ssh(
    port: int, key_file: Path, *, until: bytes | None = None, then: bytes = b"", timeout: float = 30
) -> tuple[int, str]:
    """`ssh -p PORT -i KEY 127.0.0.1` on a PTY: its status and everything it showed."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(
            "ssh",
            [
                "ssh",
                "-p",
                str(port),
                "-i",
                str(key_file),
                "-o",
                "IdentitiesOnly=yes",
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                "BatchMode=yes",
                "127.0.0.1",
            ],
        )
    shown = b""
    sent = False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if select.select([fd], [], [], 0.2)[0]:
                try:
                    data = os.read(fd, 65536)
                except OSError:  # the client exited and its PTY closed
                    break
                if not data:
                    break
                shown += data
            if until is not None and until in shown and not sent:
                os.write(fd, then)
                sent = True
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace")


def key_file(directory: Path, key: asyncssh.SSHKey) -> Path:
    path = directory / f"id_{key.get_fingerprint()[7:15].replace('/', '_')}"
    path.write_bytes(key.export_private_key())
    path.chmod(0o600)
    return path


async def test_plain_ssh_unknown_then_registered(stack, tmp_path):
    loop = asyncio.get_running_loop()
    stranger = asyncssh.generate_private_key("ssh-ed25519")
    status, shown = await loop.run_in_executor(
        None, lambda: run_ssh(stack.ssh.port, key_file(tmp_path, stranger))
    )
    assert status == 255 and stranger.get_fingerprint() in shown and "trip keys add-ssh" in shown

    member = await stack.member("openssh-user@example.com", "Olga")
    await new_trip(member, "Porto with plain ssh")
    status, shown = await loop.run_in_executor(
        None,
        lambda: run_ssh(
            stack.ssh.port, key_file(tmp_path, member.ssh_key), until=b"Porto with plain ssh", then=b"q"
        ),
    )
    assert "Porto with plain ssh" in shown
    assert status == 0
