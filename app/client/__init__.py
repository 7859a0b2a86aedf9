"""The async Python SDK of the trip API (httpx): `TripClient` with an API key,
`SharedTripClient` with a share token, and the typed errors both raise.

    from app.client import TripClient

    async with TripClient() as client:        # TRIP_API_KEY, TRIP_API_URL
        me = await client.me()
"""

from app.client.client import DEFAULT_BASE_URL, TripClient
from app.client.errors import (
    APIError,
    ConflictError,
    ForbiddenError,
    IdempotencyConflictError,
    IdempotencyInProgressError,
    NotFoundError,
    OperationRejectedError,
    PayloadTooLargeError,
    RateLimitedError,
    ServerError,
    StaleRevisionError,
    TripConnectionError,
    TripError,
    TripTimeoutError,
    UnauthorizedError,
    UnexpectedResponseError,
    ValidationError,
)
from app.client.http import RateLimitStatus, RetryPolicy
from app.client.shared import SharedTripClient
from app.client.wire import NOT_GIVEN

__all__ = [
    "TripClient",
    "SharedTripClient",
    "DEFAULT_BASE_URL",
    "NOT_GIVEN",
    "RetryPolicy",
    "RateLimitStatus",
    "TripError",
    "TripConnectionError",
    "TripTimeoutError",
    "UnexpectedResponseError",
    "APIError",
    "ValidationError",
    "UnauthorizedError",
    "ForbiddenError",
    "NotFoundError",
    "ConflictError",
    "IdempotencyConflictError",
    "IdempotencyInProgressError",
    "StaleRevisionError",
    "OperationRejectedError",
    "PayloadTooLargeError",
    "RateLimitedError",
    "ServerError",
]
