"""The MCP server (`trip mcp`): every capability of the trip API as MCP tools and resources,
for AI agents. Talks to the service only through `app.client`.

    from app.mcp import build_server
    build_server().run("stdio")          # TRIP_API_URL, TRIP_API_KEY
"""

from app.mcp.server import build_server, run

__all__ = ["build_server", "run"]
