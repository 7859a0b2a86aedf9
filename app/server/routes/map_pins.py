"""Map pins: the places the group wants to go."""

from app.domain import models as m
from app.server.routes.content import content_router
from app.server.storage import content

router = content_router(
    content.MAP_PIN, "map-pins", item_model=m.MapPin, page_model=m.MapPinPage, tag="map pins"
)
