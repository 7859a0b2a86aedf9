"""Bytes a terminal receives from `trip ui`, counted through a real pseudo-terminal: what a reader
on a slow link (SSH from a phone) pays for a screen that changes little.

`trip ui` runs on a pty against the demo trip on a real server (the embedded demo server on a
loopback port, companions quiet) at 80x24 and 160x48, TERM=xterm-256color without COLORTERM
(what an SSH session usually carries). Measured per size, in one fresh process:

- idle bytes per minute with another pane focused (the legs timeline, where the trip opens);
- idle bytes per minute with the chat input focused (`5`);
- bytes per arriving message: another member posts a one-line message while the chat input is
  focused; the bytes from the post until the terminal is quiet for 0.5 s, less what the same
  time of idling sends.

Goals: idle at most 2 KB/min whatever is focused, an arriving message at most 4 KB.
`TRIP_BENCH_SIZE=full python -m pytest -s tests/benchmarks/test_terminal_bytes.py` idles a minute
and receives 10 messages and checks the goals; the default smoke size (5 s, 3 messages) only
checks that it all works.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import statistics
import struct
import subprocess
import sys
import termios
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from app.client import TripClient
from app.demo.story import COMPANIONS, YOU
from app.demo_server import DemoServer

ROOT = Path(__file__).resolve().parents[2]
SIZE = os.environ.get("TRIP_BENCH_SIZE", "smoke")
IDLE_SECONDS = 60.0 if SIZE == "full" else 5.0
MESSAGES = 10 if SIZE == "full" else 3
MESSAGE_WINDOW = 1.5
"""A message's bytes are those written from its post until the terminal is quiet for a third of
this (the live feed answers in ~0.1 s), less what idling sends meanwhile."""
SIZES = ((80, 24), (160, 48))


@dataclass
class PtyProcess:
    """A process on its own pseudo-terminal; a thread counts (and keeps) every byte it writes."""

    proc: subprocess.Popen
    master: int
    chunks: list[tuple[float, bytes]] = field(default_factory=list)
    _reader: threading.Thread | None = None

    @classmethod
    def start(cls, argv: list[str], size: tuple[int, int], env: dict[str, str]) -> PtyProcess:
        master, slave = os.openpty()
        columns, rows = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env=env, start_new_session=True
        )
        os.close(slave)
        process = cls(proc, master)
        process._reader = threading.Thread(target=process._read, daemon=True)
        process._reader.start()
        return process

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self.chunks.append((time.monotonic(), data))

    def received(self) -> int:
        return sum(len(data) for _, data in list(self.chunks))

    def output(self) -> bytes:
        return b"".join(data for _, data in list(self.chunks))

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def wait_quiet(self, quiet: float = 1.5, timeout: float = 60) -> None:
        """Until nothing was written for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"trip ui exited with {self.proc.returncode}: {self.output()[-2000:]!r}")
            last = self.chunks[-1][0] if self.chunks else 0.0
            if self.chunks and time.monotonic() - last >= quiet:
                return
            time.sleep(0.1)
        raise TimeoutError(f"trip ui never went quiet for {quiet} s")

    def wait_for(self, text: bytes, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"never saw {text!r} (exit {self.proc.poll()}): {self.output()[-2000:]!r}")
            time.sleep(0.1)

    def wait_drawn(self, before: int, quiet: float, timeout: float) -> None:
        """Until something was written after the count `before` and then nothing for `quiet`
        seconds (at most `timeout` seconds: a cursor that blinks is never quiet)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.received() > before and time.monotonic() - self.chunks[-1][0] >= quiet:
                return
            time.sleep(0.05)

    def count_for(self, seconds: float) -> int:
        before = self.received()
        time.sleep(seconds)
        return self.received() - before

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._reader is not None:
            self._reader.join(timeout=5)
        os.close(self.master)


def ui_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRIP_", "TEXTUAL", "COLORTERM"))}
    env.update(
        PYTHONPATH=str(ROOT),
        TERM="xterm-256color",
        TRIP_CONFIG_FILE=str(home / "config.json"),
        TRIP_OUTBOX_FILE=str(home / "outbox.jsonl"),
        TRIP_LOG_FILE=str(home / "tripdeck.log"),
        LANG="C.UTF-8",
    )
    return env


@dataclass
class Measured:
    idle_other: float
    idle_input: float
    per_message: list[int]


def measure(server: DemoServer, size: tuple[int, int], home: Path) -> Measured:
    assert server.trip is not None
    argv = [
        sys.executable,
        "-m",
        "app.cli",
        "ui",
        "--url",
        server.url,
        "--key",
        server.keys[YOU.ref],
        f"--trip={server.trip.trip_id}",
    ]
    ui = PtyProcess.start(argv, size, ui_env(home))
    try:
        ui.wait_for(b"live")  # the header's live indicator: the trip is open and followed
        ui.wait_quiet()
        idle_other = ui.count_for(IDLE_SECONDS) * 60 / IDLE_SECONDS
        ui.type("5")  # the chat, its input focused
        ui.wait_for(b"Leave input")  # the footer offers the input's keys
        time.sleep(1.5)
        idle_input = ui.count_for(IDLE_SECONDS) * 60 / IDLE_SECONDS
        per_message = []
        channel = server.trip.channels["general"]
        speaker = server.keys[COMPANIONS[0].ref]

        async def post(text: str) -> None:
            async with TripClient(api_key=speaker, base_url=server.url) as client:
                await client.send_message(server.trip.trip_id, channel, text)

        for number in range(MESSAGES):
            before, started = ui.received(), time.monotonic()
            asyncio.run(post(f"Tapas at nine tonight? I can book a table for four ({number})"))
            ui.wait_drawn(before, quiet=MESSAGE_WINDOW / 3, timeout=15)
            idle = idle_input / 60 * (time.monotonic() - started)
            per_message.append(max(0, round(ui.received() - before - idle)))
            time.sleep(0.5)
        return Measured(idle_other, idle_input, per_message)
    finally:
        ui.stop()


@pytest.mark.slow
def test_terminal_bytes(tmp_path):
    server = DemoServer(database_url=f"sqlite+aiosqlite:///{tmp_path / 'bench.db'}", companions=False)
    server.start()
    try:
        results = {size: measure(server, size, tmp_path) for size in SIZES}
    finally:
        server.stop()

    print(
        f"\nTerminal bytes benchmark ({SIZE}: idle {IDLE_SECONDS:.0f} s, {MESSAGES} messages; `trip ui` on a pty, "
        "TERM=xterm-256color)"
    )
    print(
        f"{'size':<9}{'idle, legs focused':>22}{'idle, chat input focused':>28}{'per arriving message':>24}"
    )
    print(f"{'':<9}{'(bytes/min)':>22}{'(bytes/min)':>28}{'(bytes, median/max)':>24}")
    for (columns, rows), found in results.items():
        message = f"{statistics.median(found.per_message):.0f} / {max(found.per_message)}"
        print(f"{f'{columns}x{rows}':<9}{found.idle_other:>22,.0f}{found.idle_input:>28,.0f}{message:>24}")
    print("goals: idle <= 2,048 bytes/min whatever is focused; an arriving message <= 4,096 bytes")

    for found in results.values():
        assert all(count > 0 for count in found.per_message)  # each message reached the screen
        if SIZE == "full":
            assert found.idle_other <= 2048 and found.idle_input <= 2048
            assert statistics.median(found.per_message) <= 4096
