"""Which of the trip screen's five panes show at a terminal's width: decided here, once, as data."""

from __future__ import annotations

from dataclasses import dataclass

WIDE = 160
"""Columns from which all five panes sit side by side, the chat always visible."""
MEDIUM = 120
"""Columns from which the chosen pane sits beside the chat; below, one pane at a time."""
CHAT = 5
PANES = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class Layout:
    mode: str
    """"wide", "medium" or "narrow": the screen's CSS class is this with a leading dash."""
    visible: frozenset[int]
    active: int

    @property
    def chat_in_sight(self) -> bool:
        return CHAT in self.visible


def mode_for(width: int) -> str:
    return "wide" if width >= WIDE else "medium" if width >= MEDIUM else "narrow"


def layout_for(width: int, active: int, primary: int) -> Layout:
    """The layout at `width` columns with pane `active` chosen; `primary` is the last non-chat
    pane chosen, the one shown beside the chat at medium width."""
    mode = mode_for(width)
    if mode == "wide":
        visible = frozenset(PANES)
    elif mode == "medium":
        visible = frozenset({primary, CHAT})
    else:
        visible = frozenset({active})
    return Layout(mode, visible, active)
