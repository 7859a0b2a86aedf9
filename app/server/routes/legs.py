"""Legs: where the group is when, with stays, flights and a rental car."""

from app.domain import models as m
from app.server.routes.content import content_router
from app.server.storage import content

router = content_router(content.LEG, "legs", item_model=m.Leg, page_model=m.LegPage, tag="legs")
