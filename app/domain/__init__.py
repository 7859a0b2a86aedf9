"""The contract's data: pydantic models shared by the server, the SDK, the TUI and MCP.

`from app.domain import Trip` works for every model of `models`, `itinerary` and `bulk`; each
module loads on the first use of one of its names (PEP 562), so that a client process (`trip ui`
opening a trip) does not build the batch, sync, export and share models it has no use for at
start-up.

Imports nothing else of `app`."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_MODULES = ("models", "itinerary", "activity", "bulk")
"""Searched in this order; `bulk` last, as it is the one a client seldom needs."""

if TYPE_CHECKING:
    from app.domain.activity import *  # noqa: F403
    from app.domain.bulk import *  # noqa: F403
    from app.domain.itinerary import *  # noqa: F403
    from app.domain.models import *  # noqa: F403


def __getattr__(name: str) -> Any:
    if name.startswith("__") or name in _MODULES or name == "fields":
        raise AttributeError(name)  # a submodule: the import system loads it
    for module_name in _MODULES:
        module = importlib.import_module(f"app.domain.{module_name}")
        if not name.startswith("_") and hasattr(module, name):
            value = getattr(module, name)
            globals()[name] = value
            return value
    raise AttributeError(f"module 'app.domain' has no attribute {name!r}")
