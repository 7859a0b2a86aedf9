"""Share tokens: create, replace, revoke; the unauthenticated views show only the allowlist."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from app.domain.bulk import TripExport
from app.domain.models import Trip
from app.server.storage import tables as t

LEG = {
    "order": 0,
    "title": "Tokyo",
    "destination": "Tokyo",
    "startDate": "2026-07-15",
    "endDate": "2026-07-18",
    "timezone": "Asia/Tokyo",
}


async def share(alice, trip) -> dict:
    response = await alice.http.post(f"/trips/{trip['_id']}/share-token")
    assert response.status_code == 201, response.text
    return response.json()


async def test_token_opens_the_trip_without_a_key(server, alice, trip):
    token = await share(alice, trip)
    assert token["url"].endswith(f"/api/v1/shared/trips/{token['token']}")
    async with server.client() as anonymous:
        view = await anonymous.get(f"/shared/trips/{token['token']}")
        export = await anonymous.get(f"/shared/trips/{token['token']}/export")
    assert (
        view.status_code == 200 and view.json()["_id"] == trip["_id"] and view.json()["title"] == "Cotswolds"
    )
    assert set(export.json()) == {"trip", "legs", "mapPins", "actionItems", "commitments", "members"}
    assert export.json()["members"] == [{"userId": alice.user_id, "name": "Alice", "role": "owner"}]
    # The same models parse a shared response and a full one.
    TripExport.model_validate(export.json())
    Trip.model_validate(view.json())


async def test_only_a_hash_is_stored(server, alice, trip):
    token = (await share(alice, trip))["token"]
    async with server.db.read() as conn:
        stored = (
            await conn.execute(select(t.trips.c.share_token_hash).where(t.trips.c.id == trip["_id"]))
        ).scalar()
    assert stored and token not in stored


async def test_no_token_or_key_rests_in_the_database(server, alice, trip):
    """The SDK sends every create with an Idempotency-Key: its replay record must not keep the
    token (nor the URL that holds it), and a replay after a revoke must not hand back the dead
    token. On SQLite the database file and its WAL are searched byte for byte."""
    path = f"/trips/{trip['_id']}/share-token"
    first = await alice.http.post(path, headers={"Idempotency-Key": "share-1"})
    assert first.status_code == 201, first.text
    token = first.json()["token"]
    replay = await alice.http.post(path, headers={"Idempotency-Key": "share-1"})
    assert replay.status_code == 409 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["error"]["code"] == "SECRET_NOT_REPLAYED" and token not in replay.text
    assert (await alice.http.delete(path)).status_code == 204
    after_revoke = await alice.http.post(path, headers={"Idempotency-Key": "share-1"})
    assert after_revoke.status_code == 409 and token not in after_revoke.text
    async with server.db.read() as conn:
        records = (await conn.execute(select(t.idempotency_records.c.response_body))).scalars().all()
    assert records and not any(token in (body or "") for body in records)
    if server.db.is_sqlite:
        from sqlalchemy.engine import make_url

        database = make_url(server.db.url).database
        for suffix in ("", "-wal"):
            try:
                with open(database + suffix, "rb") as file:
                    stored = file.read()
            except FileNotFoundError:
                continue
            assert token.encode() not in stored, f"share token found in {database + suffix}"
            assert alice.key.encode() not in stored, f"API key found in {database + suffix}"
            assert token.split("_", 1)[1].encode() not in stored


async def test_new_token_replaces_the_old_and_revoke_is_immediate(server, alice, trip):
    old = (await share(alice, trip))["token"]
    new = (await share(alice, trip))["token"]
    async with server.client() as anonymous:
        assert (await anonymous.get(f"/shared/trips/{old}")).status_code == 404
        assert (await anonymous.get(f"/shared/trips/{new}")).status_code == 200
        assert (await alice.http.delete(f"/trips/{trip['_id']}/share-token")).status_code == 204
        gone = await anonymous.get(f"/shared/trips/{new}/export")
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "NOT_FOUND"
        assert (await anonymous.get("/shared/trips/shr_madeup")).status_code == 404


async def test_shared_views_are_read_only(server, alice, trip):
    token = (await share(alice, trip))["token"]
    async with server.client() as anonymous:
        assert (await anonymous.post(f"/shared/trips/{token}", json={})).status_code == 405
        assert (await anonymous.delete(f"/shared/trips/{token}")).status_code == 405


async def test_viewers_and_read_only_keys_may_not_share(alice, bob, make_actor, trip):
    await alice.http.post(f"/trips/{trip['_id']}/members", json={"email": bob.email, "role": "viewer"})
    assert (await bob.http.post(f"/trips/{trip['_id']}/share-token")).status_code == 403
    reader = await make_actor(alice.email, scopes=["trips:read"])
    assert (await reader.http.post(f"/trips/{trip['_id']}/share-token")).status_code == 403
    assert (await reader.http.delete(f"/trips/{trip['_id']}/share-token")).status_code == 403


# Secrets that cannot turn up by chance in ids, dates, names or JSON keys of the fixture data
# (unprefixed, hypothesis once drew "destinatio", a piece of the key "destination").
SECRET = (
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=10, max_size=40)
    .filter(lambda s: s.strip() == s and s.strip())
    .map(lambda s: f"secret:{s}")
)


def appears(secret: str, text: str) -> bool:
    escaped = json.dumps(secret, ensure_ascii=False)[1:-1]
    return secret in text or escaped in text


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(secrets=st.lists(SECRET, min_size=12, max_size=12, unique=True))
async def test_property_no_secret_reaches_a_shared_response(server, alice, bob, trip, secrets):
    (
        wifi,
        door,
        host_phone,
        stay_conf,
        instructions,
        flight_conf,
        seat,
        car_conf,
        email_local,
        phone,
        message,
        stay_notes,
    ) = secrets
    tid = trip["_id"]
    stay = {
        "name": "Ryokan",
        "wifiPassword": wifi,
        "doorCode": door,
        "hostPhone": host_phone,
        "confirmationNumber": stay_conf,
        "checkInInstructions": instructions,
        "notes": stay_notes,
    }
    leg = {
        **LEG,
        "clientRef": "leg",
        "stays": [stay, {**stay, "clientRef": "second"}],
        "flights": [{"airline": "JL", "confirmationNumber": flight_conf, "seat": seat}],
        "rentalCar": {"company": "Toyota", "confirmationNumber": car_conf},
    }
    written = await alice.http.post(f"/trips/{tid}/sync", json={"legs": [leg]})
    assert written.status_code == 200, written.text
    # Member contact details: a second member with a secret email and phone, and alice's phone.
    async with server.db.write() as conn:
        await conn.execute(
            update(t.users).where(t.users.c.id.in_([alice.user_id, bob.user_id])).values(phone=phone)
        )
        await conn.execute(
            update(t.users).where(t.users.c.id == bob.user_id).values(email=f"{email_local}@example.org")
        )
        if not (
            await conn.execute(
                select(t.trip_members).where(
                    t.trip_members.c.user_id == bob.user_id, t.trip_members.c.trip_id == tid
                )
            )
        ).first():
            await conn.execute(
                t.trip_members.insert().values(trip_id=tid, user_id=bob.user_id, role="editor", created_at=0)
            )
    await alice.http.post(
        f"/trips/{tid}/action-items", json={"text": "Pay", "urgency": "now", "owner": bob.user_id}
    )
    channel = (await alice.http.get(f"/trips/{tid}/channels")).json()["items"][0]
    await alice.http.post(f"/trips/{tid}/channels/{channel['_id']}/messages", json={"content": message})

    # The secrets are really stored, and members see them...
    full = (await alice.http.get(f"/trips/{tid}/export")).text
    assert appears(wifi, full) and appears(phone, full)
    # ...but no shared response contains any of them.
    token = (await share(alice, trip))["token"]
    async with server.client() as anonymous:
        for path in (f"/shared/trips/{token}", f"/shared/trips/{token}/export"):
            response = await anonymous.get(path)
            assert response.status_code == 200
            for secret in secrets:
                assert not appears(secret, response.text), (path, secret)
        shared_leg = (await anonymous.get(f"/shared/trips/{token}/export")).json()["legs"][0]
    # The safe parts are still there.
    assert [s["name"] for s in shared_leg["stays"]] == ["Ryokan", "Ryokan"]
    # The zones in use are no secret: a flight without airports takes the leg's.
    assert shared_leg["flights"] == [
        {
            "airline": "JL",
            "departureTimezone": "Asia/Tokyo",
            "departureTimezoneSource": "leg",
            "arrivalTimezone": "Asia/Tokyo",
            "arrivalTimezoneSource": "leg",
        }
    ]
    assert shared_leg["rentalCar"] == {"company": "Toyota"}
