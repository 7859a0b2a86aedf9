"""Property: after any sequence of edits (REST and ops), the diff since any revision n, applied to
the itinerary as it was at n, gives exactly the itinerary now."""

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import new_trip

START = dt.date(2026, 7, 15)  # the trip runs 07-15 .. 07-22; offsets reach past both ends
# Any text the API accepts: everything but U+0000, which no backend stores.
TEXT = st.characters(exclude_characters="\x00", exclude_categories=("Cs",))  # surrogates are not UTF-8
day = st.integers(-2, 9).map(lambda n: (START + dt.timedelta(days=n)).isoformat())
clock = st.sampled_from([None, "08:00", "12:30", "19:00", "23:00"])
pick = st.integers(0, 50)

step = st.one_of(
    st.tuples(st.just("add_commitment"), st.booleans(), day, clock, st.booleans()),
    st.tuples(st.just("edit_commitment"), st.booleans(), pick, day),
    st.tuples(st.just("move"), pick, day, clock),
    st.tuples(st.just("remove"), st.booleans(), pick),
    st.tuples(st.just("add_leg"), st.integers(0, 2), st.integers(0, 2), st.booleans(), day),
    st.tuples(st.just("edit_leg"), pick, st.integers(0, 2), st.integers(0, 2), st.booleans()),
    st.tuples(st.just("delete_leg"), pick),
    st.tuples(st.just("reorder"), st.randoms(use_true_random=False)),
    st.tuples(st.just("edit_trip"), st.text(TEXT, min_size=1, max_size=10).filter(str.strip)),
    st.tuples(st.just("message"), st.text(TEXT, min_size=1, max_size=10).filter(str.strip)),
)


def leg_body(flights: int, stays: int, car: bool, start: str) -> dict:
    return {
        "flights": [
            {"from": "A", "to": f"B{i}", "departureTime": f"{start}T0{i}:15"} for i in range(flights)
        ],
        "stays": [{"name": f"Stay {i}", "checkIn": f"{start}T1{i}:00"} for i in range(stays)],
        "rentalCar": {"company": "Car", "pickupTime": f"{start}T09:00"} if car else None,
    }


class Editor:
    def __init__(self, actor, trip_id: str) -> None:
        self.http = actor.http
        self.trip_id = trip_id
        self.path = f"/trips/{trip_id}"

    async def itinerary(self) -> dict:
        return (await self.http.get(f"{self.path}/itinerary")).json()

    async def op(self, kind: str, payload: dict) -> None:
        revision = (await self.itinerary())["revision"]
        response = await self.http.post(
            f"{self.path}/ops", json={"base_revision": revision, "type": kind, "payload": payload}
        )
        assert response.status_code == 200 or response.json()["error"]["code"] == "OPERATION_REJECTED", (
            response.text
        )

    async def ids(self, resource: str) -> list[str]:
        return [row["_id"] for row in (await self.http.get(f"{self.path}/{resource}")).json()["items"]]

    async def apply(self, step: tuple) -> None:
        kind, *args = step
        if kind == "add_commitment":
            via_op, date, time, all_day = args
            body = {"title": "C", "startDate": date, "category": "activity", "isAllDay": all_day}
            if time:
                body["startTime"] = time
            if via_op:
                await self.op("add_event", body)
            else:
                assert (await self.http.post(f"{self.path}/commitments", json=body)).status_code == 201
        elif kind == "edit_commitment":
            via_op, index, date = args
            ids = await self.ids("commitments")
            if ids:
                target = ids[index % len(ids)]
                if via_op:
                    await self.op("update_event", {"event_id": target, "startDate": date, "title": "edited"})
                else:
                    response = await self.http.patch(
                        f"{self.path}/commitments/{target}", json={"startDate": date, "notes": "n"}
                    )
                    assert response.status_code == 200
        elif kind == "move":
            index, date, time = args
            events = (await self.itinerary())["events"]
            if events:
                payload = {"event_id": events[index % len(events)]["id"], "date": date}
                if time:
                    payload["time"] = time
                await self.op("move_event", payload)
        elif kind == "remove":
            via_op, index = args
            if via_op:
                events = (await self.itinerary())["events"]
                if events:
                    await self.op("remove_event", {"event_id": events[index % len(events)]["id"]})
            elif ids := await self.ids("commitments"):
                assert (
                    await self.http.delete(f"{self.path}/commitments/{ids[index % len(ids)]}")
                ).status_code == 204
        elif kind == "add_leg":
            flights, stays, car, start = args
            body = {
                "order": 0,
                "title": "L",
                "destination": "D",
                "startDate": start,
                "endDate": start,
                "timezone": "Europe/Paris",
                **leg_body(flights, stays, car, start),
            }
            assert (await self.http.post(f"{self.path}/legs", json=body)).status_code == 201
        elif kind == "edit_leg":
            index, flights, stays, car = args
            if ids := await self.ids("legs"):
                leg_id = ids[index % len(ids)]
                leg = (await self.http.get(f"{self.path}/legs/{leg_id}")).json()
                body = leg_body(flights, stays, car, leg["startDate"])
                assert (await self.http.patch(f"{self.path}/legs/{leg_id}", json=body)).status_code == 200
        elif kind == "delete_leg":
            if ids := await self.ids("legs"):
                assert (
                    await self.http.delete(f"{self.path}/legs/{ids[args[0] % len(ids)]}")
                ).status_code == 204
        elif kind == "reorder":
            ids = await self.ids("legs")
            args[0].shuffle(ids)
            await self.op("reorder", {"leg_ids": ids})
        elif kind == "edit_trip":
            assert (await self.http.patch(self.path, json={"title": args[0]})).status_code == 200
        elif kind == "message":
            channel = (await self.http.get(f"{self.path}/channels")).json()["items"][0]["_id"]
            response = await self.http.post(
                f"{self.path}/channels/{channel}/messages", json={"content": args[0]}
            )
            assert response.status_code == 201


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=1, max_size=12))
async def test_diff_since_any_revision_explains_the_itinerary_now(alice, steps):
    trip = await new_trip(alice)
    editor = Editor(alice, trip["_id"])
    snapshots: dict[int, dict] = {}
    first = await editor.itinerary()
    snapshots[first["revision"]] = {e["id"]: e for e in first["events"]}
    for one in steps:
        await editor.apply(one)
        itinerary = await editor.itinerary()
        snapshots[itinerary["revision"]] = {e["id"]: e for e in itinerary["events"]}
    current = max(snapshots)
    now = snapshots[current]
    # Every content write bumped the revision exactly once, so there is a snapshot for each.
    assert sorted(snapshots) == list(range(1, current + 1))
    for since, then in snapshots.items():
        diff = (
            await alice.http.get(f"/trips/{trip['_id']}/itinerary/diff", params={"since_revision": since})
        ).json()
        assert diff["current_revision"] == current
        assert [o["result_revision"] for o in diff["operations"]] == list(range(since + 1, current + 1))
        changes = {d["event_id"]: d["change"] for d in diff["event_diffs"]}
        assert len(changes) == len(diff["event_diffs"])
        rebuilt = dict(then)
        for event_id, change in changes.items():
            if change == "removed":
                assert event_id in then and event_id not in now
                del rebuilt[event_id]
            elif change == "added":
                assert event_id not in then and event_id in now
                rebuilt[event_id] = now[event_id]
            else:
                assert event_id in then and event_id in now
                rebuilt[event_id] = now[event_id]
        assert rebuilt == now, f"diff since {since} does not explain the itinerary now"
