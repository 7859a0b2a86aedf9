"""Untrusted text is shown literally and never reaches the terminal as a control sequence."""

from hypothesis import given
from hypothesis import strategies as st

from app.tui.text import clean, is_safe, literal, one_line


def test_markup_stays_literal():
    text = literal("[bold red]hi[/] [link=http://evil]x[/link]")
    assert text.plain == "[bold red]hi[/] [link=http://evil]x[/link]"
    assert not text.spans


def test_escape_sequences_become_visible():
    assert clean("\x1b[31mred\x1b[0m") == "␛[31mred␛[0m"
    assert clean("\x1b]8;;http://x\x07link\x1b]8;;\x07") == "␛]8;;http://x␇link␛]8;;␇"
    assert clean("a\x9bb\x7fc") == "a\ufffdb\u2421c"
    assert clean("bell\x07 cr\r nul\x00") == "bell␇ cr␍ nul␀"


def test_single_line_folds_newlines():
    assert one_line("two\nlines").plain == "two ⏎ lines"
    assert "\n" not in one_line("a\u2028b\u2029c").plain


@given(st.text())
def test_any_text_is_safe_once_cleaned(value):
    assert is_safe(clean(value))
    assert is_safe(clean(value, single_line=True))


def test_bidi_and_zero_width_controls_become_visible():
    """A right-to-left override made a title read backwards, zero-width ones hid text."""
    assert clean("nice \u202etxt.exe") == "nice ⟨RLO⟩txt.exe"
    assert clean("\u2066a\u2069\u200e\u200f\u061c") == "⟨LRI⟩a⟨PDI⟩⟨LRM⟩⟨RLM⟩⟨ALM⟩"
    assert clean("pay\u200bpal\ufeff\u2060") == "pay⟨ZWSP⟩pal⟨BOM⟩⟨WJ⟩"
    assert clean("a\u200db") == "a⟨ZWJ⟩b"  # between Latin letters it only hides a difference
    for code in range(0x202A, 0x202F):
        assert chr(code) not in clean(chr(code))
    # What joins a script or an emoji stays: a family, a flag of a nation, Persian's half-space.
    for kept in (
        "👩\u200d👩\u200d👧",
        "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
        "می\u200cخواهم",
    ):
        assert clean(kept) == kept


VISIBLE_FORMAT_MARKS = {
    *range(0x0600, 0x0606),
    0x06DD,
    0x070F,
    0x0890,
    0x0891,
    0x08E2,
    0x110BD,
    0x110CD,
    *range(0x13430, 0x13440),
}
"""Characters of category Cf that are drawn (number signs, hieroglyph controls): left alone."""


def test_every_invisible_format_character_of_this_unicode_is_covered():
    import unicodedata

    from app.tui.text import INVISIBLE

    covered = {code for first, last in INVISIBLE for code in range(first, last + 1)}
    format_characters = {code for code in range(0x110000) if unicodedata.category(chr(code)) == "Cf"}
    assert covered <= format_characters
    assert format_characters - covered <= VISIBLE_FORMAT_MARKS, sorted(map(hex, format_characters - covered))


@given(st.text())
def test_no_invisible_format_character_reaches_the_screen_on_its_own(value):
    import unicodedata

    shown = clean(value)
    for ch in shown:
        if unicodedata.category(ch) == "Cf" and ord(ch) not in VISIBLE_FORMAT_MARKS:
            assert ch in "\u200c\u200d" or 0xE0020 <= ord(ch) <= 0xE007F, (value, shown)


async def test_a_title_with_a_right_to_left_override_shows_it_named_in_the_picker_header_panes_and_forms(
    server, tui, alice
):
    from app.tui.screens.form import FormScreen
    from app.tui.screens.picker import TripPickerScreen
    from app.tui.screens.trip import TripScreen
    from tests.conftest import new_trip
    from tests.tui.conftest import wait_for
    from tests.tui.test_fit import row_text

    trip = await new_trip(alice, title="Porto \u202eatsiv\u202c trip")
    leg = {
        "title": "Ria\u200bvine",
        "destination": "Porto",
        "startDate": "2026-07-15",
        "endDate": "2026-07-18",
        "timezone": "Europe/Lisbon",
        "order": 1,
    }
    assert (await alice.http.post(f"/trips/{trip['_id']}/legs", json=leg)).status_code == 201
    app, _ = tui(alice.key)
    async with app.run_test(size=(100, 30)) as pilot:
        screen_text = lambda: "\n".join(row_text(app, y) for y in range(30))  # noqa: E731
        await wait_for(
            pilot, lambda: isinstance(app.screen, TripPickerScreen) and app.screen.trips, what="picker"
        )
        await pilot.pause()
        assert "Porto ⟨RLO⟩atsiv⟨PDF⟩ trip" in screen_text(), screen_text()
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, TripScreen) and app.screen.data is not None, what="trip"
        )
        await wait_for(pilot, lambda: "Ria⟨ZWSP⟩vine" in screen_text(), what="the leg", state=screen_text)
        assert "Porto ⟨RLO⟩atsiv⟨PDF⟩ trip" in row_text(app, 0)
        await pilot.press("4", "n")  # a commitment's leg choice lists the leg's title
        await wait_for(pilot, lambda: isinstance(app.screen, FormScreen), what="the form")
        select = app.screen.query_one("#field-legId")
        assert any("Ria⟨ZWSP⟩vine" in str(option[0]) for option in select._options)
        assert not any("\u200b" in row_text(app, y) or "\u202e" in row_text(app, y) for y in range(30))
