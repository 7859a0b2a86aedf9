"""What fits where: the trip screen's frame and dialogs at small and common terminal sizes, read
from the screen as drawn (the cells of each row), from the fixed demo data."""

from __future__ import annotations

from textual.selection import Selection
from textual.widgets._footer import FooterKey

from app.tui.screens.members import MembersScreen
from app.tui.screenshots import demo_app
from app.tui.widgets.status import OfflineBanner
from tests.conftest import new_trip
from tests.tui.conftest import wait_for
from tests.tui.test_editing import open_trip


def row_segments(app, y: int) -> list:
    """Row `y` of the screen as drawn: rich Segments (text and style)."""
    return list(app.screen._compositor.render_strips()[y])


def row_text(app, y: int) -> str:
    """Row `y` of the screen as the terminal shows it."""
    return "".join(segment.text for segment in row_segments(app, y))


async def test_the_footer_that_overflows_leaves_no_stray_letter_in_the_corner():
    app = demo_app()
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.press("1")
        await pilot.pause()
        bottom = row_text(app, 19)
        assert bottom.endswith("^p palette"), bottom


async def test_the_header_keeps_its_parts_apart_at_every_width():
    for size in [(40, 15), (60, 20), (80, 24), (160, 48)]:
        app = demo_app()
        async with app.run_test(size=size) as pilot:
            await pilot.press("1")
            await pilot.pause()
            header = row_text(app, 0)
            assert len(header) == size[0]
            words = [part.strip() for part in header.strip().split("  ") if part.strip()]
            # No part ends in a cut: the title may, the dates and the name may not.
            assert not any(part.endswith("…") for part in words[2:]), (size, header)
            assert "Tripdeck" in words[0] and words[-1] == "● live", (size, header)
            if size[0] >= 60:
                assert "10 Jul – 23 Jul 2026" in words, (size, header)
            if size[0] >= 80:
                assert "Sam Rivera" in words, (size, header)
            if size[0] >= 120:
                assert "active" in words and words[1] == "Lisbon → Seville → Marrakech", (size, header)


async def test_the_offline_banner_says_whole_phrases_at_80_columns_and_more_when_wide():
    url = "https://trips.example.org:8443"
    for width, expected in [(80, "· retry 3 in 8s"), (160, "· what you see may be out of date")]:
        app = demo_app()
        async with app.run_test(size=(width, 24)) as pilot:
            await pilot.press("1")
            banner = app.screen.query_one(OfflineBanner)
            banner.show_offline(url, 3, 8.0)
            await pilot.pause()
            line = row_text(app, banner.region.y).rstrip()
            assert line.endswith(expected), line
            assert f"cannot reach {url} · retry 3 in 8s" in line, line


async def test_the_share_link_is_drawn_alone_from_the_first_column_so_a_selection_copies_only_it(
    server, tui, alice
):
    trip = await new_trip(alice)
    app, _ = tui(alice.key, trip_id=trip["_id"])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_trip(pilot, app)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MembersScreen), what="members")
        await pilot.press("s")
        await wait_for(pilot, lambda: app.screen.share_url, what="the share link")
        await pilot.pause()
        url = app.screen.share_url
        assert len(url) > 80  # so it must take two rows at 80 columns: no border or padding between
        rows = [row_text(app, y) for y in range(24)]
        first = next(y for y, row in enumerate(rows) if url[:20] in row)
        assert rows[first].startswith(url[:80]), rows[first]
        assert rows[first + 1].rstrip() == url[80:], rows[first + 1]
        # The terminal's own selection copies the two rows with a line break between them; a
        # selection in the app, and `c`, copy the link whole, in one line.
        link = app.screen.query_one("#share-url")
        app.screen.selections = {link: Selection(None, None)}
        assert app.screen.get_selected_text() == url
        app.copy_to_clipboard("")
        assert "Copy link" in {key.description for key in app.screen.query(FooterKey)}
        await pilot.press("c")
        assert app.clipboard == url
        # The footer has no room for every key here: those left out go whole, and the way back
        # (`esc Close`) stays.
        bottom = row_text(app, 23)
        for key in (key for key in app.screen.query(FooterKey) if key.display):
            drawn = f"{key.key_display} {key.description}"
            assert key.region.right <= 80 and drawn in bottom, (drawn, bottom)
        assert "esc Close" in bottom, bottom


async def test_the_footer_shows_whole_keys_only_and_always_the_help_key(server, tui, alice):
    """A key the footer has no room for is left out whole (? and ctrl+p list them all), not cut
    to a lone letter; the help key is kept wherever it works (not while typing: `?` is text)."""
    trip = await new_trip(alice)
    for size, pane in [((80, 24), "1"), ((80, 24), "5"), ((60, 20), "1"), ((160, 48), "1")]:
        app, _ = tui(alice.key, trip_id=trip["_id"])
        async with app.run_test(size=size) as pilot:
            await open_trip(pilot, app)
            await pilot.press(pane)
            await pilot.pause()
            await pilot.pause()
            bottom = row_text(app, size[1] - 1)
            keys = [key for key in app.screen.query(FooterKey) if key.display]
            palette = next(key for key in keys if key.has_class("-command-palette"))
            others = [key for key in keys if key is not palette]
            for key in others:
                drawn = f"{key.key_display} {key.description}"
                assert key.region.right <= palette.region.x and drawn in bottom, (size, pane, drawn, bottom)
            typing = pane == "5"
            assert typing or "? Help" in bottom, (size, pane, bottom)
            assert bottom.rstrip().endswith("^p palette"), bottom


JOIN = (
    "trip ui --url http://127.0.0.1:40667/api/v1 --key osk_eBFEqiDNImix4Vk7wD9omygUxFrIiqMMklbrQFkjemk "
    "--trip=vi7IJ5kuCQ7qpvdyl1qPe"
)


async def test_the_join_command_is_shown_whole_and_runnable_at_40x15_and_80x24():
    from app.tui.screens.modals import JoinScreen

    for width, height in [(40, 15), (80, 24)]:
        app = demo_app()
        async with app.run_test(size=(width, height)) as pilot:
            app.push_screen(JoinScreen(JOIN))
            await pilot.pause()
            rows = [row_text(app, y) for y in range(height)]
            shown = "\n".join(rows)
            for argument in JOIN.split(" "):
                if len(argument) <= width:  # a longer one (the key at 40 columns) must fold
                    assert argument in shown, (width, argument, shown)
            assert "c copies" in shown, shown
            if width < 80:
                continue
            # The lines as a shell reads them: every break is a continuation.
            lines = [row.strip(" │") for row in rows if row.strip(" │╭╮╰╯─")]
            start = next(i for i, line in enumerate(lines) if line.startswith("trip ui"))
            command = []
            for line in lines[start:]:
                command.append(line.removesuffix("\\").strip())
                if not line.endswith("\\"):
                    break
            assert " ".join(command) == JOIN, (width, lines)
