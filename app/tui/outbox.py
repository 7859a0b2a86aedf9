"""The offline outbox: chat messages and item writes (create, edit, delete, the trip's own edit)
made while the service cannot be reached wait here, on disk (JSON lines, readable by the user
only, in the user's data dir), in one ordered queue, and are sent in order, each with the
idempotency key it got when it was made, so a retry never writes twice.

Whose: every item records the service (its API root) and the user it was written as. An
`Outbox` signed in as (service, user) shows and sends only that user's items on that service;
every other line (another member sharing this machine account, another service, an item of an
older version that recorded neither) stays in the file as it is, untouched, for its owner.

Several processes (two `trip ui` of one machine account) share the file: every change is a
read-modify-write of the whole file under an exclusive lock (`outbox.jsonl.lock`), written to a
temporary file, fsync'd and renamed over it, so nobody's item is lost and nothing is half
written; a sender holds a second lock (`outbox.jsonl.send.lock`) and takes each item fresh from
the file, so no item is sent by two processes.

Line format, one item a line: version 2 is `{"v": 2, "type": "message" | "write", "service",
"user_id", ...}`; a line without "v" is version 1, a chat message as the first outbox wrote it.
Lines of a later version are kept as they are (written back untouched), never dropped."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

import filelock

from app.files import make_private_directories, open_private
from app.settings import OUTBOX_FILE
from app.tui.config import data_file

FORMAT = 2


def outbox_path() -> Path:
    return data_file(OUTBOX_FILE, "outbox.jsonl")


LOCK_TIMEOUT = 30.0
"""Seconds to wait for another process's change of the file (each holds the lock for a few
milliseconds) before giving up with `filelock.Timeout`."""


class Owner(NamedTuple):
    """Whose items an outbox shows and sends: a user of one service, known by the user id the
    service gave for the key, or (before it has answered: offline since start-up) by the key."""

    service: str
    """The API root, as the SDK normalises it (`TripClient.base_url`)."""
    user_id: str = ""
    key_id: str = ""
    """`key_fingerprint(key)`: one key is always one user's, so an item written with this key is
    this user's even before the service has said who that is."""

    def owns(self, item: Item) -> bool:
        if item.service != self.service:
            return False
        if self.user_id and item.user_id:
            return item.user_id == self.user_id  # any key of the same user
        return bool(self.key_id) and item.key_id == self.key_id


def key_fingerprint(key: str) -> str:
    """Names an API key without holding it: the outbox file never contains a key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]


def new_key() -> str:
    return f"outbox-{uuid.uuid4()}"


@dataclass
class Pending:
    """A chat message waiting to be sent."""

    id: str
    trip_id: str
    channel_id: str
    content: str
    idempotency_key: str
    parent_id: str | None = None
    error: str | None = None
    """Why the service refused it; None while it only waits for the connection."""
    service: str = ""
    user_id: str = ""
    key_id: str = ""
    """Whose it is: sent only by a session of this user on this service (see `Owner.owns`;
    all empty: an item of an older version, nobody's to send)."""

    type: ClassVar[str] = "message"

    @property
    def label(self) -> str:
        return self.content


@dataclass
class PendingWrite:
    """A write of one row (or of the trip itself) waiting to be sent.

    An edit keeps only what the user changed (the PATCH body) and `base`, the row as the form
    showed it: when the row on the server is no longer `base` the edit is not sent (someone
    changed it since), unless it already holds the change (an earlier attempt whose answer was
    lost)."""

    id: str
    trip_id: str
    kind: str
    """legs, pins, action_items, commitments, or trip."""
    action: str
    """create, update or delete."""
    row_id: str | None
    body: dict[str, Any] = field(default_factory=dict)
    base: dict[str, Any] | None = None
    label: str = ""
    """What it is, for the outbox bar: "edit leg Lisbon" (user text: display literally)."""
    idempotency_key: str = ""
    error: str | None = None
    service: str = ""
    user_id: str = ""
    key_id: str = ""

    type: ClassVar[str] = "write"


Item = Pending | PendingWrite
ACTIONS = frozenset({"create", "update", "delete"})


def _parse(data: dict[str, Any]) -> Item | None:
    """One line's item, or None when it is not a usable item of a version this code knows."""
    version = data.get("v", 1)
    if version == 1 or (version == FORMAT and data.get("type") == "message"):
        stored: dict[str, Any] = {f.name: data.get(f.name) for f in fields(Pending)}
        message = Pending(**stored)
        usable = bool(message.id and message.trip_id and message.channel_id and message.idempotency_key)
        return message if usable and isinstance(message.content, str) else None
    if version == FORMAT and data.get("type") == "write":
        stored = {f.name: data.get(f.name) for f in fields(PendingWrite)}
        write = PendingWrite(**stored)
        usable = bool(
            write.id
            and write.trip_id
            and write.kind
            and write.action in ACTIONS
            and write.idempotency_key
            and isinstance(write.body or {}, dict)
            and (write.row_id or write.action == "create")
        )
        if usable:
            write.body = write.body or {}
            write.label = str(write.label or f"{write.action} {write.kind}")
            return write
    return None


class Outbox:
    """The outbox file, seen as `owner`: `items` are that user's, in order; the rest is kept."""

    def __init__(self, path: Path | None = None, owner: Owner | None = None) -> None:
        self.path = path or outbox_path()
        self.owner = owner
        self.items: list[Item] = []
        """The owner's items, oldest first (none before `sign_in`)."""
        self.kept: list[str] = []
        """Every other line, as it is: other users' or services' items, items of an older version
        that recorded no owner, lines of a later format version. Not ours to send or to drop."""
        self.unclaimed = 0
        """How many of `kept` are items of the owner's service made with another key, while the
        owner is known by its key only: they are this user's if the service says the key is
        theirs. Items of another service never are (an old `trip demo`'s port, say)."""
        self._seen: tuple[int, int, int] | None = None
        self.refresh()

    @property
    def _lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    def sign_in(self, owner: Owner) -> None:
        """From now on show and send `owner`'s items."""
        if owner != self.owner:
            self.owner = owner
            self._seen = None
            self.refresh()

    def refresh(self) -> list[Item]:
        """The owner's items as the file holds them now (another process may have changed it);
        read again only when the file changed (each write is a new file: its inode differs)."""
        try:
            status = os.stat(self.path)
            stamp: tuple[int, int, int] | None = (status.st_ino, status.st_mtime_ns, status.st_size)
        except OSError:
            stamp = None
        if stamp is None or stamp != self._seen:
            self._seen = stamp
            self.items, self.kept, self.unclaimed = self._read()
        return self.items

    def _read(self) -> tuple[list[Item], list[str], int]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return [], [], 0
        items: list[Item] = []
        kept: list[str] = []
        unclaimed = 0
        for line in lines:
            try:
                data = json.loads(line)
                if not isinstance(data, dict):
                    continue
                if isinstance(data.get("v"), int) and data["v"] > FORMAT:
                    kept.append(line)
                    continue
                item = _parse(data)
            except (ValueError, TypeError):
                continue  # a torn line from a crash of an older version: skip it, keep the rest
            if item is None:
                continue
            if self.owner is not None and self.owner.owns(item):
                items.append(item)
            else:
                kept.append(line)
                if self.owner is not None and item.service == self.owner.service and not self.owner.user_id:
                    unclaimed += 1
        return items, kept, unclaimed

    @contextlib.contextmanager
    def _changing(self) -> Iterator[None]:
        """Read-modify-write under the exclusive lock: what another process wrote since our last
        look is read first, so its items survive our write."""
        make_private_directories(self.path.parent)
        with filelock.FileLock(self._lock_path, timeout=LOCK_TIMEOUT, mode=0o600):
            self._seen = None
            self.refresh()
            yield
            self._write()

    def _write(self) -> None:
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        descriptor = open_private(temporary, os.O_WRONLY | os.O_TRUNC)
        try:
            lines = [line + "\n" for line in self.kept]
            lines += [
                json.dumps({"v": FORMAT, "type": item.type, **asdict(item)}, ensure_ascii=False) + "\n"
                for item in self.items
            ]
            os.write(descriptor, "".join(lines).encode("utf-8"))
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(temporary, self.path)
        _sync_directory(self.path.parent)  # the rename itself survives a power cut
        status = os.stat(self.path)
        self._seen = (status.st_ino, status.st_mtime_ns, status.st_size)

    def _stamp(self) -> Owner:
        if self.owner is None or not (self.owner.user_id or self.owner.key_id):
            raise RuntimeError("the outbox does not know whose items to keep yet (sign_in first)")
        return self.owner

    def add(self, trip_id: str, channel_id: str, content: str, parent_id: str | None = None) -> Pending:
        """Queue a chat message; on disk (fsync'd) when this returns."""
        owner = self._stamp()
        item = Pending(
            uuid.uuid4().hex,
            trip_id,
            channel_id,
            content,
            new_key(),
            parent_id,
            service=owner.service,
            user_id=owner.user_id,
            key_id=owner.key_id,
        )
        with self._changing():
            self.items.append(item)
        return item

    def add_write(
        self,
        trip_id: str,
        kind: str,
        action: str,
        row_id: str | None,
        *,
        body: dict[str, Any] | None = None,
        base: dict[str, Any] | None = None,
        label: str = "",
        idempotency_key: str | None = None,
    ) -> PendingWrite:
        """Queue a write; on disk (fsync'd) when this returns. `idempotency_key`: the one an
        attempt that may have reached the service already used, so that sending it again
        cannot write twice."""
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        owner = self._stamp()
        item = PendingWrite(
            uuid.uuid4().hex,
            trip_id,
            kind,
            action,
            row_id,
            dict(body or {}),
            base,
            label,
            idempotency_key or new_key(),
            service=owner.service,
            user_id=owner.user_id,
            key_id=owner.key_id,
        )
        with self._changing():
            self.items.append(item)
        return item

    def of_trip(self, trip_id: str) -> list[Item]:
        return [item for item in self.refresh() if item.trip_id == trip_id]

    def waiting(self, trip_id: str | None = None) -> bool:
        """Something (of this trip) is still to be sent (failed items wait for the user, not this)."""
        return self.next_unsent(trip_id) is not None

    def next_unsent(self, trip_id: str | None = None) -> Item | None:
        """The oldest of the owner's items (of this trip) that is neither sent nor failed, as
        the file holds it now."""
        return next(
            (
                item
                for item in self.refresh()
                if not item.error and (trip_id is None or item.trip_id == trip_id)
            ),
            None,
        )

    def remove(self, item_id: str) -> None:
        with self._changing():
            self.items = [item for item in self.items if item.id != item_id]

    def fail(self, item_id: str, error: str | None) -> None:
        with self._changing():
            for item in self.items:
                if item.id == item_id:
                    item.error = error

    def rebase(self, done: PendingWrite, row: dict[str, Any]) -> None:
        """`done` was written and the row is now `row`: later edits of the same row that started
        from the same state as `done` now start from `row` (the user's own edits in a row, not
        someone else's change)."""
        with self._changing():
            for item in self.items:
                if (
                    isinstance(item, PendingWrite)
                    and item.id != done.id
                    and item.action == "update"
                    and (item.trip_id, item.kind, item.row_id) == (done.trip_id, done.kind, done.row_id)
                    and item.base == done.base
                ):
                    item.base = row

    @contextlib.asynccontextmanager
    async def sending(self) -> AsyncIterator[None]:
        """Be the one sender of this file (across processes) until the block ends; meanwhile take
        each item with `next_unsent`, fresh from the file, so none is sent twice."""
        make_private_directories(self.path.parent)
        lock = filelock.FileLock(self.path.with_name(self.path.name + ".send.lock"), mode=0o600)
        while True:
            try:
                lock.acquire(timeout=0)
                break
            except filelock.Timeout:
                await asyncio.sleep(0.05)
        try:
            yield
        finally:
            lock.release()


def _sync_directory(directory: Path) -> None:
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # some file systems cannot sync a directory; the file itself is synced
    finally:
        os.close(descriptor)
