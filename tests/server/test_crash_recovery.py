"""A real `trip serve` process is SIGKILLed in the middle of a 1,500-item sync, restarted on the
same database, and found consistent; a retry with the same Idempotency-Key completes the import
with no duplicates."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.benchmarks.test_import_speed import trip_items

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_cli(*args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


class ServeProcess:
    def __init__(self, db_path: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/api/v1"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        # A file, not a pipe: a server that logs much must never block on a full pipe.
        self.log_path = db_path.with_name(f"serve-{self.port}.log")
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "app.cli",
                "serve",
                "--db",
                str(db_path),
                "--port",
                str(self.port),
                "--rate-limit",
                "1000",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )

    def wait_ready(self, key: str) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(self.log_path.read_text(errors="replace"))
            try:
                if (
                    httpx.get(f"{self.base}/me", headers={"Authorization": f"Bearer {key}"}).status_code
                    == 200
                ):
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise TimeoutError("trip serve did not start")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.log.close()


def trip_refs(db_path: Path, trip_id: str) -> list[str]:
    """The clientRefs of the trip's legs, map pins and action items, read straight from the file."""
    conn = sqlite3.connect(db_path)
    try:
        return sorted(
            row[0]
            for table in ("legs", "map_pins", "action_items")
            for row in conn.execute(f"SELECT client_ref FROM {table} WHERE trip_id = ?", (trip_id,))
        )
    finally:
        conn.close()


def interrupt_sync(server: ServeProcess, sync_url: str, headers: dict, items: dict, delay: float) -> bool:
    """Send the sync and SIGKILL the server `delay` seconds later, while it runs. False if the
    request finished before that."""
    outcome: dict = {}

    def send() -> None:
        try:
            outcome["response"] = httpx.post(sync_url, headers=headers, json=items, timeout=60)
        except httpx.HTTPError as error:
            outcome["error"] = error

    sender = threading.Thread(target=send)
    sender.start()
    time.sleep(delay)
    if "response" in outcome:
        sender.join()
        return False
    server.kill()
    sender.join(timeout=30)
    assert "error" in outcome, "the client should have lost its connection"
    return True


def test_sigkill_mid_sync_then_retry_completes_without_duplicates(tmp_path):
    db_path = tmp_path / "crash.db"
    key = run_cli("keys", "create", "--email", "crash@example.com", "--db", str(db_path))
    items = trip_items(500)
    expected = sorted(i["clientRef"] for rows in items.values() for i in rows)
    auth = {"Authorization": f"Bearer {key}"}

    first = ServeProcess(db_path)
    try:
        first.wait_ready(key)
        me = httpx.get(f"{first.base}/me", headers=auth).json()
        for attempt, delay in enumerate((0.3, 0.15, 0.05, 0.02, 0.01)):  # a fast machine may finish first
            trip = httpx.post(
                f"{first.base}/trips",
                headers=auth,
                json={
                    "groupId": me["defaultGroupId"],
                    "title": "Crash",
                    "startDate": "2026-07-15",
                    "endDate": "2026-07-22",
                },
            ).json()
            headers = {**auth, "Idempotency-Key": f"import-{attempt}"}
            if interrupt_sync(first, f"{first.base}/trips/{trip['_id']}/sync", headers, items, delay):
                break
        else:
            pytest.fail("could not catch the sync in flight in 5 attempts")
    finally:
        first.stop()
    # Consistent after the crash: the sync's items are all there or none are.
    assert trip_refs(db_path, trip["_id"]) in ([], expected)

    second = ServeProcess(db_path)
    try:
        second.wait_ready(key)
        sync_url = f"{second.base}/trips/{trip['_id']}/sync"
        retry = httpx.post(sync_url, headers=headers, json=items, timeout=60)
        assert retry.status_code == 200, retry.text
        body = retry.json()
        done = {c: body[c]["created"] + body[c]["updated"] for c in ("legs", "mapPins", "actionItems")}
        assert done == {"legs": 500, "mapPins": 500, "actionItems": 500}  # run, or replayed once committed
        assert trip_refs(db_path, trip["_id"]) == expected  # every item exactly once: no duplicates
        replay = httpx.post(sync_url, headers=headers, json=items, timeout=60)
        assert replay.headers["Idempotent-Replayed"] == "true" and replay.content == retry.content
        export = httpx.get(f"{second.base}/trips/{trip['_id']}/export", headers=auth).json()
        assert len(export["legs"]) == len(export["mapPins"]) == len(export["actionItems"]) == 500
    finally:
        second.stop()
