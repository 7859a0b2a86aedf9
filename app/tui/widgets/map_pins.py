"""Pane 2: the trip's map pins as a list and as a drawn map (braille route lines between the
legs' stays, a dot per pin coloured by category, the highlighted pin marked and named)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from app.domain.itinerary import Bounds
from app.domain.models import Leg, MapPin
from app.tui import palette
from app.tui.formatting import counted
from app.tui.kinds import PINS
from app.tui.text import one_line
from app.tui.widgets.braille import BrailleCanvas
from app.tui.widgets.pane import OneLine, Pane, RowList


@dataclass(frozen=True)
class Projection:
    """Equirectangular projection of `bounds` into a canvas, keeping the map's proportions."""

    min_lat: float
    max_lat: float
    min_lng: float
    max_lng: float
    width: int
    height: int

    @classmethod
    def fit(cls, points: list[tuple[float, float]], width: int, height: int) -> Projection:
        lats = [lat for lat, _ in points] or [0.0]
        lngs = [lng for _, lng in points] or [0.0]
        min_lat, max_lat, min_lng, max_lng = min(lats), max(lats), min(lngs), max(lngs)
        # A margin so that pins on the edge are not drawn on the frame.
        pad_lat = max((max_lat - min_lat) * 0.08, 0.01)
        pad_lng = max((max_lng - min_lng) * 0.08, 0.01)
        min_lat, max_lat, min_lng, max_lng = (
            min_lat - pad_lat,
            max_lat + pad_lat,
            min_lng - pad_lng,
            max_lng + pad_lng,
        )
        # Braille dots are about square; a degree of longitude shrinks with cos(latitude).
        squeeze = max(math.cos(math.radians((min_lat + max_lat) / 2)), 0.05)
        span_x, span_y = (max_lng - min_lng) * squeeze, max_lat - min_lat
        if width > 0 and height > 0:
            if span_x / width > span_y / height:
                grow = (span_x * height / width - span_y) / 2
                min_lat, max_lat = min_lat - grow, max_lat + grow
            else:
                grow = (span_y * width / height - span_x) / 2 / squeeze
                min_lng, max_lng = min_lng - grow, max_lng + grow
        return cls(min_lat, max_lat, min_lng, max_lng, width, height)

    def zoomed(self, lat: float, lng: float, factor: float) -> Projection:
        """The same projection `factor` times closer, centred on (`lat`, `lng`)."""
        half_lat = (self.max_lat - self.min_lat) / 2 / factor
        half_lng = (self.max_lng - self.min_lng) / 2 / factor
        return Projection(
            lat - half_lat, lat + half_lat, lng - half_lng, lng + half_lng, self.width, self.height
        )

    def __call__(self, lat: float, lng: float) -> tuple[int, int]:
        x = (lng - self.min_lng) / ((self.max_lng - self.min_lng) or 1) * (self.width - 1)
        y = (self.max_lat - lat) / ((self.max_lat - self.min_lat) or 1) * (self.height - 1)
        return round(x), round(y)


"""The route and the empty land: grey dots under the pins."""


class BrailleMap(Widget):
    """The drawn map. It is redrawn for its size on every render, so it always fills the pane."""

    COMPONENT_CLASSES = {"braille-map--braille", "braille-map--label"}

    highlighted: reactive[str | None] = reactive(None)
    zoom: reactive[int] = reactive(1)
    """1 shows every pin; each step in doubles the scale around the highlighted pin."""

    def __init__(self, *, id: str | None = "braille-map") -> None:
        super().__init__(id=id)
        self.pins: list[MapPin] = []
        self.route: list[tuple[float, float]] = []
        self.categories: list[str] = []

    def show(self, pins: list[MapPin], route: list[tuple[float, float]], categories: list[str]) -> None:
        self.pins, self.route, self.categories = pins, route, categories
        self.refresh()

    def watch_highlighted(self) -> None:
        self.refresh()

    def watch_zoom(self) -> None:
        self.refresh()

    def render(self) -> Text:
        columns, rows = self.size.width, self.size.height
        if not self.pins or columns < 4 or rows < 2:
            return Text("No pins to draw." if not self.pins else "", style=palette.MUTED)
        braille = self.get_component_rich_style("braille-map--braille", partial=True)
        canvas = BrailleCanvas(columns, rows)
        points = [(pin.lat, pin.lng) for pin in self.pins] + self.route
        project = Projection.fit(points, canvas.width, canvas.height)
        chosen_pin = next((pin for pin in self.pins if pin.id == self.highlighted), None)
        if self.zoom > 1 and chosen_pin is not None:
            project = project.zoomed(chosen_pin.lat, chosen_pin.lng, self.zoom)
        for (lat0, lng0), (lat1, lng1) in zip(self.route, self.route[1:], strict=False):
            canvas.line(*project(lat0, lng0), *project(lat1, lng1), dotted=2)
        # Text cells drawn over the braille: a dot per pin, the highlighted one last and labelled.
        overlay: dict[tuple[int, int], tuple[str, str | Style]] = {}
        chosen: MapPin | None = None
        for pin in self.pins:
            x, y = project(pin.lat, pin.lng)
            if not (0 <= x < canvas.width and 0 <= y < canvas.height):
                continue
            cell = (x // 2, y // 4)
            colour = palette.category_colour(pin.category, self.categories)
            overlay[cell] = ("●", colour)
            if pin.id == self.highlighted:
                chosen = pin
        label_cells: dict[tuple[int, int], str] = {}
        if chosen is not None:
            x, y = project(chosen.lat, chosen.lng)
            column, row = x // 2, y // 4
            overlay[(column, row)] = ("◉", f"bold reverse {palette.TODAY}")
            name = one_line(chosen.name).plain[: max(columns // 2, 8)]
            label = f" {name} "
            start = column + 1 if column + 1 + len(label) <= columns else max(column - len(label), 0)
            for offset, char in enumerate(label):
                label_cells[(start + offset, row)] = char
        # Each row as runs of plain braille between the few cells drawn over it: a span per run,
        # not per cell (a 46x21 map was ~1,000 spans to style and cut into segments, 8 ms a draw).
        drawn_over: dict[int, dict[int, tuple[str, str | Style]]] = {}
        for (column, row), (char, style) in overlay.items():
            drawn_over.setdefault(row, {})[column] = (char, style)
        label_style = self.get_component_rich_style("braille-map--label", partial=True)
        for (column, row), char in label_cells.items():
            drawn_over.setdefault(row, {})[column] = (char, label_style)
        text = Text(no_wrap=True)
        for row, line in enumerate(canvas.lines()):
            start = 0
            for column, (char, style) in sorted(drawn_over.get(row, {}).items()):
                if not 0 <= column < columns:
                    continue
                text.append(line[start:column], style=braille)
                text.append(char, style=style)
                start = column + 1
            text.append(line[start:], style=braille)
            if row < rows - 1:
                text.append("\n")
        return text


class PinList(RowList):
    """The pins by name, with their category."""


class PinDetail(OneLine):
    """The highlighted pin: name, category, coordinates and notes, on one line."""

    def show(self, pin: MapPin | None, colour: str) -> None:
        if pin is None:
            self.update("")
            return
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("◉ ", style=f"bold {palette.TODAY}")
        text.append_text(one_line(pin.name, "bold"))
        if pin.category:
            text.append("  ")
            text.append_text(one_line(pin.category, colour))
        text.append(f"  {pin.lat:.4f}, {pin.lng:.4f}", style=palette.MUTED)
        if pin.notes:
            text.append("  ")
            text.append_text(one_line(pin.notes, "italic"))
        self.update(text)


class MapPins(Pane):
    number = PINS.pane
    title = "Map"

    BINDINGS = [
        Binding("plus,equals_sign", "zoom(2)", "Zoom in", id="map.zoom_in"),
        Binding("minus", "zoom(0.5)", "Zoom out", id="map.zoom_out"),
    ]

    def action_zoom(self, factor: float) -> None:
        braille = self.query_one(BrailleMap)
        braille.zoom = int(min(max(braille.zoom * factor, 1), 256))

    def __init__(self, *, id: str | None = "map", classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.pins: list[MapPin] = []
        self.categories: list[str] = []

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield PinList(id=PINS.list_id)
            yield BrailleMap()
        yield PinDetail(id="pin-detail")

    def show(self, pins: list[MapPin], legs: list[Leg], bounds: Bounds | None, *, more: bool) -> None:
        self.pins = pins
        for pin in pins:
            palette.category_colour(pin.category, self.categories)
        rows = []
        for pin in pins:
            colour = palette.category_colour(pin.category, self.categories)
            prompt = Text("● ", style=colour, no_wrap=True, overflow="ellipsis")
            prompt.append_text(one_line(pin.name))
            if pin.category:
                prompt.append("  ")
                prompt.append_text(one_line(pin.category, palette.MUTED))
            rows.append(Option(prompt, id=pin.id))
        if not rows:
            rows = [Option(Text("No pins yet.", style=palette.MUTED), disabled=True)]
        pin_list = self.query_one(PinList)
        pin_list.more_available = more
        pin_list.set_rows(rows)
        route = []
        for leg in legs:
            stay = leg.accommodation or (leg.stays[0] if leg.stays else None)
            if stay is not None and stay.lat is not None and stay.lng is not None:
                route.append((stay.lat, stay.lng))
        braille = self.query_one(BrailleMap)
        braille.show(pins, route, self.categories)
        braille.highlighted = pin_list.highlighted_option.id if pin_list.highlighted_option else None
        self._show_detail(braille.highlighted)
        subtitle = Text(counted(len(pins), "pin", more=more))
        for name in self.categories[:5]:
            subtitle.append("  ● ", style=palette.category_colour(name, self.categories))
            subtitle.append_text(one_line(name, width=12))
        self.border_subtitle = subtitle

    @on(OptionList.OptionHighlighted, "PinList")
    def _pin_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.query_one(BrailleMap).highlighted = event.option.id
        self._show_detail(event.option.id)

    def _show_detail(self, pin_id: str | None) -> None:
        pin = next((pin for pin in self.pins if pin.id == pin_id), None)
        colour = palette.category_colour(pin.category, self.categories) if pin else palette.MUTED
        self.query_one(PinDetail).show(pin, colour)
