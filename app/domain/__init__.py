"""The contract's data: pydantic models shared by the server, the SDK, the TUI and MCP.

Imports nothing else of `app`."""

from app.domain.bulk import *  # noqa: F403
from app.domain.itinerary import *  # noqa: F403
from app.domain.models import *  # noqa: F403
