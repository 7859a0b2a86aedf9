"""Dependencies the routes declare in their signatures (FastAPI-template style): `db: Db` is the
app's database, so a route names what it needs instead of reaching into `request.app.state`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.server.storage.database import Database


async def database(request: Request) -> Database:
    # async on purpose: FastAPI runs a plain `def` dependency in a worker thread; this is awaited in place.
    db: Database = request.app.state.db
    return db


Db = Annotated[Database, Depends(database)]
