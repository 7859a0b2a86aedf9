"""Untrusted text made safe to show: every title, note, name and message goes through here.

Text from the service is shown literally. It becomes a `rich.text.Text` (never a markup string,
so `[bold]` stays `[bold]`), and characters that a terminal would act on instead of print are
replaced by visible stand-ins: ESC becomes `␛` (so an ANSI or OSC sequence is shown, not run),
other C0 controls become their Control Pictures (`␇`, `␍`...), C1 controls and DEL become `�`.
Invisible format characters (bidi controls such as U+202E, which make a line read backwards,
and zero-width ones, which hide text) are named in brackets: `⟨RLO⟩`, `⟨ZWSP⟩`. Only the joiners
a script or an emoji needs stay: ZWJ and ZWNJ between two non-ASCII letters or symbols, and the
tag characters of a subdivision flag.
"""

from __future__ import annotations

import re
import unicodedata

from rich.style import Style
from rich.text import Text

# C0 controls other than TAB and LF, DEL, and the C1 range.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")
# Line and paragraph separators and other vertical breaks that would move the cursor.
_VERTICAL = re.compile(r"[\u2028\u2029\x85]")


# Unicode's invisible format characters (category Cf): bidi controls, zero-width spaces and
# joiners, BOM, invisible operators, interlinear annotation, tags. The Cf characters drawn as
# marks (Arabic number signs, Egyptian hieroglyph controls) are left to their scripts.
INVISIBLE = (
    (0x00AD, 0x00AD),
    (0x061C, 0x061C),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)
_FORMAT = re.compile(
    "[" + "".join(f"{re.escape(chr(first))}-{re.escape(chr(last))}" for first, last in INVISIBLE) + "]"
)
_FORMAT_NAMES = {
    0x202A: "LRE",
    0x202B: "RLE",
    0x202C: "PDF",
    0x202D: "LRO",
    0x202E: "RLO",
    0x2066: "LRI",
    0x2067: "RLI",
    0x2068: "FSI",
    0x2069: "PDI",
    0x200E: "LRM",
    0x200F: "RLM",
    0x061C: "ALM",
    0x200B: "ZWSP",
    0x200C: "ZWNJ",
    0x200D: "ZWJ",
    0x2060: "WJ",
    0xFEFF: "BOM",
    0x00AD: "SHY",
}
_JOINERS = (0x200C, 0x200D)
_FLAG = 0x1F3F4  # 🏴, which tag characters turn into a subdivision's flag


def _joins(text: str, index: int) -> bool:
    """True when the joiner at `index` joins two non-ASCII letters, marks or symbols (an emoji
    family, Persian's half-space), where it is part of the writing, not a hiding place."""
    if index == 0 or index + 1 >= len(text):
        return False
    before, after = text[index - 1], text[index + 1]
    return all(ord(ch) > 0x7F and unicodedata.category(ch)[0] in "LMS" for ch in (before, after))


def _in_flag(text: str, index: int) -> bool:
    """True for a tag character in a run of them that follows 🏴 (England's, Scotland's flags)."""
    start = index
    while start > 0 and 0xE0020 <= ord(text[start - 1]) <= 0xE007F:
        start -= 1
    return start > 0 and ord(text[start - 1]) == _FLAG


def _named(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        code = ord(match.group())
        index = match.start()
        if code in _JOINERS and _joins(text, index):
            return match.group()
        if 0xE0020 <= code <= 0xE007F and _in_flag(text, index):
            return match.group()
        return f"⟨{_FORMAT_NAMES.get(code, f'U+{code:04X}')}⟩"

    return _FORMAT.sub(replace, text)


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # Control Pictures block: ␀ ␁ ... ␛ ... ␟
    if code == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"


def clean(value: str | None, *, single_line: bool = False) -> str:
    """`value` with every terminal-active character replaced by a visible stand-in."""
    if not value:
        return ""
    text = _VERTICAL.sub("\n", value)
    text = _CONTROL.sub(_picture, text.replace("\t", "    "))
    if _FORMAT.search(text):
        text = _named(text)
    if single_line:
        text = text.replace("\n", " ⏎ ")
    return text


def literal(value: str | None, style: str | Style = "", *, single_line: bool = False) -> Text:
    """A `Text` showing `value` exactly as typed (see the module docstring); long words fold."""
    return Text(clean(value, single_line=single_line), style=style, overflow="fold", no_wrap=False)


def one_line(value: str | None, style: str | Style = "", *, width: int | None = None) -> Text:
    """`value` on one line, cut with an ellipsis at `width` cells when given."""
    text = Text(clean(value, single_line=True), style=style, no_wrap=True, overflow="ellipsis")
    if width is not None:
        text.truncate(width, overflow="ellipsis")
    return text


def is_safe(rendered: str) -> bool:
    """True when `rendered` holds no character a terminal would act on (used by the tests)."""
    return _CONTROL.search(rendered) is None and _VERTICAL.search(rendered) is None
