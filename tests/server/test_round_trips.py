"""What the busiest requests send to PostgreSQL (issue 18): each statement is a round trip, and
on the hot paths round trips are most of the server's cost. A budget per request, statement by
statement, so a change that adds one is seen and argued for.

Every statement asyncpg sends on the app's pooled connections is logged (asyncpg's query
loggers, added at checkout); the LISTEN connection of the waker is not pooled and not counted."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable

import pytest
from sqlalchemy import event

from tests.conftest import new_trip

pytestmark = pytest.mark.postgres


def kind(sql: str) -> str:
    """A statement named by what it does: `BEGIN`, `insert messages + notify`, `claim key`..."""
    words = re.sub(r"\s+", " ", sql).strip().rstrip(";")
    upper = words.upper()
    if upper.startswith("WITH CLAIM_LOCK"):
        return "claim key"
    if written := re.match(r"(INSERT INTO|UPDATE|DELETE FROM) (\w+)", upper):
        verb, table = written.group(1).split()[0].lower(), written.group(2).lower()
        return f"{verb} {table}" + (" + notify" if "PG_NOTIFY" in upper else "")
    if "PG_NOTIFY" in upper:
        return "notify"
    if upper.startswith("SELECT") and "FOR NO KEY UPDATE OF TRIPS" in upper:
        return "check and lock trip"
    if upper.startswith("SELECT"):
        return "select " + words.split(" FROM ")[1].split()[0]
    return upper.split(" ISOLATION")[0]


class Statements(list):
    async def of(self, request: Awaitable):
        """`request`'s answer; this list then holds the statements it sent, as `kind`s."""
        await asyncio.sleep(0.05)  # asyncpg calls its loggers soon after a statement, not at once
        self.clear()
        answer = await request
        await asyncio.sleep(0.05)
        return answer


@pytest.fixture
def statements(server) -> Statements:
    """Every statement sent on the app's pooled connections, as `kind`s."""
    sent = Statements()

    # Not per request, and in the background: the rate limits' counts, settled in batches, and
    # a key's last use, written at most once a minute (auth.KeyUse).
    background = ("INSERT INTO rate_limit_windows", "UPDATE api_keys")

    def log(query) -> None:
        if not query.query.startswith(background):
            sent.append(kind(query.query))

    def watch(dbapi_connection, _record, _proxy) -> None:
        dbapi_connection.driver_connection.add_query_logger(log)

    event.listen(server.db.write_engine.sync_engine, "checkout", watch)
    yield sent
    event.remove(server.db.write_engine.sync_engine, "checkout", watch)


async def test_a_message_is_four_statements(alice, trip, statements):
    channel = (await alice.http.get(f"/trips/{trip['_id']}/channels")).json()["items"][0]["_id"]
    await alice.http.get("/me")  # warm: the key and the member caches
    await alice.http.post(f"/trips/{trip['_id']}/channels/{channel}/messages", json={"content": "warm"})

    sent = await statements.of(
        alice.http.post(f"/trips/{trip['_id']}/channels/{channel}/messages", json={"content": "hi"})
    )
    assert sent.status_code == 201, sent.text
    assert statements == ["BEGIN", "check and lock trip", "insert messages + notify", "COMMIT"]


async def test_a_message_with_an_idempotency_key_is_six_statements(alice, trip, statements):
    channel = (await alice.http.get(f"/trips/{trip['_id']}/channels")).json()["items"][0]["_id"]
    path = f"/trips/{trip['_id']}/channels/{channel}/messages"
    await alice.http.post(path, json={"content": "warm"}, headers={"Idempotency-Key": str(uuid.uuid4())})

    sent = await statements.of(
        alice.http.post(path, json={"content": "hi"}, headers={"Idempotency-Key": str(uuid.uuid4())})
    )
    assert sent.status_code == 201, sent.text
    assert statements == [
        "BEGIN",
        "claim key",
        "check and lock trip",
        "insert messages",
        "update idempotency_records + notify",
        "COMMIT",
    ]


async def test_me_sends_nothing_once_cached(alice, statements):
    await alice.http.get("/me")
    assert (await statements.of(alice.http.get("/me"))).status_code == 200
    assert statements == []


async def test_a_message_to_another_trips_channel_takes_no_lock_and_writes_nothing(make_actor, statements):
    ann, bea = await make_actor(), await make_actor()
    mine, theirs = await new_trip(ann), await new_trip(bea)
    their_channel = (await bea.http.get(f"/trips/{theirs['_id']}/channels")).json()["items"][0]["_id"]

    sent = await statements.of(
        ann.http.post(f"/trips/{mine['_id']}/channels/{their_channel}/messages", json={"content": "hi"})
    )
    assert sent.status_code == 404, sent.text
    assert "insert messages" not in statements and "notify" not in statements
