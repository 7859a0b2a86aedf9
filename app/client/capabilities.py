"""What a service offers beyond the seed's API (the Osoto reference): our extensions, learned once
per client (one client, one service URL) from a probe or from a 404 on an extension's route.

    caps = await client.capabilities(trip_id)
    if not caps.changes:
        ...poll the seed's endpoints instead of following the changes feed

A service of the seed's API only answers 404 (or 405 where the seed has the same path with
another method) on our routes; ours answers those only for a trip or row that does not exist,
so a 404 counts as "not supported" once the trip is known to exist.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

FEATURES: dict[str, str] = {
    "changes": "the live changes feed",
    "itinerary": "the itinerary and its summary",
    "ops": "revision-checked operations (ops)",
    "activity": "the activity feed and undo",
    "member_writes": "adding, changing or removing members",
    "share_links": "share links",
    "channel_writes": "creating channels",
    "ssh_keys": "SSH keys",
}
"""Every extension the SDK knows, and how to say that a service lacks it."""

PATHS: dict[str, tuple[str, str]] = {
    "changes": ("get", "/trips/{tripId}/changes"),
    "itinerary": ("get", "/trips/{tripId}/itinerary/summary"),
    "ops": ("post", "/trips/{tripId}/ops"),
    "activity": ("get", "/trips/{tripId}/operations"),
    "member_writes": ("post", "/trips/{tripId}/members"),
    "share_links": ("post", "/trips/{tripId}/share-token"),
    "channel_writes": ("post", "/trips/{tripId}/channels"),
    "ssh_keys": ("get", "/me/ssh-keys"),
}
"""The route whose presence in an OpenAPI document says the service has the feature."""


def unsupported(feature: str) -> str:
    """'this service does not support the live changes feed'"""
    return f"this service does not support {FEATURES[feature]}"


@dataclass(frozen=True)
class Capabilities:
    """True: the service has it; False: it has not. `share_links` may be None (unknown) on a
    service that publishes no OpenAPI document: a probe of it would replace the trip's link."""

    changes: bool
    itinerary: bool
    ops: bool
    activity: bool
    member_writes: bool
    share_links: bool | None
    channel_writes: bool
    ssh_keys: bool

    @property
    def missing(self) -> list[str]:
        """The features the service is known not to have."""
        return [field.name for field in fields(self) if getattr(self, field.name) is False]

    @property
    def seed_only(self) -> bool:
        """None of our extensions that need a trip: a service of the seed's API alone."""
        return not (self.changes or self.itinerary or self.ops or self.activity)

    def explain(self) -> list[str]:
        """One sentence per missing feature, for a help screen or an agent."""
        return [unsupported(feature) for feature in self.missing]


def from_openapi(document: Any) -> dict[str, bool] | None:
    """The features an OpenAPI document lists (None: not an OpenAPI document with paths)."""
    if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
        return None
    paths = {_normalised(path): item for path, item in document["paths"].items() if isinstance(item, dict)}
    found = {}
    for feature, (method, path) in PATHS.items():
        item = paths.get(_normalised(path))
        found[feature] = item is not None and method in item
    return found


def _normalised(path: str) -> str:
    """'/api/v1/trips/{trip_id}/changes' -> '/trips/{}/changes' (the root and names vary)."""
    parts = path.split("/")
    if "trips" in parts or "me" in parts:
        first = min(parts.index(name) for name in ("trips", "me") if name in parts)
        parts = ["", *parts[first:]]
    return "/".join("{}" if part.startswith("{") else part for part in parts)


__all__ = ["FEATURES", "PATHS", "Capabilities", "from_openapi", "unsupported"]
