"""Files that hold secrets or the group's words (a database, a saved key, the outbox, a log, a host
key) are owner-only: files 0600 and the directories made for them 0700, whatever the umask. Used
by the server, the terminal app and `trip ssh` alike; it imports nothing of the app."""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
DIRECTORY_MODE = 0o700


def make_private_directories(directory: Path) -> None:
    """Create `directory` and its missing parents, each 0700. Directories that already exist are
    left as they are: they are the user's (a home, a shared folder), not ours to change."""
    missing: list[Path] = []
    while not os.path.lexists(directory):
        missing.append(directory)
        if directory.parent == directory:
            break
        directory = directory.parent
    for path in reversed(missing):
        try:
            os.mkdir(path, DIRECTORY_MODE)
        except FileExistsError:
            continue  # made meanwhile by another process: not ours to change either
        # mkdir's mode passes through the umask; set it exactly (a umask of 0o277 would leave 0500).
        os.chmod(path, DIRECTORY_MODE)


def open_private(path: Path, flags: int) -> int:
    """`os.open(path, flags | O_CREAT)` for a file that is exactly 0600 from its first byte (the
    umask can only take bits away from the mode; fchmod puts back what a strict one took)."""
    make_private_directories(path.parent)
    descriptor = os.open(path, flags | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(descriptor, FILE_MODE)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor
