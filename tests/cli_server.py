"""Real processes for tests of the command line (MCP, export, import): `trip serve` on a temp SQLite file and a free
port (session-wide), and keys made with `trip keys create`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIP_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ApiServer:
    url: str
    db: Path

    def key(self, email: str, *scopes: str) -> str:
        args = [sys.executable, "-m", "app.cli", "keys", "create", "--email", email, "--db", str(self.db)]
        for scope in scopes:
            args += ["--scope", scope]
        result = subprocess.run(args, cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()


@pytest.fixture(scope="session")
def api_server(tmp_path_factory) -> Iterator[ApiServer]:
    db = tmp_path_factory.mktemp("mcp") / "trip.db"
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app.cli",
            "serve",
            "--db",
            str(db),
            "--port",
            str(port),
            "--rate-limit",
            "100000",
        ],
        cwd=ROOT,
        env=child_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"trip serve exited: {process.stderr.read().decode(errors='replace')}")
            try:
                if httpx.get(f"{url}/me", timeout=2).status_code == 401:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("trip serve did not answer within 120 s")
            time.sleep(0.2)
        yield ApiServer(url, db)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
