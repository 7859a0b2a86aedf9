"""Action items: the trip's checklist."""

from app.domain import models as m
from app.server.routes.content import content_router
from app.server.storage import content

router = content_router(
    content.ACTION_ITEM,
    "action-items",
    item_model=m.ActionItem,
    page_model=m.ActionItemPage,
    tag="action items",
)
