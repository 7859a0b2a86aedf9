"""The baseline for our request stack: a bare Starlette endpoint that runs the same query as
`GET /trips/{id}/legs` (through the same Database and storage code) and returns the same JSON,
without authentication, rate limiting, access checks, middleware or FastAPI.

    python -m tests.benchmarks.bare_app --db URL --port 8123
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Route

from app.server.responses import JSON
from app.server.storage import content
from app.server.storage.database import Database


def create_bare_app(url: str) -> Starlette:
    db = Database(url)

    async def legs(request):
        async with db.read() as conn:
            items, next_cursor = await content.list_page(conn, content.LEG, request.path_params["trip_id"], limit=100, cursor=None)
        return JSON({"items": items, "nextCursor": next_cursor})

    return Starlette(routes=[Route("/api/v1/trips/{trip_id}/legs", legs), Route("/api/v1/openapi.json", lambda r: JSON({}))])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(create_bare_app(args.db), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
