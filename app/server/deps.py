"""Dependencies the routes declare in their signatures (FastAPI-template style): `db: Db` is the
app's database, so a route names what it needs instead of reaching into `request.app.state`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.server.storage.database import Database


def database_of(request: Request) -> Database:
    """The app's database, for the hot paths (sending a message, `GET /me`, the access check) that
    skip a dependency: each one is a step of FastAPI's solver on every request."""
    db: Database = request.app.state.db
    return db


async def database(request: Request) -> Database:
    # async on purpose: FastAPI runs a plain `def` dependency in a worker thread; this is awaited in place.
    return database_of(request)


Db = Annotated[Database, Depends(database)]
