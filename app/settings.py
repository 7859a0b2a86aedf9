"""Every environment variable of Tripdeck's own, in one place (platformdirs reads XDG_CONFIG_HOME
and XDG_DATA_HOME for the default directories): `environment()` reads them all into a
frozen `Environment` at the moment it is called, so a variable set or changed before a use (a test,
`trip ssh` starting a session's app) counts; nothing is read at import. Imports nothing of the
app, so every layer may use it. Flags, where there are any, win over these (their readers decide).

A plain dataclass, not pydantic-settings: no new dependency and nothing more to import at start-up
(`trip ui` is started often, and the SDK imports this), and nothing to validate: every value is a
string or absent, and each reader already checks what it is given (a URL, a zone, a path)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

API_URL = "TRIP_API_URL"
API_KEY = "TRIP_API_KEY"
SHARE_TOKEN = "TRIP_SHARE_TOKEN"
DATABASE_URL = "TRIP_DATABASE_URL"
CONFIG_FILE = "TRIP_CONFIG_FILE"
OUTBOX_FILE = "TRIP_OUTBOX_FILE"
LOG_FILE = "TRIP_LOG_FILE"
NO_LOCAL_FILES = "TRIP_NO_LOCAL_FILES"
TIME_ZONE = "TZ"
TEST_CRASH_AT = "TRIP_TEST_CRASH_AT"


@dataclass(frozen=True)
class Environment:
    """The variables as read at one moment; None (or "" for `tz`) where unset or empty."""

    api_url: str | None = None
    """The API root of the service the SDK, `trip ui`, `trip mcp`, export and import talk to."""
    api_key: str | None = None
    """The API key they send."""
    share_token: str | None = None
    """`trip ui` opens this share link read-only (`trip ssh` passes it so: argv shows in `ps`)."""
    database_url: str | None = None
    """The database of `trip serve`, `trip keys` and `trip ssh` when no --db is given."""
    config_file: str | None = None
    """The terminal app's config file (its saved URL, key, keymap, zone)."""
    outbox_file: str | None = None
    """The terminal app's outbox of writes not yet sent."""
    log_file: str | None = None
    """The terminal app's failure log."""
    no_local_files: bool = False
    """Set ("1") in a `trip ssh` session: the app writes no file (export, screenshot) where it runs."""
    tz: str = ""
    """The viewer's time zone when the config names none (a leading ":" is allowed, as in libc)."""
    test_crash_at: str | None = None
    """Tests only: the server kills itself at this fault point (see app/server/faults.py)."""

    def file(self, variable: str) -> str | None:
        """The path a file variable (CONFIG_FILE, OUTBOX_FILE or LOG_FILE) names, if set."""
        return {
            CONFIG_FILE: self.config_file,
            OUTBOX_FILE: self.outbox_file,
            LOG_FILE: self.log_file,
        }[variable]


def environment() -> Environment:
    """The variables as they are now."""
    get = os.environ.get
    return Environment(
        api_url=get(API_URL) or None,
        api_key=get(API_KEY) or None,
        share_token=get(SHARE_TOKEN) or None,
        database_url=get(DATABASE_URL) or None,
        config_file=get(CONFIG_FILE) or None,
        outbox_file=get(OUTBOX_FILE) or None,
        log_file=get(LOG_FILE) or None,
        no_local_files=get(NO_LOCAL_FILES) == "1",
        tz=get(TIME_ZONE, ""),
        test_crash_at=get(TEST_CRASH_AT) or None,
    )


def inherited(names: Iterable[str]) -> dict[str, str]:
    """Those of `names` that this process's environment sets, with their values: what a child
    process is given of it (`trip ssh` passes PATH, HOME and the like to a session's app)."""
    return {name: os.environ[name] for name in names if name in os.environ}
