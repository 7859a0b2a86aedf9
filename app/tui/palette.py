"""Colours the panes use for data (categories, legs, urgencies). All are exact xterm-256
palette entries, so a 256-colour terminal shows the same colours as a true-colour one."""

from __future__ import annotations

SERIES = ("#5fafff", "#ffaf5f", "#87d787", "#d787d7", "#ffd75f", "#5fd7d7", "#ff8787", "#afafff")
MUTED = "#808080"
TODAY = "#ffd700"
ALERT = "#ff5f5f"
MENTION_BACKGROUND = "#3a3a00"
PENDING = "#ffd75f"
"""Writes waiting in the outbox: the outbox bar and the marks under their rows."""
ADDED = "#87d787"
"""A field's new value in the activity's details (the old one is in ALERT)."""

URGENCY = {"now": "#ff5f5f", "before_trip": "#ffd75f", "nice_to_have": "#87d787"}
URGENCY_LABEL = {"now": "Now", "before_trip": "Before the trip", "nice_to_have": "Nice to have"}

COMMITMENT_CATEGORY = {
    "dinner": "#ffaf5f",
    "activity": "#87d787",
    "birthday": "#d787d7",
    "meeting": "#5fafff",
    "other": "#afafaf",
}


def series(index: int) -> str:
    return SERIES[index % len(SERIES)]


def category_colour(category: str | None, known: list[str]) -> str:
    """A stable colour per map-pin category, in the order the categories first appear."""
    if not category:
        return MUTED
    if category not in known:
        known.append(category)
    return series(known.index(category))
