"""Server settings, set by `trip serve` flags or the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from platformdirs import user_data_dir


def default_database_url() -> str:
    if url := os.environ.get("TRIP_DATABASE_URL"):
        return url
    return str(Path(user_data_dir("tripdeck")) / "tripdeck.db")


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=default_database_url)
    rate_limit: int = 60
    """Requests per minute per API key (and per share token)."""
    public_url: str | None = None
    """Base URL used in share links; defaults to the URL the request came in on."""
    migrate: bool = True
