"""Simulated companions for `trip demo`: every little while one of them posts in the chat, and
now and then one ticks a checklist item, so the live panes have something to show."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

from app.client import TripClient, TripError
from app.demo import story
from app.demo.seed import SeededTrip


@dataclass
class Companions:
    clients: dict[str, TripClient]
    """Companion ref -> a client with that companion's key."""
    trip: SeededTrip
    interval: tuple[float, float] = (12.0, 30.0)
    tick_every: int = 3
    """Every n-th step also ticks a checklist item."""
    rng: random.Random = field(default_factory=random.Random)
    steps: int = 0

    async def step(self) -> str:
        """One companion acts; returns what happened (for logs and tests)."""
        self.steps += 1
        ref = self.rng.choice(sorted(self.clients))
        client = self.clients[ref]
        if self.steps % self.tick_every == 0:
            items = (await client.list_action_items(self.trip.trip_id, limit=200)).items
            open_items = [item for item in items if not item.done]
            if open_items:
                item = self.rng.choice(open_items)
                await client.update_action_item(self.trip.trip_id, item.id, done=True)
                return f"{ref} ticked {item.text!r}"
        channel, line = self.rng.choice(story.COMPANION_LINES)
        await client.send_message(self.trip.trip_id, self.trip.channels[channel], line)
        return f"{ref} said {line!r} in #{channel}"

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.rng.uniform(*self.interval))
            try:
                await self.step()
            except TripError:
                continue  # the demo server is going away or busy: try again next time
