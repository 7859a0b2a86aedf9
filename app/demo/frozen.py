"""The demo trip as fixed `TripData` (ids, times and "now" all fixed): what the screenshots and
snapshot tests show, so that they are the same on every machine and every day."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from app.demo import story
from app.demo.story import PEOPLE, YOU, Story
from app.domain.models import (
    ActionItem,
    Channel,
    Commitment,
    GroupMembership,
    Leg,
    LegCreate,
    MapPin,
    Me,
    Member,
    Message,
    Trip,
)
from app.domain.summary import summary_of
from app.tui.clock import Clock
from app.tui.data import Paged, TripData

START = dt.date(2026, 7, 10)
NOW = "2026-07-16T10:30"
ZONE = "Europe/London"
TRIP_ID = "trip-demo"
CREATED = 1_780_000_000_000


def clock() -> Clock:
    """Six days into the trip, viewed from London."""
    return Clock.frozen(NOW, ZONE)


def _user(ref: str) -> str:
    return f"user-{ref}"


def trip_data(start: dt.date = START, now: str = NOW) -> TripData:
    plan = Story(start)
    fixed_now = dt.datetime.fromisoformat(now).replace(tzinfo=ZoneInfo(ZONE))
    trip = Trip(
        _id=TRIP_ID,
        _creationTime=CREATED,
        group_id="group-you",
        title=story.TITLE,
        start_date=plan.start.isoformat(),
        end_date=plan.end.isoformat(),
        status="active",
        revision=58,
        created_by=_user(YOU.ref),
        member_count=len(PEOPLE),
    )
    me = Me(
        _id=_user(YOU.ref),
        name=YOU.name,
        email=YOU.email,
        groups=[GroupMembership(_id="group-you", name="Sam's trips", role="owner")],
        default_group_id="group-you",
    )
    members = [Member(user_id=_user(p.ref), name=p.name, email=p.email, role=p.role) for p in PEOPLE]

    legs = []
    for index, body in enumerate(plan.legs):
        wire = LegCreate.model_validate(body).model_dump(mode="json", by_alias=True, exclude_none=True)
        stays = wire.pop("stays", [])
        legs.append(
            Leg(
                _id=f"leg-{body['client_ref']}",
                _creationTime=CREATED + index,
                trip_id=TRIP_ID,
                accommodation=stays[0] if stays else None,
                stays=stays,
                **wire,
            )
        )
    leg_ids = {body["client_ref"]: f"leg-{body['client_ref']}" for body in plan.legs}
    pins = [
        MapPin(
            _id=f"pin-{ref}",
            _creationTime=CREATED + i,
            trip_id=TRIP_ID,
            name=name,
            lat=lat,
            lng=lng,
            category=category,
            notes=notes,
            client_ref=ref,
        )
        for i, (ref, name, lat, lng, category, notes) in enumerate(story.PINS)
    ]
    items = [
        ActionItem(
            _id=f"item-{ref}",
            _creationTime=CREATED + i,
            trip_id=TRIP_ID,
            text=text,
            urgency=urgency,
            owner=_user(owner) if owner else None,
            done=done,
            client_ref=ref,
        )
        for i, (ref, text, urgency, owner, done) in enumerate(story.ACTION_ITEMS)
    ]
    commitments = []
    for i, (title, offset, category, start_time, end_time, all_day, zone, leg_ref, pin_ref) in enumerate(
        story.COMMITMENTS
    ):
        commitments.append(
            Commitment(
                _id=f"commitment-{i}",
                _creationTime=CREATED + i,
                trip_id=TRIP_ID,
                title=title,
                start_date=story.day(plan.start, offset),
                category=category,
                start_time=start_time,
                end_time=end_time,
                is_all_day=all_day,
                timezone=zone,
                leg_id=leg_ids.get(leg_ref or ""),
                map_pin_id=f"pin-{pin_ref}" if pin_ref else None,
            )
        )
    commitments.sort(key=lambda c: (c.start_date, c.start_time or ""))
    # The service's own rules (app/domain/timeline.py): the conflicts are those `trip demo` shows.
    summary = summary_of(trip, legs, commitments, pins)

    channels = [
        Channel(_id=f"channel-{name}", _creationTime=CREATED + i, trip_id=TRIP_ID, name=name)
        for i, name in enumerate(story.CHANNELS)
    ]
    names = {p.ref: p.name for p in PEOPLE}
    messages: dict[str, list[Message]] = {channel.id: [] for channel in channels}
    ids: list[str] = []
    for index, (days_before, time, channel, author, content, reply_to) in enumerate(story.HISTORY):
        sent = dt.datetime.combine(
            fixed_now.date() - dt.timedelta(days=days_before), dt.time.fromisoformat(time), ZoneInfo(ZONE)
        )
        message = Message(
            _id=f"message-{index}",
            _creationTime=int(sent.timestamp() * 1000),
            trip_id=TRIP_ID,
            channel_id=f"channel-{channel}",
            author_id=_user(author),
            author_name=names[author],
            content=content,
            parent_id=ids[reply_to] if reply_to is not None else None,
        )
        ids.append(message.id)
        messages[message.channel_id].append(message)
    return TripData(
        trip=trip,
        me=me,
        members=members,
        legs=Paged(legs),
        pins=Paged(pins),
        action_items=Paged(items),
        commitments=Paged(commitments),
        channels=channels,
        summary=summary,
        messages={
            channel_id: Paged(sorted(rows, key=lambda m: m.creation_time))
            for channel_id, rows in messages.items()
        },
    )
