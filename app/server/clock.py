"""Ids and timestamps for stored objects."""

from __future__ import annotations

import secrets
import time


def new_id() -> str:
    """An opaque, URL-safe id with 128 random bits that never starts with "-".

    One id in 64 would otherwise, and a command line then reads it as an option: `trip export
    --trip -VrH6...` fails with "expected one argument", as would the join command `trip demo`
    prints. Drawing again keeps every id uniform over the ids allowed."""
    while (value := secrets.token_urlsafe(16)).startswith("-"):
        pass
    return value


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def plausible_id(value: str) -> bool:
    """Could this be a stored id? A path segment that cannot be (U+0000, which PostgreSQL refuses
    in a query parameter, or a megabyte of text) is answered 404 without asking the database."""
    return 0 < len(value) <= 200 and "\x00" not in value
