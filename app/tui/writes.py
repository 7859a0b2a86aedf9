"""`TripWrites`: the trip screen's writes besides the item forms (delete a row, tick an item, move
a leg, edit the trip, add a channel, export, undo), each sent now or kept in the outbox, without
widgets: it reports through the session's messages."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from textual.message import Message

from app.client import NotSupportedError, StaleRevisionError, TripConnectionError, TripError
from app.domain.itinerary import ItineraryDiff
from app.domain.models import ActionItem, Trip
from app.tui import editing
from app.tui.data import Paged
from app.tui.forms import ChangedOnServer, FieldSpec, Queued, Save, changed_fields, request_body
from app.tui.kinds import KINDS
from app.tui.outbox import Item, PendingWrite, new_key
from app.tui.session import TripSession
from app.tui.text import clean

TRIP_FIELDS = [
    FieldSpec("title", "Title", required=True),
    FieldSpec("startDate", "Start date", placeholder="YYYY-MM-DD", required=True),
    FieldSpec("endDate", "End date", placeholder="YYYY-MM-DD", required=True),
]
"""What the edit-trip form shows."""


class TripWrites:
    @dataclass
    class Written(Message):
        """The service has it (or it waits in the outbox: `saved` is a `Queued`)."""

        name: str
        saved: Any

    @dataclass
    class Waiting(Message):
        """A write waits in the outbox: show it, and send what waits if the service answers."""

        label: str

    @dataclass
    class Said(Message):
        """Something to tell the user in a notice."""

        text: str
        title: str = ""
        severity: str = "information"
        timeout: float = 4

    @dataclass
    class LegMoved(Message):
        leg_id: str

    @dataclass
    class MoveRefused(Message):
        """Someone changed the trip first: their operations, and the move to apply again or drop."""

        what: str
        diff: ItineraryDiff | None
        leg_id: str
        step: int

    def __init__(self, session: TripSession) -> None:
        self.session = session
        self._move_lock = asyncio.Lock()

    @property
    def trip_id(self) -> str:
        return self.session.trip_id

    def _post(self, message: Message) -> None:
        self.session.post(message)

    def _outbox_waiting(self) -> bool:
        """Earlier writes or messages of this trip wait in the outbox: a new write goes behind them."""
        outbox = self.session.outbox
        return outbox is not None and outbox.waiting(self.trip_id)

    def _queue(
        self,
        name: str,
        action: str,
        row_id: str | None,
        *,
        label: str,
        key: str,
        body: dict[str, Any] | None = None,
        base: dict[str, Any] | None = None,
    ) -> None:
        """Keep a write the service could not take (or that must wait its turn) in the outbox."""
        outbox = self.session.outbox
        assert outbox is not None
        outbox.add_write(
            self.trip_id, name, action, row_id, body=body, base=base, label=label, idempotency_key=key
        )
        self._post(
            self.Said(
                f'"{clean(label, single_line=True)}" is saved on this computer, not yet on the service: '
                "it is sent as soon as the service can be reached (see the outbox bar).",
                title="Queued",
                timeout=6,
            )
        )
        self._post(self.Waiting(label))

    # --- rows ------------------------------------------------------------------------------

    def delete(self, name: str, row_id: str, label: str) -> None:
        if self.session.live:
            self.session.run(
                partial(self._delete, name, row_id, label), group="write", description="Deleting"
            )

    async def _delete(self, name: str, row_id: str, label: str) -> None:
        key = new_key()  # kept if the delete has to wait in the outbox: a resend cannot delete twice
        if not self._outbox_waiting():
            try:
                await KINDS[name].delete(self.session.client)(self.trip_id, row_id, idempotency_key=key)
            except TripConnectionError:
                pass
            else:
                self._post(self.Written(name, True))
                return
        self._queue(name, "delete", row_id, label=label, key=key)

    def tick(self, item: ActionItem, done: bool) -> None:
        if self.session.live:
            self.session.run(partial(self._tick, item, done), group="write", description="Ticking the item")

    async def _tick(self, item: ActionItem, done: bool) -> None:
        key = new_key()  # kept if the tick has to wait in the outbox
        body = {"done": done}
        if not self._outbox_waiting():
            try:
                await self.session.client.update_action_item(self.trip_id, item.id, body, idempotency_key=key)
            except TripConnectionError:
                pass
            else:
                self._post(self.Written("action_items", True))
                return
        self._queue(
            "action_items",
            "update",
            item.id,
            body=body,
            key=key,
            base=editing.comparable("action_items", item),
            label=f"{'tick' if done else 'untick'} {item.text}",
        )

    # --- moving a leg ------------------------------------------------------------------------

    def move_leg(self, leg_id: str, step: int) -> None:
        if self.session.live:
            self.session.run(
                partial(self._move_leg, leg_id, step), group="reorder", description="Moving the leg"
            )

    async def _move_leg(self, leg_id: str, step: int) -> None:
        """One `reorder` op checked against the revision the list on screen came from. Moves run
        one after another (a quick K K must not race itself). When someone changed the trip
        first, show their operations and let the user decide."""
        session, client = self.session, self.session.client
        async with self._move_lock:
            data = session.data
            if data is None:
                return
            base_revision = data.trip.revision
            order = [leg.id for leg in data.legs.items]
            new_order = editing.moved(order, leg_id, step)
            if new_order == order:
                return
            try:
                result = await client.apply_op(
                    self.trip_id, base_revision=base_revision, type="reorder", payload={"leg_ids": new_order}
                )
            except NotSupportedError:  # no ops on this service: plain PATCHes of `order`
                await self._reorder_by_patch(leg_id, new_order)
                return
            except StaleRevisionError:
                try:
                    diff = await client.get_itinerary_diff(self.trip_id, base_revision)
                except TripError:
                    diff = None
                title = next((leg.title for leg in data.legs.items if leg.id == leg_id), leg_id)
                what = f"move {title} {'up' if step < 0 else 'down'}"
                self._post(self.MoveRefused(what, diff, leg_id, step))
                return
            by_id = {leg.id: leg for leg in data.legs.items}
            data.legs.items = [by_id[i] for i in new_order if i in by_id]
            data.trip = data.trip.model_copy(update={"revision": result.new_revision})
            self._post(self.LegMoved(leg_id))
        self._post(self.Written("legs", True))

    async def _reorder_by_patch(self, leg_id: str, new_order: list[str]) -> None:
        from app.tui.reorder import reorder_by_patch

        data = self.session.data
        assert data is not None
        legs = await reorder_by_patch(self.session.client, self.trip_id, data.legs.items, new_order)
        if legs is None:
            self._post(
                self.Said(
                    "Someone changed the legs meanwhile: here is their order; move again if you still want to.",
                    title="Not moved",
                    severity="warning",
                    timeout=8,
                )
            )
        else:
            data.legs.items = legs
            self._post(self.LegMoved(leg_id))
        self._post(self.Written("legs", True))

    def move_again(self, leg_id: str, step: int) -> None:
        self.session.run(
            partial(self._move_again, leg_id, step), group="reorder", description="Moving the leg again"
        )

    async def _move_again(self, leg_id: str, step: int) -> None:
        """The same move on the trip as it is now: the fresh revision and every leg's order."""
        client = self.session.client
        trip = await client.get_trip(self.trip_id)
        legs = [leg async for leg in client.iterate_legs(self.trip_id, page_size=200)]
        if self.session.data is not None:
            self.session.data.trip = trip
            self.session.data.legs = Paged(legs, None)
            self._post(self.session.Redraw(frozenset({"legs"})))
        if leg_id not in {leg.id for leg in legs}:
            self._post(self.Said("That leg was deleted meanwhile; nothing to move."))
            return
        self.move_leg(leg_id, step)

    # --- the trip, channels, export, undo ------------------------------------------------------

    def trip_saver(self, loaded: Trip) -> Save:
        """save(values, overwrite) for the edit-trip form, with the same conflict check as the
        items' forms; kept in the outbox when the service cannot be reached."""
        session = self.session

        def comparable(trip: Trip) -> dict[str, Any]:
            return editing.comparable("trip", trip)  # without the revision: it moves with every item change

        def queue(body: dict[str, Any], base: Trip, key: str) -> Queued:
            editing.check("trip", "update", body)
            label = f"edit trip {base.title}"
            outbox = session.outbox
            assert outbox is not None
            outbox.add_write(
                self.trip_id,
                "trip",
                "update",
                self.trip_id,
                body=body,
                base=comparable(base),
                label=label,
                idempotency_key=key,
            )
            return Queued(label)

        async def save(values: dict[str, Any], overwrite: bool) -> Any:
            if session.writer is None:
                raise RuntimeError("no trip service to save to (fixed demo data)")
            key = new_key()  # one per save: kept if the edit has to wait in the outbox
            if self._outbox_waiting():
                body = request_body(TRIP_FIELDS, values, loaded)
                return queue(body, loaded, key) if body else loaded
            try:
                fresh = await session.writer.get_trip(self.trip_id)
            except TripConnectionError:
                body = request_body(TRIP_FIELDS, values, loaded)
                if not body:
                    raise
                return queue(body, loaded, key)
            if comparable(fresh) != comparable(loaded) and not overwrite:
                raise ChangedOnServer(
                    changed_fields(TRIP_FIELDS, loaded, fresh) or [("(status)", "", "changed")], fresh
                )
            body = request_body(TRIP_FIELDS, values, fresh)
            if not body:
                return fresh
            try:
                return await session.writer.update_trip(self.trip_id, body, idempotency_key=key)
            except TripConnectionError:
                return queue(body, fresh, key)  # it may have arrived: the key makes a resend harmless

        return save

    async def create_channel(self, values: dict[str, Any], overwrite: bool) -> Any:
        """save(values, overwrite) for the new-channel form."""
        if self.session.writer is None:
            raise RuntimeError("no trip service to save to (fixed demo data)")
        return await self.session.writer.create_channel(self.trip_id, values.get("name") or "")

    def export(self, format: str, directory: Path) -> None:
        self.session.run(
            partial(self._export, format, directory), group="export", exclusive=True, description="Exporting"
        )

    async def _export(self, format: str, directory: Path) -> None:
        """The whole trip through the export endpoint, written as an .ics calendar (legs and
        commitments, with their time zones) or GeoJSON (map pins) in the export directory."""
        import json

        from app.formats.geojson import to_geojson
        from app.formats.ics import to_ics

        exported = await self.session.client.export_trip(self.trip_id)
        if format == "ics":
            body, suffix = to_ics(exported), "ics"
        else:
            body, suffix = json.dumps(to_geojson(exported), ensure_ascii=False, indent=2), "geojson"
        path = directory / f"trip-{self.trip_id}.{suffix}"
        await asyncio.to_thread(path.write_text, body, encoding="utf-8")
        self._post(self.Said(f"Wrote {path}", timeout=6))

    def undo(self) -> None:
        self.session.run(self._undo, group="undo", exclusive=True, description="Undoing your last change")

    async def _undo(self) -> None:
        from app.tui.activity import undo_my_last

        data = self.session.data
        if data is not None and data.me is not None:
            if (refused := await self._send_before_undo()) is not None:
                self._post(self.Said(refused, title="Undo", severity="warning", timeout=8))
                return
            said = await undo_my_last(self.session.client, self.trip_id, data.me.id)
            self._post(self.Said(said, title="Undo", timeout=8))

    async def _send_before_undo(self) -> str | None:
        """Your newest change may still wait in the outbox, behind the one the service has last:
        send what waits first, so that `u` undoes it and not the one before. Returns why nothing
        may be undone: a write of yours the service has not taken (refused earlier or now, or
        unreachable)."""
        outbox, send = self.session.outbox, self.session.settings.send_outbox
        if outbox is None:
            return None
        mine = outbox.of_trip(self.trip_id)
        refused = [item for item in mine if isinstance(item, PendingWrite) and item.error]
        if refused:
            # It may be newer than anything the service has: undoing "the newest" there would
            # undo a change the user did not mean. The outbox keeps no time to tell which.
            never = refused[-1]
            return (
                f'Not undone: your change "{clean(never.label, single_line=True)}" was never sent '
                f"(the service refused it: {clean(never.error or '', single_line=True)}), so the "
                "newest change the service has may not be your newest. Retry it (R) or discard it "
                "(X), then press u again."
            )
        waiting = [item for item in mine if not item.error]
        if not waiting:
            return None
        self._post(self.Said(sending_first(waiting), title="Undo", timeout=10))
        if send is not None:
            await send(self.trip_id)
        unsent = {item.id for item in waiting}
        left = [
            item
            for item in outbox.of_trip(self.trip_id)
            if isinstance(item, PendingWrite) and item.id in unsent
        ]
        if not left:
            return None
        newest = left[-1]
        label = clean(newest.label, single_line=True)
        if newest.error:
            return f'Not undone: the service refused your newest change "{label}" (see the outbox bar).'
        return (
            f'Not undone: your newest change "{label}" has not reached the service yet. It is sent '
            "as soon as the service can be reached; press u again then."
        )


def sending_first(waiting: list[Item]) -> str:
    """What `u` says while it sends what waits: "Sending 2 queued changes and 1 message before
    undoing…" (sending may take long while the service cannot be reached)."""
    changes = sum(isinstance(item, PendingWrite) for item in waiting)
    messages = len(waiting) - changes
    parts = [
        f"{count} queued {noun}{'s' if count != 1 else ''}"
        for count, noun in ((changes, "change"), (messages, "message"))
        if count
    ]
    return f"Sending {' and '.join(parts)} before undoing…"
