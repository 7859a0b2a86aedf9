"""Import files: parsing, chunk planning within the sync limits, results mapped back to the file."""

from __future__ import annotations

import json

import pytest

from app.domain import SyncResult
from app.formats.snapshot import (
    SnapshotError,
    parse_snapshot,
    plan_chunks,
    repeated_client_refs,
    sync_in_chunks,
)
from tests.formats.sample import export, leg, pin


def legs(n: int, prefix: str = "leg") -> list[dict]:
    return [
        {
            "order": i,
            "title": f"{prefix} {i}",
            "destination": "X",
            "startDate": "2026-07-01",
            "endDate": "2026-07-02",
            "timezone": "UTC",
            "clientRef": f"{prefix}-{i}",
        }
        for i in range(n)
    ]


def test_an_export_file_imports_without_its_stored_fields():
    data = export(legs=[leg()], pins=[pin()]).model_dump(mode="json", by_alias=True)
    snapshot = parse_snapshot(data)
    assert set(snapshot.items) == {"legs", "actionItems", "mapPins"}
    assert "_id" not in snapshot.items["legs"][0] and "tripId" not in snapshot.items["mapPins"][0]
    assert snapshot.items["legs"][0]["title"] == "London"
    assert snapshot.skipped == ["trip"]  # empty commitments and members are not worth a word
    assert snapshot.total == 2


@pytest.mark.parametrize(
    "data, message",
    [
        ([], "JSON object"),
        ({"legs": {}}, "legs must be a list"),
        ({"leg": []}, "unknown top-level keys: 'leg'"),
        ({"commitments": [{"title": "x"}]}, "nothing to import"),
    ],
)
def test_files_that_are_not_snapshots_are_refused(data, message):
    with pytest.raises(SnapshotError, match=message):
        parse_snapshot(data)


def test_chunks_hold_at_most_500_per_category_in_file_order():
    snapshot = parse_snapshot(
        {"legs": legs(1201), "mapPins": [{"name": f"p{i}", "lat": 0, "lng": 0} for i in range(10)]}
    )
    chunks = plan_chunks(snapshot)
    assert [(len(c.items.get("legs", [])), len(c.items.get("mapPins", []))) for c in chunks] == [
        (500, 0),
        (500, 0),
        (201, 10),
    ]
    assert [c.offsets["legs"] for c in chunks] == [0, 500, 1000]
    flattened = [item for c in chunks for item in c.items.get("legs", [])]
    assert flattened == snapshot.items["legs"]


def test_chunks_stay_under_the_body_budget():
    big = [{"name": "x" * 5_000, "lat": 0, "lng": 0} for _ in range(400)]
    chunks = plan_chunks(parse_snapshot({"mapPins": big}), max_bytes=900_000)
    assert len(chunks) == 3
    for chunk in chunks:
        assert len(json.dumps(chunk.items).encode()) <= 900_000
    huge = plan_chunks(parse_snapshot({"mapPins": [{"name": "y" * 2_000_000}]}), max_bytes=900_000)
    assert len(huge) == 1  # alone, for the service to refuse with 413


async def test_results_map_back_to_file_positions():
    # (An item that is not an object is refused with the file before anything is sent: see
    # test_import_refuses_a_hostile_file_in_one_line_with_exit_2.)
    snapshot = parse_snapshot(
        {
            "legs": legs(1100),
            "actionItems": [
                {"text": "a", "urgency": "now"},
                {"text": "", "urgency": "now", "clientRef": "bad"},
            ],
        }
    )
    chunks = plan_chunks(snapshot)
    sent: list[tuple[dict, bool]] = []
    steps: list[int] = []

    async def send(items, dry_run):
        sent.append((items, dry_run))

        def category(name):
            results = []
            for i, item in enumerate(items.get(name, [])):
                if item.get("clientRef") not in ("leg-1050", "bad"):
                    results.append({"index": i, "status": "created", "_id": f"id-{name}-{i}"})
                else:
                    results.append(
                        {
                            "index": i,
                            "status": "error",
                            "error": {"code": "VALIDATION_ERROR", "message": "bad", "details": []},
                        }
                    )
            return {
                "created": sum(r["status"] == "created" for r in results),
                "updated": 0,
                "errors": sum(r["status"] == "error" for r in results),
                "items": results,
            }

        return SyncResult.model_validate(
            {
                "dryRun": dry_run,
                "legs": category("legs"),
                "actionItems": category("actionItems"),
                "mapPins": category("mapPins"),
            }
        )

    outcome = await sync_in_chunks(send, chunks, dry_run=True, progress=steps.append)
    assert all(dry_run for _, dry_run in sent) and sum(steps) == snapshot.total == 1102
    assert outcome.count("legs", "created") == 1099 and outcome.count("actionItems", "created") == 1
    assert [(e.category, e.index) for e in outcome.errors] == [("legs", 1050), ("actionItems", 1)]
    assert outcome.changes == 1100


def test_repeated_client_refs_are_found():
    data = {"legs": legs(3) + legs(1), "mapPins": [{"clientRef": "a"}, {"clientRef": "b"}]}
    assert repeated_client_refs(parse_snapshot(data)) == {"legs": ["leg-0"]}
