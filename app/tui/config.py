"""Where `trip ui` finds the service: flags, then environment, then a config file that the
first-run screen writes (0600, in the user's config dir, because it holds an API key)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from platformdirs import user_config_dir, user_data_dir

from app.files import open_private
from app.settings import environment


def config_path() -> Path:
    if override := environment().config_file:
        return Path(override)
    return Path(user_config_dir("tripdeck")) / "config.json"


def data_file(env: str, name: str) -> Path:
    """The file `$env` names, else `name` in the user's data directory (the outbox, the log)."""
    if override := environment().file(env):
        return Path(override)
    return Path(user_data_dir("tripdeck")) / name


@dataclass
class Config:
    url: str | None = None
    key: str | None = None
    keymap: dict[str, str] = field(default_factory=dict)
    """Binding id -> keys, e.g. {"trip.pane_chat": "c,5"}; see the help screen for the ids."""
    timezone: str | None = None
    """The viewer's IANA zone ("Europe/Zurich"): times are also shown on its clock when theirs
    differs. None: the system's (see app/tui/clock.py)."""

    @property
    def complete(self) -> bool:
        return bool(self.url and self.key)


def load(path: Path | None = None) -> Config:
    path = path or config_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Config()
    if not isinstance(data, dict):
        return Config()
    keymap = data.get("keymap")
    return Config(
        url=data.get("url") if isinstance(data.get("url"), str) else None,
        key=data.get("key") if isinstance(data.get("key"), str) else None,
        keymap={str(k): str(v) for k, v in keymap.items()} if isinstance(keymap, dict) else {},
        timezone=data.get("timezone") if isinstance(data.get("timezone"), str) else None,
    )


def save(config: Config, path: Path | None = None) -> Path:
    """Write `config` readable by its owner only: created 0600, never world-readable in between."""
    path = path or config_path()
    fields = {"url": config.url, "key": config.key, "keymap": config.keymap}
    if config.timezone:
        fields["timezone"] = config.timezone
    body = json.dumps(fields, indent=2)
    temporary = path.with_suffix(".tmp")
    descriptor = open_private(temporary, os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(descriptor, body.encode("utf-8"))
    finally:
        os.close(descriptor)
    os.replace(temporary, path)
    return path


def url_problem(url: str) -> str | None:
    """What is wrong with `url` as the service's address, in words, or None when it is one."""
    from app.client.client import resolve_base_url

    try:
        resolve_base_url(url)
    except ValueError:
        return (
            f"{url!r} is not a service URL: it must start with http:// or https://, "
            "such as http://127.0.0.1:8000/api/v1"
        )
    return None


def resolve(url: str | None, key: str | None, path: Path | None = None) -> Config:
    """Flags win over the environment, which wins over the config file."""
    saved = load(path)
    env = environment()
    return Config(
        url=url or env.api_url or saved.url,
        key=key or env.api_key or saved.key,
        keymap=saved.keymap,
        timezone=saved.timezone,
    )
