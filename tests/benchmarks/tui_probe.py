"""Run by the TUI benchmark in a fresh process: opens a trip (or a bare Textual app) headless and
prints, as JSON, seconds from the parent's spawn time to a populated screen and the peak RSS.

    python tests/benchmarks/tui_probe.py SPAWN_TIME WIDTHxHEIGHT bare
    python tests/benchmarks/tui_probe.py SPAWN_TIME WIDTHxHEIGHT trip URL KEY TRIP_ID
"""

from __future__ import annotations

import json
import resource
import sys
import time

SIZE = (160, 48)  # replaced by the command line's WIDTHxHEIGHT


def peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM: unlike ru_maxrss, not inherited from the forking parent)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """This process's CPU time so far (user + system): less sensitive than wall time to other
    processes competing for the cores."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def bare(spawned: float) -> dict:
    from textual.app import App
    from textual.widgets import Static

    class Bare(App):
        def compose(self):
            yield Static("hello")

    result: dict = {}

    async def pilot(pilot) -> None:
        await pilot.pause()
        result["ready"] = time.time() - spawned
        result["cpu"] = cpu_seconds()
        pilot.app.exit()

    Bare().run(headless=True, size=SIZE, auto_pilot=pilot)
    return result


def imports(spawned: float) -> dict:
    """Only the imports of `trip ui` (Textual, the SDK with httpx and the pydantic models, the TUI)."""
    import app.tui.app  # noqa: F401

    return {"ready": time.time() - spawned, "cpu": cpu_seconds()}


def trip(spawned: float, url: str, key: str, trip_id: str) -> dict:
    from app.tui import startup

    startup.hold_collector()  # as `trip ui` does (app/cli.py), before the TUI's imports
    from app.tui.app import TripdeckApp
    from app.tui.screens.trip import TripScreen
    from app.tui.widgets.channel_chat import ChannelChat

    app = TripdeckApp(url=url, key=key, trip_id=trip_id, cursor_blink=False)
    result: dict = {}

    def populated() -> bool:
        screen = app.screen
        if not isinstance(screen, TripScreen) or screen.data is None:
            return False
        state = screen.query_one(ChannelChat).active_state()
        return state is not None and state.loaded

    async def pilot(pilot) -> None:
        deadline = time.monotonic() + 120
        while not populated():
            if time.monotonic() > deadline:
                raise TimeoutError("the trip screen was not populated in 120 s")
            await pilot.pause(0.005)
        await pilot.pause()
        result["ready"] = time.time() - spawned
        result["cpu"] = cpu_seconds()
        data = app.screen.data
        result["rows"] = {
            "legs": len(data.legs.items),
            "pins": len(data.pins.items),
            "commitments": len(data.commitments.items),
            "messages": sum(len(p.items) for p in data.messages.values()),
        }
        app.exit()

    app.run(headless=True, size=SIZE, auto_pilot=pilot)
    return result


if __name__ == "__main__":
    spawned = float(sys.argv[1])
    SIZE = tuple(int(n) for n in sys.argv[2].split("x"))  # type: ignore[assignment]
    mode = sys.argv[3]
    outcome = (
        bare(spawned)
        if mode == "bare"
        else imports(spawned)
        if mode == "imports"
        else trip(spawned, *sys.argv[4:7])
    )
    outcome["rss_mb"] = peak_rss_mb()
    print(json.dumps(outcome))
