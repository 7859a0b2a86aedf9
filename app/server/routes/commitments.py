"""Commitments: dinners, activities, birthdays and meetings, optionally linked to a leg or pin."""

from app.domain import models as m
from app.server.routes.content import content_router
from app.server.storage import content

router = content_router(
    content.COMMITMENT, "commitments", item_model=m.Commitment, page_model=m.CommitmentPage, tag="commitments"
)
