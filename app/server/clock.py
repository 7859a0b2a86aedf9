"""Ids and timestamps for stored objects."""

from __future__ import annotations

import secrets
import time


def new_id() -> str:
    """An opaque, URL-safe id with 128 random bits."""
    return secrets.token_urlsafe(16)


def now_ms() -> int:
    return time.time_ns() // 1_000_000
