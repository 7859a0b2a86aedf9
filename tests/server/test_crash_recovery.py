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
    done = subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60, check=True)
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
            [sys.executable, "-m", "app.cli", "serve", "--db", str(db_path), "--port", str(self.port),
             "--rate-limit", "1000"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=self.log,
        )

    def wait_ready(self, key: str) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(self.log_path.read_text(errors="replace"))
            try:
                if httpx.get(f"{self.base}/me", headers={"Authorization": f"Bearer {key}"}).status_code == 200:
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


def claim_state(db_path: Path, key: str) -> str | None:
    with sqlite3.connect(db_path, timeout=5) as conn:
        row = conn.execute("SELECT state FROM idempotency_records WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def stored_refs(db_path: Path) -> list[str]:
    with sqlite3.connect(db_path, timeout=5) as conn:
        return [r[0] for table in ("legs", "map_pins", "action_items")
                for r in conn.execute(f"SELECT client_ref FROM {table}")]  # noqa: S608 (fixed names)


def test_sigkill_mid_sync_then_retry_completes_without_duplicates(tmp_path):
    db_path = tmp_path / "crash.db"
    key = run_cli("keys", "create", "--email", "crash@example.com", "--db", str(db_path))
    items = trip_items(500)
    expected = sorted(i["clientRef"] for rows in items.values() for i in rows)
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "import-1"}

    first = ServeProcess(db_path)
    try:
        first.wait_ready(key)
        me = httpx.get(f"{first.base}/me", headers=headers).json()
        trip = httpx.post(f"{first.base}/trips", headers={"Authorization": f"Bearer {key}"}, json={
            "groupId": me["defaultGroupId"], "title": "Crash", "startDate": "2026-07-15", "endDate": "2026-07-22",
        }).json()
        sync_url = f"{first.base}/trips/{trip['_id']}/sync"
        outcome: dict = {}

        def send() -> None:
            try:
                outcome["response"] = httpx.post(sync_url, headers=headers, json=items, timeout=30)
            except httpx.HTTPError as error:
                outcome["error"] = error

        sender = threading.Thread(target=send)
        sender.start()
        # Kill the server the moment it has claimed the key: the sync is then running.
        deadline = time.monotonic() + 20
        while claim_state(db_path, "import-1") != "in_progress":
            assert time.monotonic() < deadline, "the sync never started"
            assert "response" not in outcome, "the sync finished before it could be interrupted"
            time.sleep(0.001)
        first.kill()
        sender.join(timeout=30)
    finally:
        first.stop()
    assert "error" in outcome, "the client should have lost its connection"

    # Consistent after the crash: the sync's items are all there or none are.
    after_crash = sorted(stored_refs(db_path))
    assert after_crash in ([], expected)
    assert claim_state(db_path, "import-1") == "in_progress"  # abandoned by the dead process

    second = ServeProcess(db_path)
    try:
        second.wait_ready(key)
        sync_url = f"{second.base}/trips/{trip['_id']}/sync"
        retry = httpx.post(sync_url, headers=headers, json=items, timeout=60)
        assert retry.status_code == 200, retry.text
        body = retry.json()
        done = {c: body[c]["created"] + body[c]["updated"] for c in ("legs", "mapPins", "actionItems")}
        assert done == {"legs": 500, "mapPins": 500, "actionItems": 500}
        assert sorted(stored_refs(db_path)) == expected  # every item once: no duplicates
        replay = httpx.post(sync_url, headers=headers, json=items, timeout=60)
        assert replay.headers["Idempotent-Replayed"] == "true" and replay.content == retry.content
        export = httpx.get(f"{second.base}/trips/{trip['_id']}/export", headers=headers).json()
        assert len(export["legs"]) == len(export["mapPins"]) == len(export["actionItems"]) == 500
    finally:
        second.stop()
