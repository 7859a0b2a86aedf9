"""`trip mcp` started by the mcp SDK's own stdio client, against the session's `trip serve`."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mcp import ClientSession, StdioServerParameters, stdio_client

from tests.cli_server import ROOT, api_server, child_env  # noqa: F401  (api_server is a fixture)


def mcp_parameters(url: str, key: str, *args: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "app.cli", "mcp", *args],
        env=child_env(TRIP_API_URL=url, TRIP_API_KEY=key),
        cwd=ROOT,
    )


@asynccontextmanager
async def mcp_session(url: str, key: str) -> AsyncIterator[ClientSession]:
    """`trip mcp` as a subprocess, driven over stdio by the SDK's client."""
    async with stdio_client(mcp_parameters(url, key)) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            yield session
