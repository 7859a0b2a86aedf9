"""`HangingRow`: a fixed-width prefix (a time, a checkbox) and a body that wraps under itself.
Cheaper to measure and draw than a `rich.table.Table`, which matters for long chat histories."""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.text import Text


class HangingRow:
    def __init__(self, prefix: Text, body: Text, *, prefix_width: int, background: str | None = None) -> None:
        self.prefix = prefix
        self.body = body
        self.prefix_width = prefix_width
        self.background = background

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(options.max_width, self.prefix_width + 4)
        lines = self.body.wrap(console, width - self.prefix_width, overflow="fold")
        head = self.prefix.copy()
        head.truncate(self.prefix_width, overflow="ellipsis", pad=True)
        indent = Text(" " * self.prefix_width)
        for index, line in enumerate(lines or [Text()]):
            row = Text.assemble(head if index == 0 else indent, line, no_wrap=True, end="\n")
            if self.background:
                row.pad_right(width - row.cell_len)
                row.stylize(f"on {self.background}")
            yield row

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(self.prefix_width + 4, options.max_width)
