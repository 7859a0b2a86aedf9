"""Fewer bytes to the terminal for the same screen: what a reader on a slow link (SSH from a phone)
pays for every repaint.

Textual writes each run of text of a frame as "set the whole style, the text, reset"
(`\x1b[38;5;244;48;5;233m06:41 \x1b[0m`), and puts the cursor at the start of each widget's part
of a line even where the text before left it there. `compact` rewrites a frame so that a style
is sent only as the change from the style in force, and a cursor move only when the cursor is
not already there; the screen it draws is the same (tests/tui/test_terminal.py draws both in a
terminal emulator). `compacting` makes a Textual driver that writes compacted frames.
"""

from __future__ import annotations

import functools
import re

from textual.driver import Driver

_TOKEN = re.compile(
    r"\x1b\[([0-9;]*)m"  # 1: select graphic rendition (a style)
    r"|\x1b\[(\d+);(\d+)H"  # 2, 3: move the cursor to row;column
    r"|(\x1b\[\??[0-9;]*[hl])"  # 4: set or reset a mode (sync output, cursor shown): keeps the style
    r"|(\x1b[^\[]|\x1b\[[^A-Za-z]*[A-Za-z]|\x1b)"  # 5: any other escape: style and place unknown after it
    r"|([^\x1b]+)"  # 6: text
)
_PLAIN = re.compile(r"[\x20-\x7e\u2500-\u259f]*")
"""Characters every terminal advances one cell for: after them the cursor's column is known."""

# Attribute codes and the code that turns each off (22 turns off both bold and faint).
_OFF = {1: 22, 2: 22, 3: 23, 4: 24, 5: 25, 6: 25, 7: 27, 8: 28, 9: 29, 21: 24, 51: 54, 52: 54, 53: 55}


class Style:
    """The attributes and colours an SGR sequence leaves in force (None: unknown codes)."""

    __slots__ = ("attributes", "background", "foreground")

    def __init__(
        self,
        attributes: frozenset[int] = frozenset(),
        foreground: str | None = None,
        background: str | None = None,
    ) -> None:
        self.attributes = attributes
        self.foreground = foreground
        self.background = background

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Style)
            and self.attributes == other.attributes
            and self.foreground == other.foreground
            and self.background == other.background
        )

    def __hash__(self) -> int:
        return hash((self.attributes, self.foreground, self.background))

    def apply(self, parameters: str) -> Style | None:
        """This style with the SGR `parameters` applied (None for codes not modelled)."""
        return _applied(self, parameters)

    def _apply(self, parameters: str) -> Style | None:
        codes = parameters.split(";") if parameters else ["0"]
        attributes, foreground, background = set(self.attributes), self.foreground, self.background
        index = 0
        while index < len(codes):
            try:
                code = int(codes[index] or "0")
            except ValueError:
                return None
            if code == 0:
                attributes, foreground, background = set(), None, None
            elif code in _OFF:
                attributes.add(code)
            elif code in (22, 23, 24, 25, 27, 28, 29, 54, 55):
                attributes -= {attribute for attribute, off in _OFF.items() if off == code}
            elif 30 <= code <= 37 or 90 <= code <= 97:
                foreground = str(code)
            elif 40 <= code <= 47 or 100 <= code <= 107:
                background = str(code)
            elif code == 39:
                foreground = None
            elif code == 49:
                background = None
            elif code in (38, 48):
                length = {"5": 3, "2": 5}.get(codes[index + 1] if index + 1 < len(codes) else "")
                if length is None or index + length > len(codes):
                    return None
                colour = ";".join(codes[index : index + length])
                if code == 38:
                    foreground = colour
                else:
                    background = colour
                index += length - 1
            else:
                return None
            index += 1
        return Style(frozenset(attributes), foreground, background)

    def change_to(self, target: Style) -> str:
        """The shortest SGR sequence we know from this style to `target`."""
        return _change(self, target)

    def _change_to(self, target: Style) -> str:
        codes: list[str] = []
        removed = self.attributes - target.attributes
        if removed:
            offs = {_OFF[attribute] for attribute in removed}
            codes += [str(off) for off in sorted(offs)]
            # An off code may turn off an attribute the target keeps (22: bold and faint).
            kept = {attribute for attribute in target.attributes & self.attributes if _OFF[attribute] in offs}
        else:
            kept = set()
        codes += [str(attribute) for attribute in sorted((target.attributes - self.attributes) | kept)]
        if target.foreground != self.foreground:
            codes.append(target.foreground or "39")
        if target.background != self.background:
            codes.append(target.background or "49")
        full = "0;" + ";".join(_codes(target)) if _codes(target) else "0"
        short = ";".join(codes)
        return f"\x1b[{short if len(short) <= len(full) else full}m"


# A screen uses a few dozen styles: each parse and each change between two is worked out once.
@functools.lru_cache(maxsize=4096)
def _applied(style: Style, parameters: str) -> Style | None:
    return style._apply(parameters)


@functools.lru_cache(maxsize=4096)
def _change(shown: Style, target: Style) -> str:
    return shown._change_to(target)


def _codes(style: Style) -> list[str]:
    codes = [str(attribute) for attribute in sorted(style.attributes)]
    if style.foreground:
        codes.append(style.foreground)
    if style.background:
        codes.append(style.background)
    return codes


DEFAULT = Style()


def compact(data: str) -> str:
    """`data` as it draws, in fewer bytes. Assumes (as Textual leaves it) the default style in
    force before, and leaves it so after."""
    if "\x1b[" not in data:
        return data
    out: list[str] = []
    shown: Style | None = DEFAULT
    """The style in force on the terminal (None: unknown)."""
    wanted: Style | None = DEFAULT
    """The style the next text is to have (None: codes we do not model, sent as they came)."""
    cursor: tuple[int, int] | None = None
    """Where the cursor is, when known."""
    move: tuple[int, int] | None = None
    """A move not sent yet: only the last of several matters, and none if the cursor is there."""
    newline = False
    """A line feed not sent yet: none is needed before a move."""

    def place() -> None:
        nonlocal move, cursor, newline
        if move is not None and move != cursor:
            out.append(f"\x1b[{move[0]};{move[1]}H")
            cursor = move
        move = None
        if newline:
            out.append("\n")
            newline = False
            cursor = None

    def restyle() -> None:
        nonlocal shown
        if wanted is not None and shown != wanted:
            out.append(
                shown.change_to(wanted) if shown is not None else f"\x1b[{';'.join(['0', *_codes(wanted)])}m"
            )
            shown = wanted

    for match in _TOKEN.finditer(data):
        parameters, row, column, mode, other, text = match.groups()
        if parameters is not None:
            if parameters in ("", "0"):
                wanted = DEFAULT
            elif wanted is not None and (applied := wanted.apply(parameters)) is not None:
                wanted = applied
            else:  # not modelled: send it as it came, on top of the style it was meant for
                restyle()
                out.append(match.group(0))
                shown = wanted = None
        elif row is not None:
            move = (int(row), int(column))
            newline = False  # a move to a place makes the line feed and any move before it moot
        elif mode is not None:
            out.append(mode)
        elif other is not None:
            place()
            out.append(other)
            cursor = None
            shown = None  # it may have changed the style (a reset of the terminal, say)
        elif text == "\n" and not newline:
            newline = True  # sent (after the move before it) only if no move comes next
        else:
            place()
            restyle()
            out.append(text)
            cursor = (
                (cursor[0], cursor[1] + len(text)) if cursor is not None and _PLAIN.fullmatch(text) else None
            )
    place()
    if shown != DEFAULT:
        out.append("\x1b[0m")
    return "".join(out)


def compacting(driver_class: type[Driver]) -> type[Driver]:
    """`driver_class` writing each frame compacted (see `compact`)."""

    class Compacting(driver_class):  # type: ignore[valid-type, misc]
        def write(self, data: str) -> None:
            super().write(compact(data))

    Compacting.__name__ = f"Compacting{driver_class.__name__}"
    return Compacting
