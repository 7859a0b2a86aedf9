"""Files at rest: the SQLite database, its -wal and -shm, and the directories made for them are
owner-only (0600, 0700), also when the process runs under a permissive umask (0), and also for
the default database in the user's data directory."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

# Run in a child process: the umask is process-wide, and SQLite creates -wal and -shm lazily.
# The modes are read while the database is open (SQLite removes -wal and -shm at the last close).
OPEN_AND_WRITE = """
import asyncio, json, os, stat, sys
from pathlib import Path
from sqlalchemy import text

os.umask(0)
from app.server.storage.database import Database
from app.server.settings import default_database_url

async def main(url):
    db = Database(url)
    await db.migrate()
    async with db.write() as conn:
        await conn.execute(text("INSERT INTO users (id, email, name, created_at) VALUES ('u1', 'a@b.c', 'A', 0)"))
    async with db.read() as conn:
        await conn.execute(text("SELECT count(*) FROM users"))
    path = Path(db.url.split("///", 1)[1])
    modes = {}
    for name in (path.name, path.name + "-wal", path.name + "-shm"):
        modes[name] = oct(stat.S_IMODE(os.stat(path.parent / name).st_mode))
    for directory in sys.argv[2:]:
        modes[directory] = oct(stat.S_IMODE(os.stat(directory).st_mode))
    await db.dispose()
    print(json.dumps(modes))

asyncio.run(main(sys.argv[1] or default_database_url()))
"""


def open_and_write(url: str, directories: list[Path], env: dict[str, str] | None = None) -> dict[str, str]:
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("TRIP_")}
    child_env.update(PYTHONPATH=str(ROOT), **(env or {}))
    result = subprocess.run(
        [sys.executable, "-c", OPEN_AND_WRITE, url, *map(str, directories)],
        cwd=ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_database_wal_shm_and_new_directories_are_owner_only_under_umask_zero(tmp_path):
    where = tmp_path / "new" / "deeper"
    modes = open_and_write(f"sqlite+aiosqlite:///{where / 'trip.db'}", [tmp_path / "new", where])
    assert modes == {
        "trip.db": "0o600",
        "trip.db-wal": "0o600",
        "trip.db-shm": "0o600",
        str(tmp_path / "new"): "0o700",
        str(where): "0o700",
    }


def test_default_database_in_the_data_directory_is_owner_only(tmp_path):
    data_home = tmp_path / "xdg-data"  # missing: created for the database, with tripdeck/ inside
    modes = open_and_write(
        "", [data_home, data_home / "tripdeck"], env={"HOME": str(tmp_path), "XDG_DATA_HOME": str(data_home)}
    )
    assert modes == {
        "tripdeck.db": "0o600",
        "tripdeck.db-wal": "0o600",
        "tripdeck.db-shm": "0o600",
        str(data_home): "0o700",
        str(data_home / "tripdeck"): "0o700",
    }


def test_an_existing_directory_is_left_as_it_is(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    modes = open_and_write(f"sqlite+aiosqlite:///{shared / 'trip.db'}", [shared])
    assert modes[str(shared)] == "0o755"  # the user's own directory: not ours to change
    assert modes["trip.db"] == modes["trip.db-wal"] == modes["trip.db-shm"] == "0o600"
    assert stat.S_IMODE((shared / "trip.db").stat().st_mode) == 0o600
