"""The routes that legs, action items, commitments and map pins share: list, create (with clientRef
upsert), get, update, delete. Each resource module builds its router with `content_router`."""

from typing import Any

from fastapi import APIRouter, Body
from pydantic import BaseModel
from starlette.responses import Response

from app.server.auth import TripEditor, TripReader
from app.server.deps import Db
from app.server.errors import ErrorResponses
from app.server.responses import JSON, PAGE_DEFAULT, PAGE_MAX, limit_query, page
from app.server.storage import content
from app.server.storage.revisions import record_change


def content_router(
    kind: content.Kind,
    path: str,
    *,
    item_model: type[BaseModel],
    page_model: type[BaseModel],
    tag: str,
) -> APIRouter:
    router = APIRouter(prefix="/trips/{trip_id}", tags=[tag], responses=ErrorResponses)
    label = kind.label.lower()
    create_model, update_model = kind.create_model, kind.update_model

    @router.get(f"/{path}", response_model=page_model, summary=f"List {label}s")
    async def list_items(
        db: Db,
        access: TripReader,
        limit: int = limit_query(PAGE_DEFAULT, PAGE_MAX),
        cursor: str | None = None,
    ) -> Any:
        async with db.read() as conn:
            items, next_cursor = await content.list_page(
                conn, kind, access.trip_id, limit=limit, cursor=cursor
            )
        return page(items, next_cursor)

    @router.post(
        f"/{path}",
        response_model=item_model,
        status_code=201,
        summary=f"Create a {label}"
        + (" (a known clientRef diff-merges: 200)" if kind.has_client_ref else ""),
        responses={200: {"model": item_model, "description": "Merged into the row with this clientRef"}},
    )
    async def create_item(db: Db, access: TripEditor, body: create_model = Body()) -> Any:  # type: ignore[valid-type]
        async with db.write() as conn:
            outcome = await content.upsert(conn, kind, access.trip, body)
            if outcome.changed:
                verb = "create" if outcome.status == "created" else "update"
                await record_change(
                    conn, access.trip_id, f"{verb}_{kind.name}", outcome.changes, actor=access.key
                )
        return JSON(outcome.wire, status_code=201 if outcome.status == "created" else 200)

    @router.get(f"/{path}/{{item_id}}", response_model=item_model, summary=f"Get a {label}")
    async def get_item(db: Db, item_id: str, access: TripReader) -> Any:
        async with db.read() as conn:
            row = await content.get_row(conn, kind, access.trip_id, item_id)
        return JSON(kind.to_wire(row))

    @router.patch(f"/{path}/{{item_id}}", response_model=item_model, summary=f"Update a {label}")
    async def update_item(db: Db, item_id: str, access: TripEditor, body: update_model = Body()) -> Any:  # type: ignore[valid-type]
        async with db.write() as conn:
            outcome = await content.update_row(conn, kind, access.trip, item_id, body)
            if outcome.changed:
                await record_change(
                    conn, access.trip_id, f"update_{kind.name}", outcome.changes, actor=access.key
                )
        return JSON(outcome.wire)

    @router.delete(f"/{path}/{{item_id}}", status_code=204, summary=f"Delete a {label}")
    async def delete_item(db: Db, item_id: str, access: TripEditor) -> Response:
        async with db.write() as conn:
            outcome = await content.delete_row(conn, kind, access.trip, item_id)
            await record_change(
                conn, access.trip_id, f"delete_{kind.name}", outcome.changes, actor=access.key
            )
        return Response(status_code=204)

    return router
