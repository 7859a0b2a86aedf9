"""Untrusted text is shown literally and never reaches the terminal as a control sequence."""

from hypothesis import given, strategies as st

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
