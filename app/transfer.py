"""`trip export` and `trip import`: a trip's data out to a file (iCalendar, GeoJSON, JSON) and in
from a JSON snapshot through the sync endpoint, with a dry run shown first, a confirmation and a
progress bar. Talks to the service through `app.client`; the formats live in `app.formats`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Mapping, TextIO

from app.client import TripClient, TripError
from app.domain import SyncResult, Trip
from app.formats import to_geojson, to_ics
from app.formats.snapshot import (
    Outcome,
    Snapshot,
    SnapshotError,
    parse_snapshot,
    plan_chunks,
    repeated_client_refs,
    sync_in_chunks,
)
from app.transfer_args import FORMATS, add_commands  # noqa: F401  (the parser lives apart: see there)

SHOWN_PER_CATEGORY = 20


def printable(value: Any) -> str:
    """User text for a terminal: control characters (escape sequences included) shown as
    `\\x1b`-style escapes, never interpreted."""
    text = str(value)
    return "".join(ch if ch.isprintable() or ch == " " else repr(ch)[1:-1] for ch in text)


def fail(command: str, exc: BaseException) -> int:
    print(f"trip {command}: {printable(exc)}", file=sys.stderr)
    return 1


# --- export ----------------------------------------------------------------------------------


def cmd_export(args: argparse.Namespace) -> int:
    try:
        export = asyncio.run(_fetch_export(args))
    except (TripError, ValueError) as exc:
        return fail("export", exc)
    if args.format == "ics":
        text = to_ics(export)
    elif args.format == "geojson":
        text = json.dumps(to_geojson(export), ensure_ascii=False, indent=2) + "\n"
    else:
        text = json.dumps(export.model_dump(mode="json", by_alias=True, exclude_unset=True), ensure_ascii=False, indent=2) + "\n"
    if args.output:
        try:
            write_atomically(Path(args.output), text)
        except OSError as exc:
            return fail("export", exc)
        print(f"Wrote {args.format} of {export.trip.title!r} to {printable(args.output)}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(text.encode())
        sys.stdout.flush()
    return 0


async def _fetch_export(args: argparse.Namespace):
    async with TripClient(args.key, base_url=args.url) as client:
        return await client.export_trip(args.trip)


def write_atomically(path: Path, text: str) -> None:
    """Write to a temp file beside `path`, then rename: a failed export never leaves half a file.
    Bytes as given (an .ics keeps its CRLF line ends)."""
    path = path.expanduser()
    handle, temp = tempfile.mkstemp(dir=path.parent or Path("."), prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(text.encode())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


# --- import ----------------------------------------------------------------------------------


class Progress:
    """A progress bar on a terminal; a line per step elsewhere (logs, CI)."""

    WIDTH = 30

    def __init__(self, label: str, total: int, stream: TextIO = sys.stderr) -> None:
        self.label, self.total, self.done, self.stream = label, total, 0, stream
        self.live = stream.isatty()

    def __call__(self, step: int) -> None:
        self.done += step
        if self.live:
            filled = self.WIDTH * self.done // max(self.total, 1)
            bar = "#" * filled + "." * (self.WIDTH - filled)
            end = "\n" if self.done >= self.total else ""
            self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total}{end}")
        else:
            self.stream.write(f"{self.label}: {self.done}/{self.total} items\n")
        self.stream.flush()


def load_snapshot(path: str) -> Snapshot:
    try:
        with open(path, "rb") as file:
            data = json.load(file)
    except OSError as exc:
        raise SnapshotError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SnapshotError(f"{path} is not valid JSON: {exc}") from None
    return parse_snapshot(data)


def item_label(snapshot: Snapshot, category: str, index: int) -> str:
    item = snapshot.items[category][index]
    if not isinstance(item, dict):
        return f"{category}[{index}]"
    name = item.get("title") or item.get("name") or item.get("text")
    ref = item.get("clientRef")
    label = f"{category}[{index}]"
    # repr() quotes and shows control characters as escapes (\x1b), so nothing reaches the terminal raw.
    if isinstance(name, str):
        label += f" {name!r}" if len(name) <= 60 else f" {name[:57]!r}..."
    if isinstance(ref, str):
        label += f" (clientRef {ref!r})"
    return label


def describe(outcome: Outcome, snapshot: Snapshot, out: TextIO) -> None:
    verb = {"created": "to create", "updated": "to update"} if outcome.dry_run else {"created": "created", "updated": "updated"}
    for category in snapshot.items:
        out.write(
            f"  {category:<12} {outcome.count(category, 'created'):>5} {verb['created']}, "
            f"{outcome.count(category, 'updated'):>5} {verb['updated']}, {outcome.count(category, 'error'):>5} errors\n"
        )
    if outcome.dry_run:
        for category in snapshot.items:
            changes = [item for item in outcome.items if item.category == category and item.status != "error"]
            for item in changes[:SHOWN_PER_CATEGORY]:
                mark = "+" if item.status == "created" else "~"
                out.write(f"  {mark} {item_label(snapshot, category, item.index)}\n")
            if len(changes) > SHOWN_PER_CATEGORY:
                out.write(f"    ... and {len(changes) - SHOWN_PER_CATEGORY} more {category}\n")
    for item in outcome.errors:
        error = item.error or {}
        details = ", ".join(f"{d.get('path')}: {d.get('reason')}" for d in error.get("details") or [])
        out.write(
            f"  ! {item_label(snapshot, item.category, item.index)}: {printable(error.get('code', 'ERROR'))}: "
            f"{printable(error.get('message', ''))}{f' ({printable(details)})' if details else ''}\n"
        )


def confirm(question: str, ask: Callable[[str], str] = input) -> bool:
    try:
        return ask(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


def cmd_import(args: argparse.Namespace, *, ask: Callable[[str], str] = input) -> int:
    try:
        snapshot = load_snapshot(args.file)
    except SnapshotError as exc:
        print(f"trip import: {printable(exc)}", file=sys.stderr)
        return 2
    if not args.dry_run and not args.yes and not sys.stdin.isatty():
        print("trip import: not a terminal, so nobody can confirm: pass --yes to apply, or --dry-run",
              file=sys.stderr)
        return 2
    try:
        return asyncio.run(_import(args, snapshot, ask))
    except (TripError, ValueError) as exc:
        print(file=sys.stderr)
        return fail("import", exc)
    except KeyboardInterrupt:
        print("\ntrip import: interrupted; chunks already applied stay applied", file=sys.stderr)
        return 130


async def _import(args: argparse.Namespace, snapshot: Snapshot, ask: Callable[[str], str]) -> int:
    out = sys.stdout
    for name in snapshot.skipped:
        print(f"trip import: skipping {name!r}: the sync endpoint takes legs, actionItems and mapPins", file=sys.stderr)
    for category, refs in repeated_client_refs(snapshot).items():
        shown = ", ".join(repr(r) for r in refs[:5])
        print(f"trip import: {category} repeats clientRef {shown}: later copies update earlier ones", file=sys.stderr)

    chunks = plan_chunks(snapshot)
    async with TripClient(args.key, base_url=args.url) as client:
        trip: Trip = await client.get_trip(args.trip)

        async def send(items: Mapping[str, list[Any]], dry_run: bool) -> SyncResult:
            return await client.sync_trip(
                args.trip, legs=items.get("legs"), action_items=items.get("actionItems"),
                map_pins=items.get("mapPins"), dry_run=dry_run,
            )

        title = repr(trip.title)
        requests = f" in {len(chunks)} requests" if len(chunks) > 1 else ""
        preview = await sync_in_chunks(
            send, chunks, dry_run=True, progress=Progress("Checking", snapshot.total) if len(chunks) > 1 else None
        )
        out.write(f"Dry run of {args.file} ({snapshot.total} items{requests}) into {title} ({printable(args.trip)}):\n")
        describe(preview, snapshot, out)
        out.flush()
        if args.dry_run:
            return 1 if preview.errors else 0
        if preview.changes == 0:
            out.write("Nothing to apply.\n")
            return 1 if preview.errors else 0
        question = f"Apply {preview.changes} changes to {title}"
        question += f" ({len(preview.errors)} items will fail)?" if preview.errors else "?"
        if not args.yes and not confirm(question, ask):
            out.write("Nothing applied.\n")
            return 1

        applied = await sync_in_chunks(
            send, chunks, dry_run=False, progress=Progress("Importing", snapshot.total) if len(chunks) > 1 else None
        )
        out.write(f"Imported into {title}:\n")
        describe(applied, snapshot, out)
        return 1 if applied.errors else 0
