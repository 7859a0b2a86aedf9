"""Where every failed background task ends: one notice that says what failed and what to do, and a
line in the log file in the user's data directory (with the request id when the service answered,
the traceback when it is a bug of ours).

Every screen hands its workers' failures to the app (app/tui/screens/base.py), which calls
`notice` and `write_log`."""

from __future__ import annotations

import datetime as dt
import os
import traceback
from pathlib import Path

from app.client import (
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TripConnectionError,
    TripError,
    UnauthorizedError,
)
from app.files import make_private_directories, open_private
from app.settings import LOG_FILE
from app.tui.config import data_file
from app.tui.notices import describe

LOG_LIMIT = 1_000_000
"""Bytes after which the log starts afresh (the previous one kept as tripdeck.log.1)."""


def log_path() -> Path:
    return data_file(LOG_FILE, "tripdeck.log")


def advice(error: BaseException, log: Path) -> str:
    """What the user can do about `error`, in a sentence."""
    if isinstance(error, TripConnectionError):
        return "Check that the service runs and the network is up, then try again (ctrl+r reloads)."
    if isinstance(error, UnauthorizedError):
        return "The key was refused: check it (trip ui --key, TRIP_API_KEY or the config file)."
    if isinstance(error, ForbiddenError):
        return "Your role on this trip does not allow it (the owner can change it)."
    if isinstance(error, NotFoundError):
        return "It is gone (deleted, or you are no longer a member): ctrl+r reloads."
    if isinstance(error, RateLimitedError):
        return "Too many requests: wait a moment, then try again."
    if isinstance(error, ServerError):
        return "The service failed: try again, and quote the request id if it keeps failing."
    if isinstance(error, TripError):
        return "Try again; if it keeps failing, quote the request id to whoever runs the service."
    return f"Try again; if it keeps failing, the details are in {log}."


def unavailable(error: BaseException, url: str, trip_id: str | None = None) -> str:
    """Why a screen has nothing to show, and what to do, for the line where its content would be."""
    if isinstance(error, TripConnectionError):
        return (
            f"Cannot reach the trip service at {url}. Is it running (trip serve)? "
            "Trying again on its own; ctrl+r tries now."
        )
    if isinstance(error, UnauthorizedError):
        return (
            "The service refused the key. Check it (trip ui --key, TRIP_API_KEY or the config file), "
            "or make one with trip keys create --email you@example.com."
        )
    if isinstance(error, NotFoundError) and trip_id is not None:
        return f"Trip {trip_id} was not found, or you are not one of its members. Press t for your trips."
    if isinstance(error, ForbiddenError):
        return f"This key may not read it: {describe(error)}. Press t for your trips, or ask an owner."
    return f"{describe(error)}. Trying again on its own; ctrl+r tries now."


def notice(what: str, error: BaseException, log: Path) -> str:
    return f"{what} failed: {describe(error)}. {advice(error, log)}"


def write_log(log: Path, where: str, what: str, error: BaseException) -> None:
    """One entry per failure: when, where, what, the error with its request id; a traceback for
    what is not the service's answer (a bug to report)."""
    request_id = getattr(error, "request_id", None)
    lines = [
        f"{dt.datetime.now().astimezone().isoformat(timespec='seconds')} {where}: {what} failed: "
        f"{type(error).__name__}: {error}" + (f" [request {request_id}]" if request_id else "")
    ]
    if not isinstance(error, TripError):
        lines += ["".join(traceback.format_exception(error)).rstrip()]
    try:
        make_private_directories(log.parent)
        if log.exists() and log.stat().st_size > LOG_LIMIT:
            os.replace(log, log.with_name(log.name + ".1"))  # one older file kept, never more
        descriptor = open_private(log, os.O_WRONLY | os.O_APPEND)
        try:
            os.write(descriptor, ("\n".join(lines) + "\n").encode("utf-8", "replace"))
        finally:
            os.close(descriptor)
    except OSError:
        pass  # a log that cannot be written must not hide the notice
