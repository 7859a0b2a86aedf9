"""A service of the seed's API only: our real app behind an ASGI wrapper that answers every route
of our extensions (API-CONTRACT: the changes feed, itinerary, summary and diff, ops, activity and
revert, share-token, member and channel writes, SSH keys, the OpenAPI document) as a server that
never had them would: 404 NOT_FOUND in the seed's error envelope, or 405 where the seed serves the
same path with another method. Everything else is the real thing, rate limit headers included.

    app = SeedOnly(create_app(settings, db))

`python -m tests.seed_only --db FILE --port N [--rate-limit 60]` serves it as a real process.
"""

from __future__ import annotations

import json
import re
import uuid

API = "/api/v1"
_TRIP = r"/trips/[^/]+"

EXTENSIONS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (methods, re.compile(f"^{API}{path}/?$"))
    for methods, path in (
        ("*", f"{_TRIP}/changes"),
        ("*", f"{_TRIP}/itinerary"),
        ("*", f"{_TRIP}/itinerary/diff"),
        ("*", f"{_TRIP}/itinerary/summary"),
        ("*", f"{_TRIP}/ops"),
        ("*", f"{_TRIP}/operations"),
        ("*", f"{_TRIP}/operations/[^/]+/revert"),
        ("*", f"{_TRIP}/share-token"),
        ("POST", f"{_TRIP}/members"),
        ("*", f"{_TRIP}/members/[^/]+"),
        ("POST", f"{_TRIP}/channels"),
        ("*", "/me/ssh-keys"),
        ("*", "/me/ssh-keys/[^/]+"),
        ("*", "/openapi.json"),
        ("*", "/docs"),
    )
)
"""(methods, path) of every route of ours that the seed does not have; "*": every method."""

SEED_PATH_FOR_OTHER_METHODS = (
    re.compile(f"^{API}{_TRIP}/members/?$"),
    re.compile(f"^{API}{_TRIP}/channels/?$"),
)
"""Paths the seed serves with GET only: another method there is 405, as on any server."""


def is_extension(method: str, path: str) -> bool:
    return any(
        (methods == "*" or method == methods) and pattern.match(path) for methods, pattern in EXTENSIONS
    )


class SeedOnly:
    """ASGI middleware: the wrapped app minus our extensions."""

    def __init__(self, app) -> None:
        self.app = app
        self.refused: list[str] = []
        """"METHOD path" of every extension request answered 404/405 (for tests)."""

    def __getattr__(self, name: str):
        return getattr(self.app, name)  # `router.lifespan_context` and friends

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not is_extension(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        self.refused.append(f"{method} {path}")
        not_allowed = any(pattern.match(path) for pattern in SEED_PATH_FOR_OTHER_METHODS)
        status, code, message = (
            (405, "METHOD_NOT_ALLOWED", f"Method {method} not allowed here")
            if not_allowed
            else (404, "NOT_FOUND", "No such route")
        )
        request_id = f"req_{uuid.uuid4().hex}"
        body = json.dumps({"error": {"code": code, "message": message, "requestId": request_id}}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"x-request-id", request_id.encode()),
        ]
        if not_allowed:
            headers.append((b"allow", b"GET"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def main() -> None:
    import argparse

    import uvicorn

    from app.server.app import create_app
    from app.server.settings import Settings
    from app.server.storage.database import Database, normalise_url

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--rate-limit", type=int, default=60)
    args = parser.parse_args()
    settings = Settings(database_url=normalise_url(args.db), rate_limit=args.rate_limit)
    app = create_app(settings, Database(settings.database_url))
    uvicorn.run(SeedOnly(app), host=args.host, port=args.port, log_level="warning", lifespan="on")


if __name__ == "__main__":
    main()
