"""The iCalendar export, read back with an independent parser (icalendar)."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import icalendar
import pytest

from app.formats.ics import to_ics
from tests.formats.sample import commitment, export, leg, pin

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
UTC = dt.UTC


def calendar(trip) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(to_ics(trip, now=NOW))


def events(trip) -> dict[str, icalendar.Event]:
    return {str(e["UID"]): e for e in calendar(trip).walk("VEVENT")}


def test_timed_events_keep_their_zone_and_instant():
    trip = export(
        legs=[
            leg(
                "tokyo",
                timezone="Asia/Tokyo",
                destination="Tokyo",
                title="Tokyo",
                startDate="2026-07-20",
                endDate="2026-07-24",
            )
        ],
        commitments=[
            commitment(
                "sushi",
                timezone=None,
                legId="tokyo",
                startDate="2026-07-21",
                startTime="19:00",
                endTime="21:30",
            ),
            commitment(
                "theatre", timezone="Europe/London", startDate="2026-07-11", startTime="19:30", endTime=None
            ),
        ],
    )
    found = events(trip)
    sushi = found["sushi@tripdeck"]
    assert sushi["DTSTART"].params["TZID"] == "Asia/Tokyo"  # from the leg: the commitment has no zone
    assert sushi.decoded("DTSTART").astimezone(UTC) == dt.datetime(2026, 7, 21, 10, 0, tzinfo=UTC)
    assert sushi.decoded("DTEND").astimezone(UTC) == dt.datetime(2026, 7, 21, 12, 30, tzinfo=UTC)
    theatre = found["theatre@tripdeck"]
    assert theatre.decoded("DTSTART").astimezone(UTC) == dt.datetime(2026, 7, 11, 18, 30, tzinfo=UTC)  # BST
    assert "DTEND" not in theatre
    leg_event = found["tokyo@tripdeck"]
    assert leg_event.decoded("DTSTART") == dt.date(2026, 7, 20)
    assert leg_event.decoded("DTEND") == dt.date(2026, 7, 25)  # the end of an all-day span is exclusive


@pytest.mark.parametrize(
    "zone",
    [
        "Europe/London",
        "America/New_York",
        "Australia/Sydney",
        "Asia/Kolkata",
        "America/Sao_Paulo",
        "Asia/Tokyo",
        "Pacific/Chatham",
    ],
)
def test_each_vtimezone_matches_the_zone_database(zone):
    trip = export(
        commitments=[
            commitment(timezone=zone, startDate="2026-03-15"),
            commitment("c2", timezone=zone, startDate="2026-11-15"),
        ]
    )
    text = to_ics(trip, now=NOW)
    timezones = list(icalendar.Calendar.from_ical(text).walk("VTIMEZONE"))
    assert [str(t["TZID"]) for t in timezones] == [zone]
    ours = timezones[0].to_tz(lookup_tzid=False)  # built from our observances, not looked up by name
    reference = zoneinfo.ZoneInfo(zone)
    moment = dt.datetime(2025, 1, 2, tzinfo=UTC)  # the zone is described from a year before the events
    while moment < dt.datetime(2027, 12, 31, tzinfo=UTC):
        assert moment.astimezone(ours).utcoffset() == moment.astimezone(reference).utcoffset(), moment
        moment += dt.timedelta(hours=13)


def test_only_zones_in_use_get_a_vtimezone_and_all_day_events_use_none():
    trip = export(legs=[leg()], commitments=[commitment(isAllDay=True, startTime=None, endTime=None)])
    cal = calendar(trip)
    assert list(cal.walk("VTIMEZONE")) == []
    dinner = {str(e["UID"]): e for e in cal.walk("VEVENT")}["c1@tripdeck"]
    assert dinner.decoded("DTSTART") == dt.date(2026, 7, 11) and dinner.decoded("DTEND") == dt.date(
        2026, 7, 12
    )


def test_a_commitment_past_midnight_ends_the_next_day_and_one_without_zone_floats():
    trip = export(
        commitments=[
            commitment("late", startTime="22:00", endTime="01:30"),
            commitment("floating", timezone=None, startTime="08:00", endTime="09:00"),
        ]
    )
    found = events(trip)
    assert found["late@tripdeck"].decoded("DTEND").replace(tzinfo=None) == dt.datetime(2026, 7, 12, 1, 30)
    floating = found["floating@tripdeck"].decoded("DTSTART")
    assert floating == dt.datetime(2026, 7, 11, 8, 0) and floating.tzinfo is None


def test_flights_stays_and_cars_are_events_without_their_secrets():
    trip = export(
        legs=[
            leg(
                stays=[
                    {
                        "name": "Flat by the river",
                        "address": "1 Thames St",
                        "checkIn": "2026-07-10T15:00",
                        "checkOut": "2026-07-14T10:00",
                        "lat": 51.5,
                        "lng": -0.1,
                        "wifiPassword": "hunter2",
                        "doorCode": "4711",
                        "hostPhone": "+44 7700 900000",
                        "confirmationNumber": "CONF-STAY",
                        "checkInInstructions": "key under the mat",
                    }
                ],
                flights=[
                    {
                        "airline": "BA",
                        "flightNumber": "BA117",
                        "from": "LHR",
                        "to": "JFK",
                        "departureTime": "2026-07-14T13:00",
                        "arrivalTime": "2026-07-14T16:00",
                        "seat": "23A",
                        "confirmationNumber": "CONF-FLIGHT",
                    }
                ],
                rentalCar={
                    "company": "Hertz",
                    "pickupLocation": "Heathrow T5",
                    "pickupTime": "2026-07-10T09:00",
                    "dropoffLocation": "Heathrow T5",
                    "dropoffTime": "2026-07-14T11:00",
                    "confirmationNumber": "CONF-CAR",
                },
            )
        ]
    )
    text = to_ics(trip, now=NOW)
    for secret in ("hunter2", "4711", "7700", "CONF-", "under the mat"):
        assert secret not in text
    found = events(trip)
    # A stay is its check-in and its check-out, each at its own time.
    check_in, check_out = (
        found["leg1.accommodation.0@tripdeck"],
        found["leg1.accommodation.0.check-out@tripdeck"],
    )
    assert (
        str(check_in["SUMMARY"]) == "Check-in: Flat by the river"
        and str(check_in["LOCATION"]) == "1 Thames St"
    )
    assert check_in.decoded("DTSTART").astimezone(UTC) == dt.datetime(2026, 7, 10, 14, 0, tzinfo=UTC)
    assert str(check_out["SUMMARY"]) == "Check-out: Flat by the river"
    assert check_out.decoded("DTSTART").astimezone(UTC) == dt.datetime(2026, 7, 14, 9, 0, tzinfo=UTC)
    flight = found["leg1.flight.0@tripdeck"]
    assert str(flight["SUMMARY"]) == "Flight BA BA117: LHR → JFK" and "23A" in str(flight["DESCRIPTION"])
    car = found["leg1.rental_car@tripdeck"]
    assert car.decoded("DTEND").astimezone(UTC) == dt.datetime(2026, 7, 14, 10, 0, tzinfo=UTC)


def test_a_flight_starts_in_its_departure_zone_and_ends_in_its_arrival_zone():
    """ZRH→NRT at 13:05 Zurich time, kept on a Tokyo leg: DTSTART in Europe/Zurich, DTEND in
    Asia/Tokyo, and one VTIMEZONE for each zone in use."""
    trip = export(
        legs=[
            leg(
                "tokyo",
                timezone="Asia/Tokyo",
                startDate="2027-01-14",
                endDate="2027-01-20",
                flights=[
                    {
                        "airline": "LX",
                        "flightNumber": "LX160",
                        "from": "ZRH",
                        "to": "NRT",
                        "departureTime": "2027-01-14T13:05",
                        "arrivalTime": "2027-01-15T08:40",
                    }
                ],
            )
        ]
    )
    cal = calendar(trip)
    flight = {str(e["UID"]): e for e in cal.walk("VEVENT")}["tokyo.flight.0@tripdeck"]
    assert (
        flight["DTSTART"].params["TZID"] == "Europe/Zurich" and flight["DTEND"].params["TZID"] == "Asia/Tokyo"
    )
    assert flight.decoded("DTSTART").astimezone(UTC) == dt.datetime(2027, 1, 14, 12, 5, tzinfo=UTC)
    assert flight.decoded("DTEND").astimezone(UTC) == dt.datetime(2027, 1, 14, 23, 40, tzinfo=UTC)
    assert sorted(str(t["TZID"]) for t in cal.walk("VTIMEZONE")) == ["Asia/Tokyo", "Europe/Zurich"]


def test_untimed_stays_are_dates_and_a_flight_landing_before_it_departs_has_no_end():
    trip = export(
        legs=[
            leg(
                stays=[{"name": "Hut"}],
                flights=[
                    {
                        "from": "JFK",
                        "to": "LHR",
                        "departureTime": "2026-07-10T18:00",
                        "arrivalTime": "2026-07-10T20:00",
                    }
                ],
            )
        ]
    )
    found = events(trip)
    assert found["leg1.accommodation.0@tripdeck"].decoded("DTSTART") == dt.date(2026, 7, 10)
    assert found["leg1.accommodation.0.check-out@tripdeck"].decoded("DTSTART") == dt.date(2026, 7, 14)
    assert "DTEND" not in found["leg1.flight.0@tripdeck"]  # 20:00 London is before 18:00 New York


HOSTILE = 'Party; 50% off, \\o/ "quoted"\r\nEND:VEVENT\r\nBEGIN:VEVENT\nSUMMARY:injected\x1b[31m\x00'


def test_untrusted_text_is_escaped_and_cannot_make_components():
    trip = export(title=HOSTILE, commitments=[commitment(title=HOSTILE, notes=HOSTILE)], pins=[pin()])
    text = to_ics(trip, now=NOW)
    found = events(trip)
    assert list(found) == ["c1@tripdeck"]
    expected = 'Party; 50% off, \\o/ "quoted"\nEND:VEVENT\nBEGIN:VEVENT\nSUMMARY:injected[31m'
    assert str(found["c1@tripdeck"]["SUMMARY"]) == expected
    assert str(found["c1@tripdeck"]["DESCRIPTION"]) == expected
    # icalendar leaves X- properties escaped: undo RFC 5545 TEXT escaping here.
    name = re.sub(
        r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], str(calendar(trip)["X-WR-CALNAME"])
    )
    assert name == expected
    assert "\x1b" not in text and "\x00" not in text
    assert re.findall(r"^BEGIN:VEVENT", text.replace("\r\n ", ""), re.M) == ["BEGIN:VEVENT"]


def test_lines_are_folded_at_75_octets_without_splitting_characters():
    long_title = "Café ☕ and 寿司 " * 20
    text = to_ics(export(commitments=[commitment(title=long_title)]), now=NOW)
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    for line in text.encode().split(b"\r\n"):
        assert len(line) <= 75
        line.decode()  # each physical line is valid UTF-8 on its own
    assert (
        str(events(export(commitments=[commitment(title=long_title)]))["c1@tripdeck"]["SUMMARY"])
        == long_title
    )
