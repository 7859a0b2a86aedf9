"""Which of our extensions the screens offer on this service: all of them on ours; on a service
of the seed's API only (no changes feed), only those it is known to have. And why the others are
not offered, for the help screen."""

from __future__ import annotations

from app.client import TripClient
from app.client.capabilities import FEATURES, unsupported

OFFERED_ELSEWHERE = ("activity", "member_writes", "share_links", "channel_writes", "ssh_keys")
"""The features behind keys and commands (the feed, itinerary and ops have fallbacks instead)."""


def offered(client: TripClient | None, feature: str) -> bool:
    """False when the service lacks `feature`, or may lack it (not probed yet) and has shown that
    it is not ours (it has no changes feed)."""
    if client is None:
        return True
    known = client.supports(feature)
    if known is None:
        return client.supports("changes") is not False
    return known


KEYS = {
    "activity": "a u",
    "member_writes": "m",
    "share_links": "m s",
    "channel_writes": "C",
    "ssh_keys": "ctrl+p",
}
"""Where each feature would be: the keys (or the palette) that are not offered."""


def not_offered(client: TripClient | None) -> list[tuple[str, str]]:
    """(keys, 'this service does not support ...') for each feature not offered, for the help."""
    return [
        (KEYS[feature], unsupported(feature))
        for feature in FEATURES
        if feature in OFFERED_ELSEWHERE and not offered(client, feature)
    ]
