"""The activity tools against the real service in-process: an agent reads who changed what and
undoes its own mistake; a revert that would undo someone's later change is an error naming it."""

from __future__ import annotations

from tests.mcp.test_tools import LEG, call, connect, fail, new_trip


async def test_an_agent_undoes_its_own_mistake(server, alice, bob):
    async with connect(server, alice.key) as agent:
        trip_id = (await new_trip(agent))["_id"]
        await call(agent, "add_member", trip_id=trip_id, email=bob.email, role="editor")
        leg = await call(agent, "add_leg", trip_id=trip_id, leg=LEG)
        await call(agent, "update_leg", trip_id=trip_id, leg_id=leg["_id"], changes={"destination": "Osaka"})
        feed = await call(agent, "list_activity", trip_id=trip_id, limit=1)
        (mistake,) = feed["items"]
        assert mistake["summary"] == "Alice changed the destination of “Tokyo”"
        assert mistake["actor"]["userId"] == alice.user_id and feed["nextCursor"]
        revision = (await call(agent, "get_trip", trip_id=trip_id))["revision"]
        undone = await call(
            agent, "revert_operation", trip_id=trip_id, op_id=mistake["op_id"], base_revision=revision
        )
        assert undone["revision"] == revision + 1 and undone["operation"]["reverts"] == mistake["op_id"]
        assert (await call(agent, "get_leg", trip_id=trip_id, leg_id=leg["_id"]))["destination"] == "Tokyo"

        # Bob renames the leg; undoing Alice's add of it would delete his change too: refused, named.
        response = await bob.http.patch(f"/trips/{trip_id}/legs/{leg['_id']}", json={"title": "Tōkyō"})
        assert response.status_code == 200
        added = (await call(agent, "list_activity", trip_id=trip_id))["items"][-1]
        assert added["summary"] == "Alice added the leg “Tokyo”"
        revision = (await call(agent, "get_trip", trip_id=trip_id))["revision"]
        error = await fail(
            agent, "revert_operation", trip_id=trip_id, op_id=added["op_id"], base_revision=revision
        )
        assert (error["status"], error["code"]) == (409, "REVERT_CONFLICT")
        assert [op["summary"] for op in error["conflictingOperations"]] == [
            "Bob renamed the leg “Tokyo” to “Tōkyō”"
        ]
