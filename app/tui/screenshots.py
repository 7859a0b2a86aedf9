"""Writes `screenshots/*.svg`: the trip screen at 160x48, each pane at 80x24, the item forms and
the members screen and the activity screen, from the fixed demo data. Run `python -m app.tui.screenshots [DIR]`."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from app.demo import frozen
from app.tui.app import TripdeckApp

SHOTS = [
    # file name, size, keys pressed first
    ("trip-screen-160x48", (160, 48), ["1"]),
    ("legs-80x24", (80, 24), ["1"]),
    ("map-80x24", (80, 24), ["2", "down", "down", "down", "down", "down", "down"]),
    ("checklist-80x24", (80, 24), ["3"]),
    ("agenda-80x24", (80, 24), ["4"]),
    ("chat-80x24", (80, 24), ["5"]),
    ("trip-screen-120x36", (120, 36), ["4"]),
    ("leg-form-80x24", (80, 24), ["1", "e"]),
    ("commitment-form-80x24", (80, 24), ["4", "e"]),
    ("pin-form-80x24", (80, 24), ["2", "n"]),
    ("checklist-item-form-80x24", (80, 24), ["3", "e"]),
    ("trip-form-80x24", (80, 24), ["E"]),
    ("members-80x24", (80, 24), ["m"]),
    ("activity-80x24", (80, 24), ["a", "down", "down", "enter"]),
]


def demo_app() -> TripdeckApp:
    return TripdeckApp(initial=frozen.trip_data(), clock=frozen.clock(), cursor_blink=False)


async def shoot(directory: Path, name: str, size: tuple[int, int], keys: list[str]) -> Path:
    app = demo_app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press(*keys)
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()
        svg = app.export_screenshot(title=f"Tripdeck · {name}")
    path = directory / f"{name}.svg"
    path.write_text(svg, encoding="utf-8")
    return path


async def main(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240  (once, before anything runs)
    for name, size, keys in SHOTS:
        print(await shoot(directory, name, size, keys))


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("screenshots")))
