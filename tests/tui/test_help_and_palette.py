"""`?` and the command palette as a new user reads them: keys grouped by where they work, in
words (not class names), and each action offered once, in the app's words."""

from __future__ import annotations

import re

from textual.command import CommandPalette

from app.tui.screens.modals import HelpScreen
from app.tui.screenshots import demo_app
from tests.tui.conftest import wait_for


async def test_help_groups_keys_by_where_they_work_in_words():
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2", "question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        titles = [title for title, _ in app.screen.sections]
        assert titles[0] == "Everywhere"
        for title in titles:
            assert not re.search(r"[a-z][A-Z]", title), titles  # no TripScreen, MapPins, ChatInput
        assert "Trip screen" in titles and "2 Map pane" in titles and "5 Chat pane" in titles, titles
        assert any(title.startswith("5 Chat pane, while typing") for title in titles), titles


async def test_the_palette_offers_quit_once_and_our_help_but_not_textuals_keys_panel():
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("1", "ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), what="the palette")
        palette = app.screen

        def shown() -> list[str]:
            options = palette.query_one("CommandList").options
            return [str(option.prompt).split("\n")[0].strip() for option in options]

        await wait_for(pilot, lambda: len(shown()) > 10, what="the commands", state=shown)
        await pilot.pause(0.3)
        names = [re.sub(r"\s+", " ", name) for name in shown()]
        assert sum(1 for name in names if name.startswith("Quit")) == 1, names
        assert any(name.startswith("Help") for name in names), names
        assert not any(name.startswith("Keys") for name in names), names


def test_readme_keys_table_names_every_key_of_the_screens_the_palette_and_a_open():
    """README's Keys table is where a new user looks: each screen reached from the trip screen
    (the activity, `a`) or the palette (SSH keys) has a row of its own naming all its keys."""
    from pathlib import Path

    from app.tui.screens.activity import ActivityList, ActivityScreen
    from app.tui.screens.ssh_keys import SshKeysScreen

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme.split("\n### Keys\n", 1)[1].split("\n### ", 1)[0]
    first_cells = [line.split("|")[1] for line in table.splitlines() if line.startswith("| ")]
    for where, bindings in {
        "SSH keys": SshKeysScreen.BINDINGS,
        "activity": [*ActivityList.BINDINGS, *ActivityScreen.BINDINGS],
    }.items():
        cell = next((cell for cell in first_cells if cell.strip().startswith(where)), None)
        assert cell is not None, (where, first_cells)
        for binding in bindings:
            for key in binding.key.split(","):
                shown = {"escape": "esc"}.get(key, key)
                assert f"`{shown}`" in cell, (where, shown, cell)
