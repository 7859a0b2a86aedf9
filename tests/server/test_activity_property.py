"""Property: after any sequence of creates, edits, moves, reorders and deletes (REST, ops, batch
and sync, with reverts among them), reverting every one of them, newest first, gives back the
trip's export exactly as it was (ids, creation times and links included); only the revision has
moved on."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import new_trip
from tests.server.test_itinerary_diff_property import TEXT, Editor, step

extra_step = st.one_of(
    st.tuples(st.just("add_pin"), st.floats(-80, 80), st.booleans()),
    st.tuples(
        st.just("edit_pin"), st.integers(0, 50), st.text(TEXT, min_size=1, max_size=8).filter(str.strip)
    ),
    st.tuples(st.just("delete_pin"), st.integers(0, 50)),
    st.tuples(st.just("add_item"), st.sampled_from(["now", "before_trip", "nice_to_have"])),
    st.tuples(st.just("toggle_item"), st.integers(0, 50)),
    st.tuples(st.just("delete_item"), st.integers(0, 50)),
    st.tuples(st.just("batch_legs"), st.integers(1, 3), st.booleans()),
    st.tuples(st.just("sync"), st.integers(0, 2)),
    st.tuples(
        st.just("trip_dates"), st.sampled_from([("2026-07-14", "2026-07-22"), ("2026-07-15", "2026-07-25")])
    ),
    st.tuples(st.just("door_code"), st.integers(0, 50), st.text("0123456789", min_size=4, max_size=6)),
    st.tuples(st.just("revert"), st.integers(0, 50)),
)


class Reverter(Editor):
    async def apply(self, one: tuple) -> None:
        kind, *args = one
        path, http = self.path, self.http
        if kind == "message":
            return  # messages are not operations
        if kind == "add_pin":
            lat, linked = args
            response = await http.post(
                f"{path}/map-pins", json={"name": "P", "lat": lat, "lng": 2.5, "notes": "n"}
            )
            assert response.status_code == 201
            if linked and (ids := await self.ids("commitments")):  # a commitment now points at it
                assert (
                    await http.patch(
                        f"{path}/commitments/{ids[0]}", json={"mapPinId": response.json()["_id"]}
                    )
                ).status_code == 200
        elif kind == "edit_pin":
            if ids := await self.ids("map-pins"):
                assert (
                    await http.patch(f"{path}/map-pins/{ids[args[0] % len(ids)]}", json={"name": args[1]})
                ).status_code == 200
        elif kind == "delete_pin":
            if ids := await self.ids("map-pins"):
                assert (await http.delete(f"{path}/map-pins/{ids[args[0] % len(ids)]}")).status_code == 204
        elif kind == "add_item":
            assert (
                await http.post(f"{path}/action-items", json={"text": "Do", "urgency": args[0]})
            ).status_code == 201
        elif kind == "toggle_item":
            if items := (await http.get(f"{path}/action-items")).json()["items"]:
                item = items[args[0] % len(items)]
                assert (
                    await http.patch(f"{path}/action-items/{item['_id']}", json={"done": not item["done"]})
                ).status_code == 200
        elif kind == "delete_item":
            if ids := await self.ids("action-items"):
                assert (
                    await http.delete(f"{path}/action-items/{ids[args[0] % len(ids)]}")
                ).status_code == 204
        elif kind == "batch_legs":
            count, reuse = args
            items = [
                {
                    "clientRef": f"b{i}" if reuse else None,
                    "order": 5 + i,
                    "title": f"B{i}",
                    "destination": "D",
                    "startDate": "2026-07-16",
                    "endDate": "2026-07-17",
                    "timezone": "Europe/Madrid",
                }
                for i in range(count)
            ]
            items = [{k: v for k, v in body.items() if v is not None} for body in items]
            assert (await http.post(f"{path}/legs:batch", json={"items": items})).status_code == 200
        elif kind == "sync":
            body = {
                "mapPins": [{"clientRef": "s-pin", "name": f"Synced {args[0]}", "lat": 1.0, "lng": 2.0}],
                "actionItems": [{"clientRef": "s-item", "text": f"Synced {args[0]}", "urgency": "now"}],
            }
            assert (await http.post(f"{path}/sync", json=body)).status_code == 200
        elif kind == "trip_dates":
            start, end = args[0]
            assert (await http.patch(path, json={"startDate": start, "endDate": end})).status_code == 200
        elif kind == "revert":  # an undo in the middle (of any change, an undo too): applied or refused whole
            if ops := (await http.get(f"{path}/operations", params={"limit": 200})).json()["items"]:
                op = ops[args[0] % len(ops)]
                revision = (await http.get(path)).json()["revision"]
                response = await http.post(
                    f"{path}/operations/{op['op_id']}/revert", json={"base_revision": revision}
                )
                assert response.status_code == 200 or response.json()["error"]["code"] == "REVERT_CONFLICT", (
                    response.text
                )
        elif kind == "door_code":
            if ids := await self.ids("legs"):
                leg_id = ids[args[0] % len(ids)]
                response = await http.patch(
                    f"{path}/legs/{leg_id}", json={"accommodation": {"name": "Flat", "doorCode": args[1]}}
                )
                assert response.status_code == 200
        else:
            await super().apply(one)


async def export(http, trip_id: str) -> dict:
    snapshot = (await http.get(f"/trips/{trip_id}/export")).json()
    snapshot["trip"].pop("revision")
    return snapshot


async def seed(http, trip_id: str) -> None:
    """Something to edit, move and delete from the start, with links between the rows."""
    path = f"/trips/{trip_id}"
    leg = (
        await http.post(
            f"{path}/legs",
            json={
                "order": 1,
                "title": "Lisbon",
                "destination": "Lisbon",
                "startDate": "2026-07-15",
                "endDate": "2026-07-18",
                "timezone": "Europe/Lisbon",
                "accommodation": {"name": "Flat", "doorCode": "4711", "checkIn": "2026-07-15T15:00"},
                "flights": [
                    {
                        "from": "LHR",
                        "to": "LIS",
                        "departureTime": "2026-07-15T09:00",
                        "arrivalTime": "2026-07-15T11:40",
                    }
                ],
            },
        )
    ).json()
    await http.post(
        f"{path}/legs",
        json={
            "order": 2,
            "title": "Seville",
            "destination": "Seville",
            "startDate": "2026-07-18",
            "endDate": "2026-07-22",
            "timezone": "Europe/Madrid",
            "clientRef": "seville",
        },
    )
    pin = (await http.post(f"{path}/map-pins", json={"name": "Alfama", "lat": 38.71, "lng": -9.13})).json()
    await http.post(
        f"{path}/commitments",
        json={
            "title": "Fado",
            "startDate": "2026-07-16",
            "category": "activity",
            "startTime": "20:00",
            "endTime": "22:00",
            "legId": leg["_id"],
            "mapPinId": pin["_id"],
        },
    )
    await http.post(f"{path}/action-items", json={"text": "Book tram", "urgency": "now", "clientRef": "tram"})


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(st.one_of(step, extra_step), min_size=1, max_size=10))
async def test_reverting_everything_newest_first_restores_the_export(alice, steps):
    trip = await new_trip(alice)
    trip_id = trip["_id"]
    await seed(alice.http, trip_id)
    original = await export(alice.http, trip_id)
    base = (await alice.http.get(f"/trips/{trip_id}")).json()["revision"]
    editor = Reverter(alice, trip_id)
    for one in steps:
        await editor.apply(one)
    feed = (await alice.http.get(f"/trips/{trip_id}/operations", params={"limit": 200})).json()["items"]
    done = [op for op in feed if op["result_revision"] > base]
    for op in done:  # newest first
        revision = (await alice.http.get(f"/trips/{trip_id}")).json()["revision"]
        response = await alice.http.post(
            f"/trips/{trip_id}/operations/{op['op_id']}/revert", json={"base_revision": revision}
        )
        assert response.status_code == 200, (op["summary"], response.text)
        assert response.json()["revision"] == revision + 1
    assert await export(alice.http, trip_id) == original
