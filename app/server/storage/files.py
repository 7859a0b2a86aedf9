"""Files at rest: a SQLite database file and the directories made for it are owner-only (0600 and
0700) whatever the process umask; SQLite gives its -wal and -shm the database file's mode."""

from __future__ import annotations

import os
from pathlib import Path

from app.files import FILE_MODE, make_private_directories


def create_private_database_file(database: str) -> None:
    """Before SQLite opens `database` (a path), create it empty and 0600 if it does not exist, in
    directories made 0700: SQLite would create it 0644 minus the umask, and then create its -wal
    and -shm with the mode the database file has. An existing file keeps its mode."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return  # in memory, or a URI SQLite opens by itself
    path = Path(database)
    make_private_directories(path.parent)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
    except FileExistsError:
        return
    try:
        os.fchmod(descriptor, FILE_MODE)  # exactly 0600, whatever the umask took away
    finally:
        os.close(descriptor)
