"""The overlapping-commitments conflict (app/domain/timeline.py) groups commitments by two sweeps
in time order instead of comparing every pair. Its groups must be exactly the connected
components of the pairwise relation `_Slot.overlaps` (wall-clock times within one zone or
against a commitment without one, instants across two zones): checked here on random trips."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.timeline import _overlapping_commitments, _Slot

ZONES = [None, "Europe/Lisbon", "Europe/Madrid", "America/New_York", "Asia/Tokyo", "Not/AZone"]
LEGS = {"leg-tokyo": {"timezone": "Asia/Tokyo"}, "leg-none": {"timezone": None}}


@st.composite
def commitment(draw, index: int) -> dict:
    start = draw(st.integers(0, 23 * 60))
    length = draw(st.one_of(st.none(), st.integers(-30, 12 * 60)))  # no end, or an end before the start
    end = None if length is None else min(start + length, 23 * 60 + 59)
    return {
        "id": f"c{index}",
        "title": f"Commitment {index}",
        "start_date": f"2026-07-{draw(st.integers(14, 16)):02d}",
        "start_time": f"{start // 60:02d}:{start % 60:02d}",
        "end_time": None if end is None else f"{max(end, 0) // 60:02d}:{max(end, 0) % 60:02d}",
        "is_all_day": draw(st.booleans()) and draw(st.booleans()),  # one in four
        "timezone": draw(st.sampled_from(ZONES)),
        "leg_id": draw(st.sampled_from([None, "leg-tokyo", "leg-none", "leg-gone"])),
    }


@st.composite
def commitments(draw) -> list[dict]:
    count = draw(st.integers(0, 14))
    return [draw(commitment(index)) for index in range(count)]


def pairwise_groups(rows: list[dict]) -> set[frozenset[str]]:
    """Connected components of `_Slot.overlaps`, by comparing every pair: the specification."""
    slots = []
    for row in rows:
        if row["is_all_day"] or not row["start_time"]:
            continue
        zone = row["timezone"]
        if zone is None and row["leg_id"] in LEGS:
            zone = LEGS[row["leg_id"]]["timezone"]
        slots.append(_Slot(row, zone))
    group_of = {slot.id: {slot.id} for slot in slots}
    for i, a in enumerate(slots):
        for b in slots[i + 1 :]:
            if a.overlaps(b) and group_of[a.id] is not group_of[b.id]:
                merged = group_of[a.id] | group_of[b.id]
                for member in merged:
                    group_of[member] = merged
    return {frozenset(group) for group in group_of.values() if len(group) > 1}


@settings(max_examples=300, deadline=None)
@given(commitments())
def test_the_sweep_finds_the_groups_that_pairwise_comparison_finds(rows):
    found = {frozenset(conflict["event_ids"]) for conflict in _overlapping_commitments(rows, LEGS)}
    assert found == pairwise_groups(rows)
