"""`trip ui` starts with Python's cyclic garbage collector paused, and resumes it once the first
screen has had time to fill.

Opening a trip builds a great many objects in one burst (modules, classes, pydantic schemas,
widgets, styles), nearly all of them kept for the life of the process. With the collector
running, it walks them again and again as they pile up, spending CPU before the trip screen shows
its data (tests/benchmarks/test_tui_open.py measures the start). Paused, they cost nothing; on
resuming, one full collection frees the start-up's cyclic garbage while the user reads the
screen, and `gc.freeze()` then moves what survives into the permanent generation, which later
collections no longer walk.

`trip ui` and `trip demo` call `hold_collector` before importing the TUI; the app calls
`release_collector` a moment after it mounts, and again when it exits."""

from __future__ import annotations

import gc

HOLD_SECONDS = 1.5
"""How long after the app mounts the collector stays paused: time for the first screenful to
arrive and paint (a few tenths of a second on a healthy connection)."""

_held = False


def hold_collector() -> None:
    """Pause the collector (only if it runs: one paused by someone else stays theirs)."""
    global _held
    if gc.isenabled():
        gc.disable()
        _held = True


def release_collector() -> None:
    """Collect the start-up's garbage, freeze what survives, resume the collector. Does nothing
    unless `hold_collector` paused it, so it may be called more than once."""
    global _held
    if not _held:
        return
    _held = False
    gc.collect()
    gc.freeze()
    gc.enable()


def collector_held() -> bool:
    return _held
