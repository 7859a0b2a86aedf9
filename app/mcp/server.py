"""`trip mcp`: the trip API as an MCP server (official `mcp` SDK), over stdio or streamable HTTP.

The server holds one `TripClient` (TRIP_API_URL / TRIP_API_KEY) for its whole life and talks to
the service only through it. Tools live in `app.mcp.tools`; resources are below.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Literal

from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp.types import INTERNAL_ERROR, INVALID_PARAMS

from app.client import NotFoundError, TripClient
from app.mcp.results import EXPECTED, error_body, summary_line, to_json_text, wire
from app.mcp.tools import TripTools

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
"""The levels the MCP SDK's logging takes."""

INSTRUCTIONS = """\
Tripdeck: plan a trip together. Start with `me` and `list_trips`; `create_trip` makes a new one.
A trip has legs (where the group is when, with stays, flights and rental cars), map pins, a
checklist (action items), commitments (dinners, activities...) and chat channels.
For "what is happening when" read the resource trip://{trip_id}/summary (conflicts included) or
call get_itinerary; trip://{trip_id}/export holds every detail of a trip in one read.
Failed calls answer isError with {"error": {"status", "code", "message", "requestId", "details"}};
`details` names each wrong field. Pass the same idempotency_key when retrying a write."""


class ClientHolder:
    """The `TripClient` of a running server: opened by the lifespan, closed when it ends."""

    def __init__(self, make_client: Callable[[], TripClient]) -> None:
        self._make_client = make_client
        self._client: TripClient | None = None

    def __call__(self) -> TripClient:
        if self._client is None:
            raise RuntimeError("the MCP server is not running (its lifespan opens the API client)")
        return self._client

    @asynccontextmanager
    async def lifespan(self, _server: MCPServer) -> AsyncIterator[dict]:
        self._client = self._make_client()
        try:
            yield {}
        finally:
            client, self._client = self._client, None
            await client.aclose()


def build_server(
    make_client: Callable[[], TripClient] = TripClient, *, log_level: LogLevel = "WARNING"
) -> MCPServer:
    """The MCP server with every tool and resource. `make_client` opens the API client when the
    server starts (default: `TripClient()` from TRIP_API_URL / TRIP_API_KEY)."""
    holder = ClientHolder(make_client)
    server = MCPServer(
        "tripdeck",
        title="Tripdeck",
        description="Plan trips together through the Tripdeck API.",
        instructions=INSTRUCTIONS,
        version="0.1.0",
        lifespan=holder.lifespan,
        log_level=log_level,  # the SDK logs to stderr; stdout belongs to the protocol
    )
    TripTools(holder).register(server)
    register_resources(server, holder)
    return server


def register_resources(server: MCPServer, client: Callable[[], TripClient]) -> None:
    @server.resource(
        "trip://{trip_id}/export",
        name="trip-export",
        title="Trip export",
        description="The whole trip as JSON: trip, legs with stays/flights/rental cars, map pins, "
        "action items, commitments and members (the API's GET /trips/{tripId}/export).",
        mime_type="application/json",
    )
    async def trip_export(trip_id: str) -> str:
        return await read(lambda: client().export_trip(trip_id))

    @server.resource(
        "trip://{trip_id}/summary",
        name="trip-summary",
        title="Itinerary summary",
        description="The itinerary in brief with its conflicts (overlapping commitments or legs, events "
        "outside the trip or their leg, nights without a stay, impossible transfers), events by type, "
        "map bounds and compact events.",
        mime_type="application/json",
    )
    async def trip_summary(trip_id: str) -> str:
        return await read(lambda: client().get_itinerary_summary(trip_id))

    @server.resource(
        "trip://{trip_id}/itinerary",
        name="trip-itinerary",
        title="Itinerary",
        description="Every event of the trip in date and time order: commitments, flights, "
        "accommodation check-ins and rental-car pickups.",
        mime_type="application/json",
    )
    async def trip_itinerary(trip_id: str) -> str:
        return await read(lambda: client().get_itinerary(trip_id))


async def read(fetch) -> str:
    """A resource's JSON text; an API failure becomes a protocol error whose `data` is the same
    `{"error": {...}}` a tool error carries."""
    try:
        return to_json_text(wire(await fetch()))
    except EXPECTED as exc:
        error = error_body(exc)
        code = INVALID_PARAMS if isinstance(exc, NotFoundError) else INTERNAL_ERROR
        raise MCPError(code=code, message=summary_line(error), data={"error": error}) from None


def run(*, http: bool = False, host: str = "127.0.0.1", port: int = 8765, path: str = "/mcp") -> None:
    """Serve until the client goes away (stdio) or until interrupted (HTTP)."""
    server = build_server()
    if http:
        server.run("streamable-http", host=host, port=port, streamable_http_path=path)
    else:
        server.run("stdio")
