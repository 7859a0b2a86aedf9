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
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        **kwargs,
    )


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
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--db", db, "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}/api/v1"
        deadline = time.monotonic() + 120
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
        trip_response = httpx.post(
            f"{base}/trips",
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/x-www-form-urlencoded"},
            content=f'{{"groupId":"{me.json()["defaultGroupId"]}","title":"Cotswolds",'
            '"startDate":"2026-07-15","endDate":"2026-07-22"}',
        )
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
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
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


async def stored_keys(db_url: str) -> dict[str, str]:
    """Key hash -> key id, read from the database."""
    from sqlalchemy import select

    from app.server.storage import tables as t
    from app.server.storage.database import Database

    database = Database(db_url)
    try:
        async with database.read() as conn:
            return {
                h: i for h, i in (await conn.execute(select(t.api_keys.c.key_hash, t.api_keys.c.id))).all()
            }
    finally:
        await database.dispose()


async def test_keys_list_shows_each_key_but_never_the_key(tmp_path, drop_schemas):
    from sqlalchemy import update

    from app.server.auth import hash_key
    from app.server.storage import tables as t
    from app.server.storage.database import Database
    from tests.conftest import database_url

    db = database_url(tmp_path)
    drop_schemas.append(db)
    first = trip("keys", "create", "--email", "a@b.c", "--db", db).stdout.strip()
    second = trip(
        "keys", "create", "--email", "a@b.c", "--scope", "trips:read", "--scope", "messages:read", "--db", db
    ).stdout.strip()
    other = trip("keys", "create", "--email", "o@b.c", "--db", db).stdout.strip()
    ids = await stored_keys(db)
    database = Database(db)
    try:
        async with database.write() as conn:  # as a server records a use: 2026-07-15 09:30:05 UTC
            await conn.execute(
                update(t.api_keys)
                .where(t.api_keys.c.key_hash == hash_key(first))
                .values(last_used_at=1784107805000)
            )
    finally:
        await database.dispose()

    listed = trip("keys", "list", "--email", "a@b.c", "--db", db)
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    assert header.split() == ["ID", "NAME", "SCOPES", "CREATED", "LAST", "USED"]
    assert [row.split()[0] for row in rows] == [ids[hash_key(first)], ids[hash_key(second)]]
    assert "trips:read,trips:write,messages:read,messages:write" in rows[0] and rows[0].endswith(
        "2026-07-15 09:30:05Z"
    )
    assert "trips:read,messages:read" in rows[1] and rows[1].endswith("never")
    created = rows[1].split()[3:5]
    assert len(created[0]) == 10 and created[1].endswith("Z")
    assert ids[hash_key(other)] not in listed.stdout
    for secret in (first, second, hash_key(first), hash_key(second), "osk_"):
        assert secret not in listed.stdout and secret not in listed.stderr

    unknown = trip("keys", "list", "--email", "nobody@b.c", "--db", db)
    assert unknown.returncode == 1 and unknown.stdout == "" and "no user" in unknown.stderr


async def test_keys_revoke_takes_the_key_or_its_id(tmp_path, drop_schemas):
    from app.server.auth import hash_key
    from tests.conftest import database_url

    db = database_url(tmp_path)
    drop_schemas.append(db)
    keys = [trip("keys", "create", "--email", "a@b.c", "--db", db).stdout.strip() for _ in range(3)]
    ids = await stored_keys(db)
    by_key = trip("keys", "revoke", keys[0], "--db", db)
    assert by_key.returncode == 0, by_key.stderr
    assert ids[hash_key(keys[0])] in by_key.stdout and keys[0] not in by_key.stdout
    by_id = trip("keys", "revoke", ids[hash_key(keys[1])], "--db", db)
    assert by_id.returncode == 0, by_id.stderr
    assert set((await stored_keys(db)).values()) == {ids[hash_key(keys[2])]}
    listed = trip("keys", "list", "--email", "a@b.c", "--db", db).stdout
    assert ids[hash_key(keys[0])] not in listed and ids[hash_key(keys[2])] in listed
    for gone in (keys[0], ids[hash_key(keys[1])], "osk_not-a-key-at-all-00000000000000000000"):
        again = trip("keys", "revoke", gone, "--db", db)
        assert again.returncode == 1 and again.stdout == "" and "no such key" in again.stderr
    assert len(await stored_keys(db)) == 1


@pytest.mark.slow
def test_a_key_revoked_with_the_command_is_refused_by_a_running_server(tmp_path):
    from tests.processes import start_servers, stop_servers

    db = str(tmp_path / "revoke.db")
    key = trip("keys", "create", "--email", "a@b.c", "--db", db).stdout.strip()
    [server] = start_servers(db, 1)
    try:
        headers = {"Authorization": f"Bearer {key}"}
        for _ in range(10):  # used for a while: the server has the key in its cache
            assert httpx.get(f"{server.url}/me", headers=headers).status_code == 200
            time.sleep(0.1)
        revoked = trip("keys", "revoke", key, "--db", db)
        assert revoked.returncode == 0, revoked.stderr
        done = time.perf_counter()
        while (status := httpx.get(f"{server.url}/me", headers=headers).status_code) == 200:
            assert time.perf_counter() - done < 1.0, "the revoked key still works after a second"
            time.sleep(0.01)
        assert status == 401
    finally:
        stop_servers([server])


def test_trip_demo_on_a_database_it_cannot_reach_says_so_in_one_line(tmp_path):
    result = trip(
        "demo",
        "--db",
        "postgresql+asyncpg://nobody@127.0.0.1:1/none",
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TRIP_CONFIG_FILE": str(tmp_path / "c.json")},
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("trip demo: ") and result.returncode == 1


@pytest.mark.parametrize(
    "command",
    [
        ["serve", "--port", "0"],
        ["keys", "create", "--email", "a@example.com"],
        ["keys", "list", "--email", "a@example.com"],
        ["keys", "revoke", "osk_nothing"],
        ["ssh", "--port", "0"],
    ],
)
@pytest.mark.parametrize("database", ["postgresql+asyncpg://nobody@127.0.0.1:1/none", "/proc/no/such.db"])
def test_a_database_that_cannot_be_opened_is_one_line_and_exit_1(command, database):
    """The database (--db) is the user's to give: one that does not answer, or a path that
    cannot be made, is said in one line, never a traceback."""
    result = trip(*command, "--db", database)
    assert result.returncode == 1, result.stderr
    lines = [
        line for line in result.stderr.splitlines() if line.strip() and not line.startswith("Tripdeck API on")
    ]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith(f"trip {command[0]}") and "database" in lines[0], lines[0]


async def test_keys_add_ssh_registers_a_public_key_once(tmp_path, drop_schemas):
    import asyncssh
    from sqlalchemy import select

    from app.server.storage import tables as t
    from app.server.storage.database import Database
    from app.server.storage.ssh_keys import list_keys
    from tests.conftest import database_url

    db = database_url(tmp_path)
    drop_schemas.append(db)
    key = asyncssh.generate_private_key("ssh-ed25519", comment="me@laptop")
    public = tmp_path / "id.pub"
    public.write_bytes(key.export_public_key())
    added = trip("keys", "add-ssh", "--email", "new@b.c", str(public), "--db", db)
    assert added.returncode == 0, added.stderr
    assert added.stdout == key.get_fingerprint() + "\n"
    again = trip("keys", "add-ssh", "--email", "other@b.c", str(public), "--db", db)
    assert again.returncode == 1 and again.stdout == "" and "already registered" in again.stderr
    private = tmp_path / "id"
    private.write_bytes(key.export_private_key())
    refused = trip("keys", "add-ssh", "--email", "new@b.c", str(private), "--db", db)
    assert refused.returncode == 2 and "private key" in refused.stderr
    assert private.read_text().splitlines()[1] not in refused.stderr
    database = Database(db)
    try:
        async with database.read() as conn:
            user_id = (
                await conn.execute(select(t.users.c.id).where(t.users.c.email == "new@b.c"))
            ).scalar_one()
            assert [(k["fingerprint"], k["name"]) for k in await list_keys(conn, user_id)] == [
                (key.get_fingerprint(), "me@laptop")
            ]
    finally:
        await database.dispose()


# --- first use (issue 22): help that fits, errors of the command typed, keys that say where ---


def test_top_level_help_fits_80_columns():
    result = trip("--help", env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "80"})
    assert result.returncode == 0
    wide = [line for line in result.stdout.splitlines() if len(line) > 80]
    assert not wide, wide


@pytest.mark.parametrize(
    "command",
    [
        ["demo"],
        ["serve"],
        ["keys", "list", "--email", "a@b.c"],
        ["export", "--trip", "t1", "--format", "json"],
    ],
)
def test_an_unknown_option_is_reported_by_the_command_it_was_given_to(command):
    result = trip(*command, "--bogus", stdin=subprocess.DEVNULL)
    assert result.returncode == 2
    usage = result.stderr.splitlines()[0]
    assert usage.startswith(
        f"usage: trip {' '.join(command[:2] if command[0] == 'keys' else command[:1])} "
    ), result.stderr
    assert "unrecognized arguments: --bogus" in result.stderr


def test_export_uses_the_url_and_key_trip_ui_saved(tmp_path):
    """`trip ui` saves the service's URL and key in the config file: export reads them too, and
    when there is none says so in the CLI's words, not the SDK's ("pass api_key=...")."""
    import json

    config = tmp_path / "config.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TRIP_CONFIG_FILE": str(config)}
    env.pop("TRIP_API_KEY", None)
    env.pop("TRIP_API_URL", None)
    missing = trip("export", "--trip", "t1", "--format", "json", env=env)
    assert missing.returncode == 2 and "api_key=" not in missing.stderr, missing.stderr
    assert "--key" in missing.stderr and "trip ui" in missing.stderr, missing.stderr

    config.write_text(json.dumps({"url": "http://127.0.0.1:9/api/v1", "key": "osk_saved"}))
    saved = trip("export", "--trip", "t1", "--format", "json", env=env)
    # Port 9 (discard) answers nothing: the error names the saved service, so it was used.
    assert saved.returncode != 0 and "127.0.0.1:9" in saved.stderr, saved.stderr
    assert "no API key" not in saved.stderr, saved.stderr


def test_keys_create_without_db_says_which_database_has_the_key(tmp_path):
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "HOME": str(tmp_path),
    }
    result = trip("keys", "create", "--email", "a@b.c", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("osk_") and result.stdout.count("\n") == 1  # still the key alone
    assert str(tmp_path / "data") in result.stderr and "--db" in result.stderr, result.stderr
    given = trip("keys", "create", "--email", "a@b.c", "--db", str(tmp_path / "k.db"), env=env)
    assert given.returncode == 0 and given.stderr == "", given.stderr  # chosen with --db: nothing to say


def test_keys_create_without_db_names_trip_database_url_when_that_chose_the_database(tmp_path):
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "HOME": str(tmp_path),
    }
    elsewhere = f"sqlite+aiosqlite:///{tmp_path / 'server.db'}"
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "keys", "create", "--email", "a@b.c"],
        cwd=ROOT,
        env={**env, "TRIP_DATABASE_URL": elsewhere},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "TRIP_DATABASE_URL" in result.stderr and "server.db" in result.stderr, result.stderr
