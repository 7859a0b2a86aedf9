"""How times read on screen (app/tui/formatting.py): flights on their airports' clocks, the time in
the air across zones, day offsets, and the same times on the viewer's clock."""

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from app.domain.models import Flight
from app.tui.formatting import day_offset, duration, flight_line, flight_times, viewer_flight_line


def flight(**fields) -> Flight:
    return Flight.model_validate(fields)


def test_a_long_haul_flight_reads_in_its_airports_zones_with_the_next_day_marked():
    times = flight_times(
        flight(
            **{
                "from": "ZRH",
                "to": "NRT",
                "departureTime": "2027-01-14T13:05",
                "arrivalTime": "2027-01-15T08:40",
            }
        ),
        "Asia/Tokyo",
    )
    assert str(times.departs.tzinfo) == "Europe/Zurich"  # the leg is Tokyo's: the airport wins
    assert flight_line(times) == "13:05 ZRH → 08:40⁺¹ NRT · 11h35"
    assert flight_line(times, departure_time=False) == "ZRH → 08:40⁺¹ NRT · 11h35"  # beside a time column


def test_a_flight_that_lands_on_the_calendar_day_before_it_left():
    times = flight_times(
        flight(
            **{
                "from": "AKL",
                "to": "HNL",
                "departureTime": "2027-01-16T00:30",
                "arrivalTime": "2027-01-15T10:10",
            }
        ),
        None,
    )
    assert flight_line(times) == "00:30 AKL → 10:10⁻¹ HNL · 8h40"


def test_the_time_in_the_air_counts_a_dst_change_between_the_ends():
    # New York springs forward on 14 March 2027 (Paris on the 28th): 6 h of clock difference.
    times = flight_times(
        flight(
            **{
                "from": "CDG",
                "to": "JFK",
                "departureTime": "2027-03-20T10:00",
                "arrivalTime": "2027-03-20T12:25",
            }
        ),
        None,
    )
    assert flight_line(times) == "10:00 CDG → 12:25 JFK · 7h25"


def test_given_zones_win_and_unknown_codes_fall_back_to_the_leg():
    station = flight(
        **{
            "from": "Zürich HB",
            "to": "Milano C.",
            "departureTime": "2027-01-14T09:33",
            "arrivalTime": "2027-01-14T12:50",
            "arrivalTimezone": "Europe/Rome",
        }
    )
    times = flight_times(station, "Europe/Zurich")
    assert (str(times.departs.tzinfo), str(times.lands.tzinfo)) == ("Europe/Zurich", "Europe/Rome")
    assert flight_line(times) == "09:33 Zürich HB → 12:50 Milano C. · 3h17"


def test_missing_times_leave_out_what_is_unknown():
    assert flight_line(flight_times(flight(**{"from": "LIS", "to": "OPO"}), None)) == "LIS → OPO"
    half = flight_times(flight(**{"from": "LIS", "to": "OPO", "departureTime": "2027-01-14T07:00"}), None)
    assert flight_line(half) == "07:00 LIS → OPO"


def test_the_viewers_clock_is_shown_only_when_it_reads_differently():
    zrh_nrt = flight_times(
        flight(
            **{
                "from": "ZRH",
                "to": "NRT",
                "departureTime": "2027-01-14T13:05",
                "arrivalTime": "2027-01-15T08:40",
            }
        ),
        None,
    )
    assert viewer_flight_line(zrh_nrt, ZoneInfo("Europe/London")) == "12:05 → 23:40"
    assert viewer_flight_line(zrh_nrt, ZoneInfo("America/Los_Angeles")) == "04:05 → 15:40"
    assert viewer_flight_line(zrh_nrt, ZoneInfo("Asia/Kolkata")) == "17:35 → 05:10⁺¹"
    lhr_lis = flight_times(
        flight(
            **{
                "from": "LHR",
                "to": "LIS",
                "departureTime": "2026-07-10T07:05",
                "arrivalTime": "2026-07-10T09:40",
            }
        ),
        None,
    )
    assert viewer_flight_line(lhr_lis, ZoneInfo("Europe/London")) is None  # same clocks at both ends
    assert viewer_flight_line(lhr_lis, ZoneInfo("Europe/Madrid")) == "08:05 → 10:40"


def test_day_offsets_and_durations():
    day = dt.date(2027, 1, 14)
    assert day_offset(day, day) == ""
    assert day_offset(dt.date(2027, 1, 16), day) == "⁺²"
    assert day_offset(dt.date(2027, 1, 13), day) == "⁻¹"
    assert duration(dt.timedelta(minutes=45)) == "0h45"
    assert duration(dt.timedelta(hours=11, minutes=35)) == "11h35"
    assert duration(dt.timedelta(minutes=-130)) == "−2h10"


zones = st.sampled_from(
    [
        "Europe/Paris",
        "America/New_York",
        "Australia/Lord_Howe",
        "Asia/Kolkata",
        "Pacific/Apia",
        "Asia/Tokyo",
        "UTC",
        "America/St_Johns",
    ]
)


@given(
    departure=zones,
    arrival=zones,
    viewer=zones,
    start=st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 1, 1)),
    minutes=st.integers(min_value=0, max_value=20 * 60),
)
def test_the_duration_is_the_difference_of_the_instants(departure, arrival, viewer, start, minutes):
    start = start.replace(second=0, microsecond=0)
    departs = start.replace(tzinfo=ZoneInfo(departure))
    lands = (departs.astimezone(dt.UTC) + dt.timedelta(minutes=minutes)).astimezone(ZoneInfo(arrival))
    times = flight_times(
        flight(
            **{
                "from": "A1",
                "to": "B2",
                "departureTime": departs.strftime("%Y-%m-%dT%H:%M"),
                "arrivalTime": lands.strftime("%Y-%m-%dT%H:%M"),
                "departureTimezone": departure,
                "arrivalTimezone": arrival,
            }
        ),
        None,
    )
    if departs.astimezone(dt.UTC).astimezone(ZoneInfo(departure)).replace(tzinfo=None) != start:
        return  # a time in a DST gap: the service refuses it
    if lands.fold:
        return  # the second occurrence of an ambiguous time cannot be written as a local time
    assert times.in_air == dt.timedelta(minutes=minutes)
    line = flight_line(times)
    assert line.endswith(f" · {duration(dt.timedelta(minutes=minutes))}")
    assert line.startswith(f"{start:%H:%M} A1 → {lands:%H:%M}{day_offset(lands.date(), start.date())} B2")
    mine = viewer_flight_line(times, ZoneInfo(viewer))
    if mine is not None:
        assert mine.startswith(f"{departs.astimezone(ZoneInfo(viewer)):%H:%M}")
