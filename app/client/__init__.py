"""The async Python SDK of the trip API (httpx): `TripClient` with an API key,
`SharedTripClient` with a share token, and the typed errors both raise.

    from app.client import TripClient

    async with TripClient() as client:        # TRIP_API_KEY, TRIP_API_URL
        me = await client.me()
"""

import sys


def _httpx_without_its_command_line() -> None:
    """Import httpx without `httpx._main`, the code of the `httpx` shell command (click, pygments,
    rich's progress and syntax: a large share of httpx's import) that `import httpx` loads for
    `httpx.main` and that no program using the SDK calls. httpx expects it to be missing (it then
    defines a `main` that says so); `httpx._main` stays importable afterwards."""
    if "httpx" in sys.modules or "httpx._main" in sys.modules:
        return
    sys.modules["httpx._main"] = None  # type: ignore[assignment]  # makes its import raise ImportError
    try:
        import httpx  # noqa: F401
    finally:
        del sys.modules["httpx._main"]


_httpx_without_its_command_line()

from app.client.capabilities import Capabilities  # noqa: E402
from app.client.client import DEFAULT_BASE_URL, TripClient  # noqa: E402
from app.client.errors import (  # noqa: E402
    APIError,
    ConflictError,
    ForbiddenError,
    IdempotencyConflictError,
    IdempotencyInProgressError,
    NotFoundError,
    NotSupportedError,
    OperationRejectedError,
    PayloadTooLargeError,
    RateLimitedError,
    RevertConflictError,
    ServerError,
    StaleRevisionError,
    TripConnectionError,
    TripError,
    TripTimeoutError,
    UnauthorizedError,
    UnexpectedResponseError,
    ValidationError,
)
from app.client.http import RateLimitStatus, RetryPolicy  # noqa: E402
from app.client.shared import SharedTripClient  # noqa: E402
from app.client.wire import NOT_GIVEN  # noqa: E402

__all__ = [
    "DEFAULT_BASE_URL",
    "NOT_GIVEN",
    "APIError",
    "Capabilities",
    "ConflictError",
    "ForbiddenError",
    "IdempotencyConflictError",
    "IdempotencyInProgressError",
    "NotFoundError",
    "NotSupportedError",
    "OperationRejectedError",
    "PayloadTooLargeError",
    "RateLimitStatus",
    "RateLimitedError",
    "RetryPolicy",
    "RevertConflictError",
    "ServerError",
    "SharedTripClient",
    "StaleRevisionError",
    "TripClient",
    "TripConnectionError",
    "TripError",
    "TripTimeoutError",
    "UnauthorizedError",
    "UnexpectedResponseError",
    "ValidationError",
]
