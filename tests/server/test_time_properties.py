"""Properties of time truth over random zones and times (issue 17, "Done when"): an event's
`starts_at` read back in its zone is its local time (or the time was refused as a DST gap), and
the calendar export, read back with `icalendar`, gives the same instants as the itinerary."""

import datetime as dt
import zoneinfo

import icalendar
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain import TripExport
from app.domain.fields import known_zones
from app.domain.localtime import gap, zone
from app.formats.ics import to_ics
from tests.conftest import new_trip

ZONES = sorted(known_zones())
# Zones with unusual rules besides a random pick: half-hour DST, southern DST, no DST, a day lost.
SPECIAL = [
    "Australia/Lord_Howe",
    "Europe/Paris",
    "America/New_York",
    "Asia/Kolkata",
    "Pacific/Apia",
    "America/Sao_Paulo",
    "Asia/Tokyo",
    "Pacific/Chatham",
]
zones = st.one_of(st.sampled_from(SPECIAL), st.sampled_from(ZONES))
# Local times around the year, weighted towards the small hours, where the changes happen.
local_times = st.builds(
    lambda day, hour, minute: dt.datetime.combine(
        dt.date(2026, 1, 1) + dt.timedelta(days=day), dt.time(hour, minute)
    ),
    st.integers(0, 729),
    st.sampled_from([0, 1, 2, 2, 2, 3, 3, 12, 23]),
    st.sampled_from([0, 15, 30, 45, 59]),
)
LOCAL = "%Y-%m-%dT%H:%M"


def read_back(starts_at: str, zone_name: str) -> dt.datetime:
    return dt.datetime.fromisoformat(starts_at).astimezone(zoneinfo.ZoneInfo(zone_name)).replace(tzinfo=None)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(commitment_zone=zones, leg_zone=zones, flight_to=zones, start=local_times, later=local_times)
async def test_starts_at_read_back_in_its_zone_is_its_local_time(
    alice, commitment_zone, leg_zone, flight_to, start, later
):
    trip = await new_trip(alice, "Property", "2026-01-01", "2027-12-31")
    path = f"/trips/{trip['_id']}"
    response = await alice.http.post(
        f"{path}/commitments",
        json={
            "title": "c",
            "category": "other",
            "startDate": start.date().isoformat(),
            "startTime": f"{start:%H:%M}",
            "timezone": commitment_zone,
        },
    )
    in_gap = gap(start, zone(commitment_zone)) is not None
    assert response.status_code == (400 if in_gap else 201), response.text
    if in_gap:
        assert "does not exist in" in response.json()["error"]["message"]
    leg = await alice.http.post(
        f"{path}/legs",
        json={
            "order": 0,
            "title": "l",
            "destination": "d",
            "startDate": "2026-01-01",
            "endDate": "2027-12-31",
            "timezone": leg_zone,
            "stays": [{"checkIn": start.strftime(LOCAL), "checkOut": later.strftime(LOCAL)}],
            "flights": [
                {
                    "from": "??",
                    "arrivalTimezone": flight_to,
                    "departureTime": start.strftime(LOCAL),
                    "arrivalTime": later.strftime(LOCAL),
                }
            ],
        },
    )
    bad = gap(start, zone(leg_zone)) or gap(later, zone(leg_zone)) or gap(later, zone(flight_to))
    assert leg.status_code == (400 if bad else 201), leg.text
    events = (await alice.http.get(f"{path}/itinerary")).json()["events"]
    for event in events:
        assert read_back(event["starts_at"], event["timezone"]) == dt.datetime.fromisoformat(
            f"{event['date']}T{event['time']}"
        )
        if event["ends_at"]:
            end_zone = event["end_timezone"] or event["timezone"]
            assert read_back(event["ends_at"], end_zone) == dt.datetime.fromisoformat(
                f"{event['end_date']}T{event['end_time']}"
            )
    if not bad:
        export = TripExport.model_validate((await alice.http.get(f"{path}/export")).json())
        ics = {
            str(e["UID"]).removesuffix("@tripdeck"): e
            for e in icalendar.Calendar.from_ical(to_ics(export)).walk("VEVENT")
        }
        # The calendar gives the same instants as the itinerary.
        for event in events:
            component = ics[event["id"]]
            assert component.decoded("DTSTART") == dt.datetime.fromisoformat(event["starts_at"]), event
            if event["type"] == "flight" and "DTEND" in component:
                assert component.decoded("DTEND") == dt.datetime.fromisoformat(event["ends_at"]), event
            if event["type"] == "accommodation":
                check_out = ics[f"{event['id']}.check-out"]
                assert check_out.decoded("DTSTART") == dt.datetime.fromisoformat(event["ends_at"]), event


def _walked_gap(local, tz):
    """The gap found minute by minute (the obvious, slow way), to check the fast one against."""
    import datetime as dt

    from app.domain.localtime import exists

    if exists(local, tz):
        return None
    minute = dt.timedelta(minutes=1)
    start, end = local, local + minute
    while not exists(start - minute, tz):
        start -= minute
    while not exists(end, tz):
        end += minute
    return start, end


@pytest.mark.parametrize(
    "name, local",
    [
        ("Europe/Paris", "2027-03-28T02:30"),
        ("America/New_York", "2027-03-14T02:00"),
        ("Australia/Lord_Howe", "2027-10-03T02:15"),
        ("Pacific/Apia", "2011-12-30T12:00"),
        ("Pacific/Apia", "2011-12-30T00:00"),
        ("Pacific/Apia", "2011-12-30T23:59"),
        ("Asia/Tokyo", "2027-03-28T02:30"),
    ],
)
def test_a_gap_is_found_exactly_and_cheaply(name, local):
    """Samoa skipped a whole day: a minute-by-minute search walked 1,440 minutes there, so a few KB
    of stays in that day froze the server (an outside probe's finding); the search is bounded."""
    import datetime as dt
    import time
    import zoneinfo

    from app.domain.localtime import gap

    tz, moment = zoneinfo.ZoneInfo(name), dt.datetime.fromisoformat(local)
    found = gap(moment, tz)
    assert (None if found is None else (found.start, found.end)) == _walked_gap(moment, tz)
    started = time.process_time()
    for _ in range(200):
        gap(moment, tz)
    assert time.process_time() - started < 0.5  # the walk took several times this for 200 Apia times
