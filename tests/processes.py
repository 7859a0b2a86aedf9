"""Real `trip serve` processes for scale-out tests and benchmarks: start several on one database,
wait until they answer, read their CPU time from /proc, stop them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (fields 14 and 15 of /proc/<pid>/stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def percentile_ms(latencies: list[float], q: float) -> float:
    """The q-quantile (0..1) of latencies in seconds, in milliseconds (for benchmark tables)."""
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


@dataclass
class ServeProcess:
    port: int
    proc: subprocess.Popen
    log: Path
    extra: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


SERVE = ["-m", "app.cli", "serve"]


def start_servers(
    db_url: str,
    count: int,
    *,
    args: list[str] | None = None,
    timeout: float = 120,
    command: list[str] = SERVE,
    env: dict[str, str] | None = None,
) -> list[ServeProcess]:
    """Start `count` servers (`trip serve`, or `command` taking --db and --port) on one database
    at the same moment (they race to migrate it) and return once every one answers HTTP. `env`
    adds to the environment (a fault-injection switch, say)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    env.pop("TRIP_DATABASE_URL", None)
    servers = []
    for _ in range(count):
        port = free_port()
        log = Path(tempfile.mkstemp(prefix=f"trip-serve-{port}-", suffix=".log")[1])
        argv = [sys.executable, *command, "--db", db_url, "--port", str(port), *(args or [])]
        with log.open("wb") as out:
            proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        servers.append(ServeProcess(port, proc, log))
    try:
        for server in servers:
            wait_until_up(server, timeout)
    except BaseException:
        stop_servers(servers)
        raise
    return servers


def wait_until_up(server: ServeProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"trip serve exited with {server.proc.returncode}:\n{server.output()}")
        try:
            if httpx.get(f"{server.url}/openapi.json", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(
        f"trip serve on port {server.port} did not answer within {timeout}s:\n{server.output()}"
    )


def stop_servers(servers: list[ServeProcess]) -> None:
    for server in servers:
        if server.proc.poll() is None:
            server.proc.send_signal(signal.SIGINT)
    for server in servers:
        try:
            server.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait()
        server.log.unlink(missing_ok=True)
