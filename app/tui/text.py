"""Untrusted text made safe to show: every title, note, name and message goes through here.

Text from the service is shown literally. It becomes a `rich.text.Text` (never a markup string,
so `[bold]` stays `[bold]`), and characters that a terminal would act on instead of print are
replaced by visible stand-ins: ESC becomes `␛` (so an ANSI or OSC sequence is shown, not run),
other C0 controls become their Control Pictures (`␇`, `␍`...), C1 controls and DEL become `�`.
"""

from __future__ import annotations

import re

from rich.style import Style
from rich.text import Text

# C0 controls other than TAB and LF, DEL, and the C1 range.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")
# Line and paragraph separators and other vertical breaks that would move the cursor.
_VERTICAL = re.compile(r"[\u2028\u2029\x85]")


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
