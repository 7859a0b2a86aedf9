"""`SharedTripClient`: reads a trip through a share token, without an API key.

    async with SharedTripClient(token) as shared:
        snapshot = await shared.export()

The service serves only an allowlist of safe fields here (no door codes, wifi passwords,
confirmation numbers, member emails or phones, no messages). A revoked token raises
`NotFoundError`.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from app.client.client import BaseClient
from app.client.http import DEFAULT_TIMEOUT
from app.client.wire import segment
from app.domain import TripExport


class SharedTripClient(BaseClient):
    """`token` is the share token (or the share URL the service returned with it)."""

    def __init__(
        self,
        token: str,
        *,
        base_url: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = 3,
        deadline: float | None = 60.0,
    ) -> None:
        self.token = token_from(token)
        super().__init__(
            base_url=base_url, headers={}, transport=transport, timeout=timeout, max_retries=max_retries,
            deadline=deadline,
        )

    async def export(self) -> TripExport:
        """The safe projection of the whole trip, the same shape as `TripClient.export_trip`."""
        return await self._get(TripExport, f"/shared/trips/{segment(self.token)}/export")


def token_from(value: str) -> str:
    """A bare token, or the last path segment of a share URL (`.../shared/trips/<token>`)."""
    value = value.strip()
    if "/" in value:
        path = urlsplit(value).path.rstrip("/")
        if path.endswith("/export"):
            path = path[: -len("/export")]
        value = path.rsplit("/", 1)[-1]
    if not value:
        raise ValueError("empty share token")
    return value
