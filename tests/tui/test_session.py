"""`TripSession` without a screen: it reads a trip, pages a list, asks for the summary and goes
offline and back, reporting each as a message, against the real server in-process."""

from __future__ import annotations

import asyncio
from typing import Any

from textual.message import Message

from app.client import TripClient
from app.tui.data import PAGE
from app.tui.session import Settings, TripSession
from tests.conftest import BASE, new_trip
from tests.tui.conftest import SwitchableTransport


class Harness:
    """What a screen gives a session: somewhere to post messages and a way to run its work."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.tasks: list[asyncio.Task[Any]] = []

    def post(self, message: Message) -> None:
        self.messages.append(message)

    def run(self, work, *, group: str, description: str, exclusive: bool = False) -> None:
        self.tasks.append(asyncio.ensure_future(work()))

    async def next(self, kind: type[Message], timeout: float = 10.0) -> Any:
        async def wait() -> Any:
            while True:
                for message in self.messages:
                    if isinstance(message, kind):
                        self.messages.remove(message)
                        return message
                await asyncio.sleep(0.01)

        return await asyncio.wait_for(wait(), timeout)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def test_a_session_loads_pages_and_summarises_a_trip_without_a_screen(server, alice):
    trip = await new_trip(alice)
    for index in range(PAGE + 5):
        body = {"text": f"Item {index}", "urgency": "before_trip"}
        assert (await alice.http.post(f"/trips/{trip['_id']}/action-items", json=body)).status_code == 201
    transport = SwitchableTransport(server.app)
    client = TripClient(api_key=alice.key, base_url=BASE, transport=transport, max_retries=0)
    harness = Harness()
    session = TripSession(trip["_id"], Settings(client), post=harness.post, run=harness.run)
    try:
        session.load()
        loaded = await harness.next(TripSession.Loaded)
        assert loaded.data.trip.id == trip["_id"] and len(loaded.data.action_items.items) == PAGE
        session.arrived(loaded.data, loaded.cursor)
        assert session.data is loaded.data

        session.near_end("action_items")
        redraw = await harness.next(TripSession.Redraw)
        assert redraw.kinds == {"action_items"} and len(session.data.action_items.items) == PAGE + 5

        session.load_summary()
        await harness.next(TripSession.Redraw)
        assert session.data.summary is not None

        transport.offline = True
        session.load()
        offline = await harness.next(TripSession.WentOffline)
        assert offline.reason is None  # unreachable, not refused
        await harness.next(TripSession.Unavailable)
        transport.offline = False
        assert not (await harness.next(TripSession.CameBack)).reload
        await harness.next(TripSession.Loaded)
    finally:
        await harness.close()
        await client.aclose()
