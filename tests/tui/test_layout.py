"""The trip screen's layout as a pure decision of the terminal's width and the chosen pane."""

from __future__ import annotations

from app.tui.layout import CHAT, layout_for


def test_wide_shows_every_pane_with_the_chat():
    layout = layout_for(160, active=2, primary=2)
    assert layout.mode == "wide" and layout.visible == {1, 2, 3, 4, 5} and layout.chat_in_sight


def test_medium_shows_the_last_chosen_pane_beside_the_chat():
    assert layout_for(159, active=CHAT, primary=3).visible == {3, CHAT}
    assert layout_for(120, active=4, primary=4).mode == "medium"


def test_narrow_shows_the_chosen_pane_only():
    layout = layout_for(119, active=3, primary=3)
    assert layout.mode == "narrow" and layout.visible == {3} and not layout.chat_in_sight
