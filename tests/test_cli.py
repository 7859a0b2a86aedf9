"""The `trip` command as a user runs it: `keys create` prints the key alone on stdout, and
`serve` answers that key over real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]


def trip(*args: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.CompletedProcess:
    env = dict(env or {**os.environ, "PYTHONPATH": str(ROOT)})
    env.pop("TRIP_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60, **kwargs)


def test_help_names_every_command():
    result = trip("--help")
    assert result.returncode == 0
    for command in ("serve", "keys"):
        assert command in result.stdout
    for sub in (("serve", "--help"), ("keys", "create", "--help")):
        result = trip(*sub)
        assert result.returncode == 0 and "--db" in result.stdout


def test_keys_create_prints_the_key_alone(tmp_path):
    db = str(tmp_path / "keys.db")
    first = trip("keys", "create", "--email", "a@b.c", "--db", db)
    assert first.returncode == 0, first.stderr
    key = first.stdout
    assert key.startswith("osk_") and key.endswith("\n") and key.count("\n") == 1 and len(key.strip()) >= 36
    second = trip("keys", "create", "--email", "a@b.c", "--name", "A", "--scope", "trips:read", "--db", db)
    assert second.returncode == 0 and second.stdout.strip() != key.strip()


@pytest.mark.parametrize("scope", ["bogus", "trips:read:", "trips:admin"])
def test_keys_create_refuses_unknown_scopes(tmp_path, scope):
    result = trip("keys", "create", "--email", "a@b.c", "--scope", scope, "--db", str(tmp_path / "k.db"))
    assert result.returncode == 2 and result.stdout == "" and "scope" in result.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_serve_answers_a_key_from_keys_create(tmp_path):
    db = str(tmp_path / "serve.db")
    key = trip("keys", "create", "--email", "a@b.c", "--db", db).stdout.strip()
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--db", db, "--port", str(port)],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}/api/v1"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        me = httpx.get(f"{base}/me", headers={"Authorization": f"Bearer {key}"})
        assert me.status_code == 200 and me.json()["email"] == "a@b.c"
        assert me.headers["x-request-id"]
        # curl -d sends form encoding; the body is still read as JSON.
        trip_response = httpx.post(f"{base}/trips", headers={"Authorization": f"Bearer {key}",
                                                             "Content-Type": "application/x-www-form-urlencoded"},
                                   content=f'{{"groupId":"{me.json()["defaultGroupId"]}","title":"Cotswolds",'
                                           '"startDate":"2026-07-15","endDate":"2026-07-22"}')
        assert trip_response.status_code == 201, trip_response.text
        assert httpx.get(f"{base}/trips").status_code == 401
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_trip_ui_imports_no_server_and_no_unused_heavy_modules(tmp_path):
    """`trip ui` up to the moment the app would run: none of the server stack (FastAPI,
    SQLAlchemy, uvicorn, app.server) nor trio (httpcore's optional backend) nor httpx's own
    command line is imported, and no model of the contract is built yet (they build on first use)."""
    code = """
import sys, json
import textual.app

def run(self, *args, **kwargs):
    from app.domain.models import Leg
    heavy = sorted(name for name in sys.modules if name.split(".")[0] in
                   ("fastapi", "sqlalchemy", "uvicorn", "starlette", "alembic", "aiosqlite", "asyncpg", "trio", "mcp")
                   or name.startswith("app.server") or name == "httpx._main")
    print(json.dumps({"heavy": heavy, "leg_built": Leg.__pydantic_complete__}))

textual.app.App.run = run
from app.cli import main
main(["ui", "--url", "http://127.0.0.1:9/api/v1", "--key", "osk_test", "--trip", "T1"])
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CONFIG_HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    import json

    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found == {"heavy": [], "leg_built": False}


@pytest.mark.parametrize("share", ["http://127.0.0.1:1/api/v1/trips/abc", "to/ken"])
def test_trip_ui_refuses_a_share_link_that_is_not_one(share):
    result = trip("ui", "--share", share)
    assert result.returncode == 2 and "not a share" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("where", ["flag", "environment", "config file"])
def test_trip_ui_with_a_url_that_is_not_one_says_so_in_one_line_and_exits_2(tmp_path, where):
    config = tmp_path / "config.json"
    config.write_text('{"url": "localhost:8000", "key": "osk_x"}' if where == "config file" else "{}")
    env = {"TRIP_CONFIG_FILE": str(config)}
    args = ["ui", "--key", "osk_x"]
    if where == "flag":
        args += ["--url", "localhost:8000"]
    elif where == "environment":
        env["TRIP_API_URL"] = "localhost:8000"
    result = trip(*args, env={**os.environ, "PYTHONPATH": str(ROOT), **env}, stdin=subprocess.DEVNULL)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("trip ui: ") and "http://" in lines[0], result.stderr
    assert "localhost:8000" in lines[0]
    assert {"flag": "--url", "environment": "TRIP_API_URL", "config file": str(config)}[where] in lines[0]
    assert result.returncode == 2
