"""Every TripClient method against the real server in-process (temp SQLite)."""

from __future__ import annotations

import pytest

from app.client import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    TripClient,
    UnauthorizedError,
    ValidationError,
)
from app.domain import (
    ActionItem,
    Channel,
    Commitment,
    Leg,
    LegCreate,
    MapPin,
    Me,
    Member,
    Message,
    Page,
    Trip,
    TripUpdate,
)
from tests.client.conftest import FlakyTransport, in_process
from tests.conftest import BASE

LEG = dict(
    order=0,
    title="Tokyo",
    destination="Tokyo",
    start_date="2026-07-15",
    end_date="2026-07-18",
    timezone="Asia/Tokyo",
)


async def make_trip(client: TripClient, title: str = "Cotswolds") -> Trip:
    me = await client.me()
    return await client.create_trip(
        group_id=me.default_group_id, title=title, start_date="2026-07-15", end_date="2026-07-22"
    )


async def test_me(client, alice):
    me = await client.me()
    assert isinstance(me, Me)
    assert me.id == alice.user_id and me.email == "alice@example.com" and me.name == "Alice"
    assert me.default_group_id in [g.id for g in me.groups]


async def test_trip_lifecycle(client):
    trip = await make_trip(client)
    assert isinstance(trip, Trip)
    assert (trip.title, trip.start_date, trip.end_date, trip.status, trip.revision) == (
        "Cotswolds",
        "2026-07-15",
        "2026-07-22",
        "draft",
        1,
    )
    assert (await client.get_trip(trip.id)).id == trip.id

    renamed = await client.update_trip(trip.id, title="Cotswolds, again")
    assert renamed.title == "Cotswolds, again" and renamed.end_date == "2026-07-22"
    assert renamed.revision == 2

    # A domain model works too; only the fields set on it are sent.
    activated = await client.update_trip(trip.id, TripUpdate(status="active"))
    assert activated.status == "active" and activated.title == "Cotswolds, again"

    archived = await client.archive_trip(trip.id)
    assert archived.status == "completed"
    assert (await client.get_trip(trip.id)).status == "completed"


async def test_list_and_iterate_trips(client):
    made = [await make_trip(client, f"Trip {i}") for i in range(5)]
    page = await client.list_trips(limit=2)
    assert isinstance(page, Page) and len(page.items) == 2 and page.next_cursor
    second = await client.list_trips(limit=2, cursor=page.next_cursor)
    assert {t.id for t in page.items}.isdisjoint(t.id for t in second.items)
    seen = [trip.id async for trip in client.iterate_trips(page_size=2)]
    assert seen == [t.id for t in made]


async def test_iterators_fetch_lazily_page_by_page(server, alice):
    recorder = FlakyTransport(in_process(server))
    async with TripClient(api_key=alice.key, base_url=BASE, transport=recorder) as client:
        trip = await make_trip(client)
        for i in range(5):
            await client.create_leg(trip.id, **{**LEG, "order": i, "title": f"Leg {i}"})
        before = len(recorder.requests)
        legs = client.iterate_legs(trip.id, page_size=2)
        assert (await anext(legs)).title == "Leg 0"
        assert len(recorder.requests) == before + 1
        assert (await anext(legs)).title == "Leg 1"
        assert len(recorder.requests) == before + 1  # still on the first page
        assert (await anext(legs)).title == "Leg 2"
        assert len(recorder.requests) == before + 2
        rest = [leg.title async for leg in legs]
        assert rest == ["Leg 3", "Leg 4"]
        assert len(recorder.requests) == before + 3
        pages = [r for r in recorder.requests[before:]]
        assert [r.url.params.get("limit") for r in pages] == ["2", "2", "2"]
        assert pages[0].url.params.get("cursor") is None and pages[1].url.params.get("cursor")


async def test_legs(client):
    trip = await make_trip(client)
    leg = await client.create_leg(
        trip.id,
        **LEG,
        client_ref="leg-tok-1",
        accommodation={"name": "Hotel", "check_in": "2026-07-15T15:00", "wifi_password": "hunter2"},
        flights=[{"airline": "JL", "from_": "LHR", "to": "HND", "departure_time": "2026-07-14T19:00"}],
    )
    assert isinstance(leg, Leg)
    assert leg.title == "Tokyo" and leg.client_ref == "leg-tok-1"
    assert leg.accommodation.check_in == "2026-07-15T15:00" and leg.stays[0].wifi_password == "hunter2"
    assert leg.flights[0].from_ == "LHR"
    assert (await client.get_leg(trip.id, leg.id)).id == leg.id

    # The same clientRef diff-merges: one row, the new field changed, the others kept.
    merged = await client.create_leg(
        trip.id, LegCreate(**{**LEG, "title": "Tokyo!", "client_ref": "leg-tok-1"})
    )
    assert merged.id == leg.id and merged.title == "Tokyo!"

    updated = await client.update_leg(trip.id, leg.id, destination="Kyoto")
    assert updated.destination == "Kyoto" and updated.title == "Tokyo!"
    assert updated.accommodation.name == "Hotel"

    page = await client.list_legs(trip.id)
    assert [x.id for x in page.items] == [leg.id] and page.next_cursor is None
    assert [x.id async for x in client.iterate_legs(trip.id)] == [leg.id]

    await client.delete_leg(trip.id, leg.id)
    with pytest.raises(NotFoundError):
        await client.get_leg(trip.id, leg.id)
    assert (await client.list_legs(trip.id)).items == []


async def test_action_items(client, alice):
    trip = await make_trip(client)
    item = await client.create_action_item(
        trip.id, text="Book the ferry", urgency="before_trip", owner=alice.user_id
    )
    assert isinstance(item, ActionItem) and item.done is False and item.owner == alice.user_id
    done = await client.update_action_item(trip.id, item.id, done=True)
    assert done.done is True and done.text == "Book the ferry"
    assert (await client.get_action_item(trip.id, item.id)).done is True
    assert [x.id async for x in client.iterate_action_items(trip.id)] == [item.id]
    assert [x.id for x in (await client.list_action_items(trip.id)).items] == [item.id]
    await client.delete_action_item(trip.id, item.id)
    with pytest.raises(NotFoundError):
        await client.get_action_item(trip.id, item.id)


async def test_commitments_and_map_pins(client):
    trip = await make_trip(client)
    pin = await client.create_map_pin(trip.id, name="Sensoji", lat=35.7148, lng=139.7967, category="temple")
    assert isinstance(pin, MapPin) and pin.lat == 35.7148
    moved = await client.update_map_pin(trip.id, pin.id, notes="early, before the crowds")
    assert moved.notes == "early, before the crowds" and moved.name == "Sensoji"
    assert (await client.get_map_pin(trip.id, pin.id)).id == pin.id

    late = await client.create_commitment(
        trip.id, title="Dinner", start_date="2026-07-16", category="dinner", start_time="19:30"
    )
    early = await client.create_commitment(
        trip.id,
        title="Temple",
        start_date="2026-07-16",
        category="activity",
        start_time="08:00",
        map_pin_id=pin.id,
    )
    assert isinstance(late, Commitment) and early.map_pin_id == pin.id
    assert [c.title async for c in client.iterate_commitments(trip.id)] == ["Temple", "Dinner"]
    assert [c.id for c in (await client.list_commitments(trip.id, limit=1)).items] == [early.id]
    later = await client.update_commitment(trip.id, late.id, start_time="20:00")
    assert (
        later.start_time == "20:00" and (await client.get_commitment(trip.id, late.id)).start_time == "20:00"
    )
    await client.delete_commitment(trip.id, late.id)
    assert [c.id async for c in client.iterate_commitments(trip.id)] == [early.id]

    assert [p.id async for p in client.iterate_map_pins(trip.id)] == [pin.id]
    assert [p.id for p in (await client.list_map_pins(trip.id)).items] == [pin.id]
    await client.delete_commitment(trip.id, early.id)
    await client.delete_map_pin(trip.id, pin.id)
    assert (await client.list_map_pins(trip.id)).items == []


async def test_channels_and_messages(client):
    trip = await make_trip(client)
    channels = await client.list_channels(trip.id)
    assert [c.name for c in channels.items] == ["general"]
    general = channels.items[0]
    food = await client.create_channel(trip.id, "food")
    assert isinstance(food, Channel) and food.name == "food"
    assert [c.name async for c in client.iterate_channels(trip.id)] == ["general", "food"]
    with pytest.raises(ConflictError) as caught:
        await client.create_channel(trip.id, "food")
    assert caught.value.status == 409 and caught.value.code == "CONFLICT"

    first = await client.send_message(trip.id, general.id, "hello <b>all</b> 🚂")
    assert isinstance(first, Message) and first.content == "hello <b>all</b> 🚂" and first.parent_id is None
    reply = await client.send_message(trip.id, general.id, "hi!", parent_id=first.id)
    assert reply.parent_id == first.id
    for i in range(3):
        await client.send_message(trip.id, general.id, f"m{i}")
    newest_first = [m.content async for m in client.iterate_messages(trip.id, general.id, page_size=2)]
    assert newest_first == ["m2", "m1", "m0", "hi!", "hello <b>all</b> 🚂"]
    page = await client.list_messages(trip.id, general.id, limit=1)
    assert [m.content for m in page.items] == ["m2"] and page.next_cursor
    assert (await client.list_messages(trip.id, food.id)).items == []


async def test_members(client, bob_client, bob):
    trip = await make_trip(client)
    with pytest.raises(ForbiddenError):
        await bob_client.get_trip(trip.id)
    added = await client.add_member(trip.id, "bob@example.com", "viewer")
    assert isinstance(added, Member) and added.user_id == bob.user_id and added.role == "viewer"
    assert (await bob_client.get_trip(trip.id)).id == trip.id
    with pytest.raises(ForbiddenError) as caught:
        await bob_client.update_trip(trip.id, title="mine now")
    assert caught.value.status == 403 and caught.value.code == "FORBIDDEN" and caught.value.request_id
    promoted = await client.update_member(trip.id, bob.user_id, "editor")
    assert promoted.role == "editor"
    assert (await bob_client.update_trip(trip.id, title="ours")).title == "ours"
    roles = {m.user_id: m.role async for m in client.iterate_members(trip.id)}
    assert roles[bob.user_id] == "editor" and len(roles) == 2
    assert len((await client.list_members(trip.id)).items) == 2
    await client.remove_member(trip.id, bob.user_id)
    with pytest.raises(ForbiddenError):
        await bob_client.get_trip(trip.id)


async def test_api_errors_are_typed(server, client):
    with pytest.raises(NotFoundError) as caught:
        await client.get_trip("no-such-trip")
    error = caught.value
    assert (error.status, error.code) == (404, "NOT_FOUND")
    assert error.request_id and error.request_id.startswith("req_")
    assert error.request_id in str(error)

    me = await client.me()
    # A raw mapping goes to the server unchecked: the server's validation comes back typed.
    with pytest.raises(ValidationError) as caught:
        await client.create_trip(
            {"groupId": me.default_group_id, "title": "x", "startDate": "2026-02-30", "endDate": "2026-03-01"}
        )
    assert caught.value.status == 400 and caught.value.request_id
    assert {"path": "startDate", "reason": "invalid"} in caught.value.details

    async with TripClient(api_key="osk_wrong", base_url=BASE, transport=in_process(server)) as stranger:
        with pytest.raises(UnauthorizedError) as caught:
            await stranger.me()
    assert (caught.value.status, caught.value.code) == (401, "UNAUTHORIZED")


async def test_keyword_fields_are_checked_before_sending(server, alice):
    recorder = FlakyTransport(in_process(server))
    async with TripClient(api_key=alice.key, base_url=BASE, transport=recorder) as client:
        with pytest.raises(ValidationError) as caught:
            await client.create_trip(group_id="g", title="", start_date="2026-02-30", end_date="2026-03-01")
        with pytest.raises(ValidationError) as unknown:
            await client.create_leg("some-trip", **LEG, colour="red")
    assert recorder.requests == []
    paths = {d["path"]: d["reason"] for d in caught.value.details}
    assert paths["title"] == "invalid" and paths["startDate"] == "invalid"
    assert {"path": "colour", "reason": "unknown_field"} in unknown.value.details


async def test_ids_are_quoted_into_one_path_segment(client):
    trip = await make_trip(client)
    # An id with a slash must not walk to another route (here: /trips/<id>/legs/x).
    with pytest.raises(NotFoundError):
        await client.get_trip(f"{trip.id}/legs/x")
    with pytest.raises(ValueError):
        await client.get_trip("")


async def test_environment_configures_the_client(monkeypatch, server, alice):
    monkeypatch.setenv("TRIP_API_KEY", alice.key)
    monkeypatch.setenv("TRIP_API_URL", "http://tripdeck.test")  # a bare origin means its /api/v1
    async with TripClient(transport=in_process(server)) as client:
        assert client.base_url == BASE
        assert (await client.me()).id == alice.user_id
    monkeypatch.delenv("TRIP_API_KEY")
    with pytest.raises(Exception, match="TRIP_API_KEY"):
        TripClient(base_url=BASE)
