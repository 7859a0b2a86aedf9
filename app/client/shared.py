"""`SharedTripClient`: reads a trip through a share token, without an API key.

    async with SharedTripClient(token, base_url="http://127.0.0.1:8000/api/v1") as shared:
        trip = await shared.get_trip()
        snapshot = await shared.export_trip()

The service serves only an allowlist of safe fields here (no door codes, wifi passwords,
confirmation numbers, member emails or phones, no messages). A revoked token raises
`NotFoundError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

from app.client.client import BaseClient
from app.client.http import DEFAULT_TIMEOUT
from app.client.wire import segment

if TYPE_CHECKING:  # imported where used: they load on first use (see app/domain/__init__.py)
    from app.domain.bulk import SharedExport, SharedTrip


class SharedTripClient(BaseClient):
    """`token` is the share token, or the share URL the service returned with it (then the API
    root is taken from that URL unless `base_url` says otherwise)."""

    def __init__(
        self,
        token: str,
        *,
        base_url: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = 3,
        deadline: float | None = 60.0,
    ) -> None:
        self.token, url_root = split_share_url(token)
        super().__init__(
            base_url=base_url or url_root,
            headers={},
            transport=transport,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
        )

    async def get_trip(self) -> SharedTrip:
        """The trip's title, dates, status and revision."""
        from app.domain.bulk import SharedTrip

        return await self._get(SharedTrip, f"/shared/trips/{segment(self.token)}")

    async def export_trip(self) -> SharedExport:
        """The safe projection of the whole trip, the shape of `TripClient.export_trip`."""
        from app.domain.bulk import SharedExport

        return await self._get(SharedExport, f"/shared/trips/{segment(self.token)}/export")


SHARED_PATH = "/shared/trips/"


def split_share_url(value: str) -> tuple[str, str | None]:
    """(token, API root or None) from a bare token or a share URL
    (`http://host/api/v1/shared/trips/<token>`, with or without `/export`)."""
    value = value.strip()
    root = None
    if "://" in value:
        parts = urlsplit(value)
        path = parts.path.rstrip("/")
        if path.endswith("/export"):
            path = path[: -len("/export")]
        if SHARED_PATH not in path + "/":
            raise ValueError(f"not a share URL: {value!r}")
        prefix, _, value = path.rpartition(SHARED_PATH)
        root = f"{parts.scheme}://{parts.netloc}{prefix}"
    if not value or "/" in value:
        raise ValueError(f"not a share token: {value!r}")
    return value, root
