"""A canvas of Unicode braille cells: each terminal cell holds 2x4 dots, so a 40x12 pane
draws 80x48 points. Used by the map pane to draw routes at a higher resolution than text."""

from __future__ import annotations

# Bit of each dot in a braille cell, indexed [y][x] within the cell (Unicode braille order).
_DOT_BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))
BRAILLE_BASE = 0x2800


class BrailleCanvas:
    def __init__(self, columns: int, rows: int) -> None:
        self.columns = max(columns, 0)
        self.rows = max(rows, 0)
        self._bits = [[0] * self.columns for _ in range(self.rows)]

    @property
    def width(self) -> int:
        """Width in dots."""
        return self.columns * 2

    @property
    def height(self) -> int:
        """Height in dots."""
        return self.rows * 4

    def set(self, x: int, y: int) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            self._bits[y // 4][x // 2] |= _DOT_BITS[y % 4][x % 2]

    def line(self, x0: int, y0: int, x1: int, y1: int, *, dotted: int = 0) -> None:
        """Bresenham's line; with `dotted`=n only every n-th point is set."""
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        step_x = 1 if x0 < x1 else -1
        step_y = 1 if y0 < y1 else -1
        error = dx + dy
        count = 0
        while True:
            if not dotted or count % dotted == 0:
                self.set(x0, y0)
            count += 1
            if x0 == x1 and y0 == y1:
                return
            double = 2 * error
            if double >= dy:
                error += dy
                x0 += step_x
            if double <= dx:
                error += dx
                y0 += step_y

    def cell(self, column: int, row: int) -> str:
        """The character of one cell ("" outside the canvas); a blank cell is a space."""
        if not (0 <= row < self.rows and 0 <= column < self.columns):
            return ""
        bits = self._bits[row][column]
        return chr(BRAILLE_BASE + bits) if bits else " "

    def lines(self) -> list[str]:
        return ["".join(self.cell(column, row) for column in range(self.columns)) for row in range(self.rows)]
