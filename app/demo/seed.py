"""Seeds the demo trip through the SDK, as its four members would: the owner creates the trip,
adds the others, plans legs, pins, checklist and agenda; everyone chats."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.client import TripClient
from app.demo import story
from app.demo.story import COMPANIONS, GUEST, YOU, Story
from app.domain.bulk import BatchResult, ItemResult
from app.domain.models import ActionItemCreate, CommitmentCreate, LegCreate, MapPinCreate


def _ok(batch: BatchResult) -> list[ItemResult]:
    if batch.errors:
        failed = [result.error for result in batch.results if result.error]
        raise RuntimeError(f"seeding the demo failed: {failed[:3]}")
    return sorted(batch.results, key=lambda result: result.index)


@dataclass
class SeededTrip:
    trip_id: str
    channels: dict[str, str]
    """Channel name -> id."""
    members: dict[str, str]
    """Person ref -> user id."""


async def seed(clients: dict[str, TripClient], start: dt.date) -> SeededTrip:
    """`clients` maps each person's ref (`story.PEOPLE`) to a client with that person's key."""
    owner = clients[YOU.ref]
    plan = Story(start)
    me = await owner.me()
    trip = await owner.create_trip(
        group_id=me.default_group_id or me.groups[0].id,
        title=story.TITLE,
        start_date=plan.start.isoformat(),
        end_date=plan.end.isoformat(),
    )
    trip_id = trip.id
    for person in (*COMPANIONS, GUEST):
        await owner.add_member(trip_id, person.email, person.role)
    members = {YOU.ref: me.id}
    for member in (await owner.list_members(trip_id)).items:
        for person in (*COMPANIONS, GUEST):
            if member.email == person.email:
                members[person.ref] = member.user_id

    # Legs, pins and checklist in one batch call each: quicker to start the demo.
    legs = await owner.batch_upsert_legs(trip_id, [LegCreate.model_validate(body) for body in plan.legs])
    leg_ids = {body["client_ref"]: result.id for body, result in zip(plan.legs, _ok(legs), strict=False)}
    pins = await owner.batch_upsert_map_pins(
        trip_id,
        [
            MapPinCreate(name=name, lat=lat, lng=lng, category=category, notes=notes, client_ref=ref)
            for ref, name, lat, lng, category, notes in story.PINS
        ],
    )
    pin_ids = {pin[0]: result.id for pin, result in zip(story.PINS, _ok(pins), strict=False)}
    _ok(
        await owner.batch_upsert_action_items(
            trip_id,
            [
                ActionItemCreate(
                    text=text,
                    urgency=urgency,
                    owner=members.get(owner_ref) if owner_ref else None,
                    done=done,
                    client_ref=ref,
                )
                for ref, text, urgency, owner_ref, done in story.ACTION_ITEMS
            ],
        )
    )
    for title, offset, category, start_time, end_time, all_day, zone, leg_ref, pin_ref in story.COMMITMENTS:
        fields = {
            "title": title,
            "start_date": story.day(plan.start, offset),
            "category": category,
            "is_all_day": all_day,
            "leg_id": leg_ids.get(leg_ref or ""),
            "map_pin_id": pin_ids.get(pin_ref or ""),
        }
        if start_time:
            fields["start_time"] = start_time
        if end_time:
            fields["end_time"] = end_time
        if zone:
            fields["timezone"] = zone
        await owner.create_commitment(
            trip_id, CommitmentCreate(**{k: v for k, v in fields.items() if v is not None})
        )

    channels = {channel.name: channel.id for channel in (await owner.list_channels(trip_id)).items}
    for name in story.CHANNELS:
        if name not in channels:
            channels[name] = (await owner.create_channel(trip_id, name)).id
    sent: list[str] = []
    for _, _, channel, author, content, reply_to in story.HISTORY:
        parent = sent[reply_to] if reply_to is not None else None
        message = await clients[author].send_message(trip_id, channels[channel], content, parent_id=parent)
        sent.append(message.id)
    await owner.update_trip(trip_id, status="active")
    return SeededTrip(trip_id, channels, members)
