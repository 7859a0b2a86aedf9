"""Server settings, set by `trip serve` flags or the environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from platformdirs import user_data_dir

from app.settings import environment


def default_database_url() -> str:
    if url := environment().database_url:
        return url
    return str(Path(user_data_dir("tripdeck")) / "tripdeck.db")


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=default_database_url)
    rate_limit: int = 60
    """Requests per minute per API key (and per share token)."""
    failed_auth_limit: int = 30
    """Failed attempts (401 answers, share tokens that open nothing) per minute per client address;
    over it, the address gets 429 until the minute ends."""
    trusted_proxies: tuple[str, ...] = ()
    """Addresses or networks of reverse proxies whose X-Forwarded-For is believed."""
    public_url: str | None = None
    """Base URL used in share links; defaults to the URL the request came in on."""
    migrate: bool = True
