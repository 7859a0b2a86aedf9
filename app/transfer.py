"""`trip export` and `trip import`: a trip's data out to a file (iCalendar, GeoJSON, JSON) and in
from a JSON snapshot through the sync endpoint, with a dry run shown first, a confirmation and a
progress bar. Talks to the service through `app.client`; the formats live in `app.formats`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TextIO

from app.client import TripClient, TripConnectionError, TripError
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
from app.settings import environment
from app.transfer_args import FORMATS, add_commands  # noqa: F401  (the parser lives apart: see there)

SHOWN_PER_CATEGORY = 20


def printable(value: Any) -> str:
    """User text for a terminal: control characters (escape sequences included) shown as
    `\\x1b`-style escapes, never interpreted."""
    text = str(value)
    return "".join(ch if ch.isprintable() or ch == " " else repr(ch)[1:-1] for ch in text)


REFUSED = 1
"""Exit status when the service refused, or could not be reached."""
USAGE = 2
"""Exit status for the user's own input: a file that cannot be read or is not a snapshot, a bad
URL, no key, an output file that cannot be written."""


def fail(command: str, exc: BaseException | str, status: int = REFUSED, *, url: str | None = None) -> int:
    """One line on stderr, never a traceback: what went wrong, in words (and which service, `url`,
    could not be reached: it may come from trip ui's config file, not the command line)."""
    if isinstance(exc, TripConnectionError):
        exc = f"cannot reach the trip service{f' at {url}' if url else ''} ({exc})"
    print(f"trip {command}: {printable(exc)}", file=sys.stderr)
    return status


class UsageError(ValueError):
    """The command line or the environment does not name a usable service and key."""


def open_client(args: argparse.Namespace) -> TripClient:
    """The SDK client for --url/--key (the composition root, app/cli.py, fills them from
    TRIP_API_URL/TRIP_API_KEY or the config file `trip ui` saved), or UsageError saying what is
    missing or malformed."""
    key = args.key or environment().api_key
    if not key:
        raise UsageError(
            "no API key: pass --key, set TRIP_API_KEY, or sign in once with `trip ui` (make a key "
            "with `trip keys create --email ...`)"
        )
    url = args.url or environment().api_url
    try:
        return TripClient(key, base_url=url)
    except ValueError:
        raise UsageError(
            f"{url!r} is not a service URL: it must start with http:// or https://, "
            "such as http://127.0.0.1:8000/api/v1 (--url, TRIP_API_URL or trip ui's config file)"
        ) from None


# --- export ----------------------------------------------------------------------------------


def cmd_export(args: argparse.Namespace) -> int:
    try:
        client = open_client(args)
        export = asyncio.run(_fetch_export(client, args.trip))
    except UsageError as exc:
        return fail("export", exc, USAGE)
    except TripError as exc:
        return fail("export", exc, url=client.base_url)
    if args.format == "ics":
        text = to_ics(export)
    elif args.format == "geojson":
        text = json.dumps(to_geojson(export), ensure_ascii=False, indent=2) + "\n"
    else:
        text = (
            json.dumps(
                export.model_dump(mode="json", by_alias=True, exclude_unset=True),
                ensure_ascii=False,
                indent=2,
            )
            + "\n"
        )
    if args.output:
        try:
            write_atomically(Path(args.output), text)
        except OSError as exc:
            return fail("export", f"cannot write {args.output}: {exc.strerror or exc}", USAGE)
        print(f"Wrote {args.format} of {export.trip.title!r} to {printable(args.output)}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(text.encode())
        sys.stdout.flush()
    return 0


async def _fetch_export(client: TripClient, trip_id: str):
    async with client:
        return await client.export_trip(trip_id)


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
            raw = file.read()
    except OSError as exc:
        raise SnapshotError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        data = parse_json(raw)
    except (UnicodeDecodeError, UnicodeEncodeError) as exc:  # reading the bytes, or a lone surrogate
        raise SnapshotError(f"{path} is not UTF-8 text: {exc.reason}") from None
    except RecursionError:
        raise SnapshotError(f"{path} is nested too deeply to be a snapshot") from None
    except ValueError as exc:
        raise SnapshotError(f"{path} is not valid JSON: {exc}") from None
    return parse_snapshot(data)


def parse_json(raw: bytes) -> Any:
    """Strict JSON: UTF-8 text whose numbers are finite (no NaN, no 1e400) and whose strings can
    be sent back out as UTF-8 (no lone surrogate such as "\\ud800")."""

    def finite(text: str) -> float:
        number = float(text)
        if not math.isfinite(number):
            raise ValueError(f"the number {text[:40]} is too large")
        return number

    def constant(name: str) -> Any:
        raise ValueError(f"{name} is not a JSON number")

    data = json.loads(raw.decode("utf-8"), parse_float=finite, parse_constant=constant)
    json.dumps(data, ensure_ascii=False).encode("utf-8")  # a lone surrogate: UnicodeEncodeError
    return data


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
    verb = (
        {"created": "to create", "updated": "to update"}
        if outcome.dry_run
        else {"created": "created", "updated": "updated"}
    )
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
        client = open_client(args)
    except (SnapshotError, UsageError) as exc:
        return fail("import", exc, USAGE)
    if not args.dry_run and not args.yes and not sys.stdin.isatty():
        print(
            "trip import: not a terminal, so nobody can confirm: pass --yes to apply, or --dry-run",
            file=sys.stderr,
        )
        return USAGE
    try:
        return asyncio.run(_import(args, client, snapshot, ask))
    except TripError as exc:
        if sys.stderr.isatty():
            print(file=sys.stderr)  # end a progress bar's line
        return fail("import", exc, url=client.base_url)
    except KeyboardInterrupt:
        print("\ntrip import: interrupted; chunks already applied stay applied", file=sys.stderr)
        return 130


async def _import(
    args: argparse.Namespace, client: TripClient, snapshot: Snapshot, ask: Callable[[str], str]
) -> int:
    out = sys.stdout
    for name in snapshot.skipped:
        print(
            f"trip import: skipping {name!r}: the sync endpoint takes legs, actionItems and mapPins",
            file=sys.stderr,
        )
    for category, refs in repeated_client_refs(snapshot).items():
        shown = ", ".join(repr(r) for r in refs[:5])
        print(
            f"trip import: {category} repeats clientRef {shown}: later copies update earlier ones",
            file=sys.stderr,
        )

    chunks = plan_chunks(snapshot)
    async with client:
        trip: Trip = await client.get_trip(args.trip)

        async def send(items: Mapping[str, list[Any]], dry_run: bool) -> SyncResult:
            return await client.sync_trip(
                args.trip,
                legs=items.get("legs"),
                action_items=items.get("actionItems"),
                map_pins=items.get("mapPins"),
                dry_run=dry_run,
            )

        title = repr(trip.title)
        requests = f" in {len(chunks)} requests" if len(chunks) > 1 else ""
        preview = await sync_in_chunks(
            send,
            chunks,
            dry_run=True,
            progress=Progress("Checking", snapshot.total) if len(chunks) > 1 else None,
        )
        out.write(
            f"Dry run of {args.file} ({snapshot.total} items{requests}) into {title} ({printable(args.trip)}):\n"
        )
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
            send,
            chunks,
            dry_run=False,
            progress=Progress("Importing", snapshot.total) if len(chunks) > 1 else None,
        )
        out.write(f"Imported into {title}:\n")
        describe(applied, snapshot, out)
        return 1 if applied.errors else 0
