"""Fault injection for crash tests: with `TRIP_TEST_CRASH_AT=<point>` in its environment, the
server kills itself (SIGKILL, no clean-up) when it reaches that point. Only tests set it."""

from __future__ import annotations

import os
import signal

from app.settings import environment

CRASH_AT = environment().test_crash_at
"""Read once, at import, as the server starts: the point is per server process, not per request."""

ANSWER_READY = "answer-ready"
"""A claimed write's answer is complete; it is not yet recorded (nor committed) nor sent."""
ANSWER_RECORDED = "answer-recorded"
"""A claimed write's answer is committed with its writes, and not yet sent."""


def crash_point(name: str) -> None:
    if CRASH_AT == name:
        os.kill(os.getpid(), signal.SIGKILL)
