"""The offline outbox: chat messages written while the service cannot be reached wait here, on
disk (JSON lines, readable by the user only, in the user's data dir), and are sent in order,
each with the idempotency key it got when it was typed, so a retry never posts twice."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from platformdirs import user_data_dir

OUTBOX_ENV = "TRIP_OUTBOX_FILE"


def outbox_path() -> Path:
    if override := os.environ.get(OUTBOX_ENV):
        return Path(override)
    return Path(user_data_dir("tripdeck")) / "outbox.jsonl"


@dataclass
class Pending:
    id: str
    trip_id: str
    channel_id: str
    content: str
    idempotency_key: str
    parent_id: str | None = None
    error: str | None = None
    """Why the service refused it; None while it only waits for the connection."""


class Outbox:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or outbox_path()
        self.items: list[Pending] = self._read()

    def _read(self) -> list[Pending]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        items = []
        for line in lines:
            try:
                data = json.loads(line)
                items.append(Pending(**{key: data.get(key) for key in Pending.__dataclass_fields__}))
            except (ValueError, TypeError):
                continue  # a torn last line from a crash: skip it, keep the rest
        return [item for item in items if item.id and item.trip_id and item.channel_id and item.idempotency_key]

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(descriptor, 0o600)
            body = "".join(json.dumps(asdict(item), ensure_ascii=False) + "\n" for item in self.items)
            os.write(descriptor, body.encode("utf-8"))
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(temporary, self.path)

    def add(self, trip_id: str, channel_id: str, content: str, parent_id: str | None = None) -> Pending:
        item = Pending(uuid.uuid4().hex, trip_id, channel_id, content, f"outbox-{uuid.uuid4()}", parent_id)
        self.items.append(item)
        self._write()
        return item

    def of_trip(self, trip_id: str) -> list[Pending]:
        return [item for item in self.items if item.trip_id == trip_id]

    def remove(self, item_id: str) -> None:
        self.items = [item for item in self.items if item.id != item_id]
        self._write()

    def fail(self, item_id: str, error: str | None) -> None:
        for item in self.items:
            if item.id == item_id:
                item.error = error
        self._write()
