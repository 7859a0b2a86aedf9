"""The offline outbox: chat messages and item writes (create, edit, delete, the trip's own edit)
made while the service cannot be reached wait here, on disk (JSON lines, readable by the user
only, in the user's data dir), in one ordered queue, and are sent in order, each with the
idempotency key it got when it was made, so a retry never writes twice.

Line format, one item a line: version 2 is `{"v": 2, "type": "message" | "write", ...}`; a line
without "v" is version 1, a chat message as the first outbox wrote it. Lines of a later version
are kept as they are (written back untouched), never dropped."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

from platformdirs import user_data_dir

OUTBOX_ENV = "TRIP_OUTBOX_FILE"
FORMAT = 2


def outbox_path() -> Path:
    if override := os.environ.get(OUTBOX_ENV):
        return Path(override)
    return Path(user_data_dir("tripdeck")) / "outbox.jsonl"


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

    type: ClassVar[str] = "write"


Item = Pending | PendingWrite
ACTIONS = frozenset({"create", "update", "delete"})


def _parse(data: dict[str, Any]) -> Item | None:
    """One line's item, or None when it is not a usable item of a version this code knows."""
    version = data.get("v", 1)
    if version == 1 or (version == FORMAT and data.get("type") == "message"):
        message = Pending(**{f.name: data.get(f.name) for f in fields(Pending)})
        usable = message.id and message.trip_id and message.channel_id and message.idempotency_key
        return message if usable and isinstance(message.content, str) else None
    if version == FORMAT and data.get("type") == "write":
        write = PendingWrite(**{f.name: data.get(f.name) for f in fields(PendingWrite)})
        usable = (write.id and write.trip_id and write.kind and write.action in ACTIONS and write.idempotency_key
                  and isinstance(write.body or {}, dict) and (write.row_id or write.action == "create"))
        if usable:
            write.body = write.body or {}
            write.label = str(write.label or f"{write.action} {write.kind}")
            return write
    return None


class Outbox:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or outbox_path()
        self.kept: list[str] = []
        """Lines of a later format version: not ours to read, but not ours to drop either."""
        self.items: list[Item] = self._read()

    def _read(self) -> list[Item]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        items: list[Item] = []
        for line in lines:
            try:
                data = json.loads(line)
                if not isinstance(data, dict):
                    continue
                if isinstance(data.get("v"), int) and data["v"] > FORMAT:
                    self.kept.append(line)
                    continue
                item = _parse(data)
            except (ValueError, TypeError):
                continue  # a torn last line from a crash: skip it, keep the rest
            if item is not None:
                items.append(item)
        return items

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(descriptor, 0o600)
            lines = [line + "\n" for line in self.kept]
            lines += [json.dumps({"v": FORMAT, "type": item.type, **asdict(item)}, ensure_ascii=False) + "\n"
                      for item in self.items]
            os.write(descriptor, "".join(lines).encode("utf-8"))
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(temporary, self.path)

    def add(self, trip_id: str, channel_id: str, content: str, parent_id: str | None = None) -> Pending:
        item = Pending(uuid.uuid4().hex, trip_id, channel_id, content, new_key(), parent_id)
        self.items.append(item)
        self._write()
        return item

    def add_write(
        self, trip_id: str, kind: str, action: str, row_id: str | None, *, body: dict[str, Any] | None = None,
        base: dict[str, Any] | None = None, label: str = "", idempotency_key: str | None = None,
    ) -> PendingWrite:
        """Queue a write. `idempotency_key`: the one an attempt that may have reached the
        service already used, so that sending it again cannot write twice."""
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        item = PendingWrite(uuid.uuid4().hex, trip_id, kind, action, row_id, dict(body or {}), base, label,
                            idempotency_key or new_key())
        self.items.append(item)
        self._write()
        return item

    def of_trip(self, trip_id: str) -> list[Item]:
        return [item for item in self.items if item.trip_id == trip_id]

    def waiting(self, trip_id: str) -> bool:
        """Something of this trip is still to be sent (failed items wait for the user, not this)."""
        return any(not item.error for item in self.of_trip(trip_id))

    def remove(self, item_id: str) -> None:
        self.items = [item for item in self.items if item.id != item_id]
        self._write()

    def fail(self, item_id: str, error: str | None) -> None:
        for item in self.items:
            if item.id == item_id:
                item.error = error
        self._write()

    def rebase(self, done: PendingWrite, row: dict[str, Any]) -> None:
        """`done` was written and the row is now `row`: later edits of the same row that started
        from the same state as `done` now start from `row` (the user's own edits in a row, not
        someone else's change)."""
        for item in self.items:
            if (isinstance(item, PendingWrite) and item is not done and item.action == "update"
                    and (item.trip_id, item.kind, item.row_id) == (done.trip_id, done.kind, done.row_id)
                    and item.base == done.base):
                item.base = row
        self._write()
