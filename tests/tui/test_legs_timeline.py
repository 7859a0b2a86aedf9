"""The legs pane against the real server in-process (issue 17): flights on their airports'
clocks and the viewer's, nights without a stay in their gap, and every conflict of a leg or of
what it holds drawn under it and counted."""

from __future__ import annotations

from rich.console import Console

from app.demo import frozen
from app.domain.itinerary import Conflict, ItinerarySummary
from app.domain.models import Commitment, Leg, Trip
from app.tui.data import Paged, TripData
from app.tui.screens.trip import TripScreen
from app.tui.widgets.agenda import Agenda, AgendaList
from app.tui.widgets.legs_timeline import LegList, LegsTimeline
from app.tui.widgets.status import TripHeader
from tests.conftest import new_trip
from tests.tui.conftest import wait_for
from tests.tui.test_editing import form_closed, form_opened, replace

ZURICH = {
    "order": 1,
    "title": "Zurich",
    "destination": "Zurich",
    "startDate": "2027-01-10",
    "endDate": "2027-01-14",
    "timezone": "Europe/Zurich",
    "stays": [{"name": "Hotel Adler", "checkIn": "2027-01-10T15:00", "checkOut": "2027-01-13T11:00"}],
}
SWISS = {
    "airline": "LX",
    "flightNumber": "LX160",
    "from": "ZRH",
    "to": "NRT",
    "departureTime": "2027-01-14T13:05",
    "arrivalTime": "2027-01-15T08:40",
}
TOKYO = {
    "order": 2,
    "title": "Tokyo",
    "destination": "Tokyo",
    "startDate": "2027-01-15",
    "endDate": "2027-01-20",
    "timezone": "Asia/Tokyo",
    "flights": [SWISS],
    "stays": [{"name": "Park Hyatt", "checkIn": "2027-01-15T15:00", "checkOut": "2027-01-20T11:00"}],
}


async def post(actor, path: str, body: dict) -> dict:
    response = await actor.http.post(path, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def japan(alice) -> str:
    """Zurich then Tokyo: the night of 13 Jan has no bed (the hotel checks out that morning),
    and breakfast in Tokyo is set for before the flight lands."""
    trip_id = (await new_trip(alice, "Japan", "2027-01-10", "2027-01-20"))["_id"]
    await post(alice, f"/trips/{trip_id}/legs", ZURICH)
    tokyo = await post(alice, f"/trips/{trip_id}/legs", TOKYO)
    await post(alice, f"/trips/{trip_id}/commitments", {**SUSHI, "legId": tokyo["_id"]})
    return trip_id


SUSHI = {"title": "Sushi breakfast", "startDate": "2027-01-15", "startTime": "08:00", "category": "dinner"}
CONFLICTS = [
    Conflict(
        type="night_without_stay",
        event_ids=["leg-zurich"],
        dates=["2027-01-13"],
        message="No stay for the night of 2027-01-13 (legs “Zurich”)",
    ),
    Conflict(
        type="impossible_transfer",
        event_ids=["leg-tokyo.flight.0", "commitment-sushi"],
        message=(
            "“Sushi breakfast” (2027-01-15 08:00 Asia/Tokyo) starts 40 min before flight “ZRH → NRT” into leg "
            "“Tokyo” lands (2027-01-15 08:40 Asia/Tokyo)"
        ),
    ),
]
"""What the service finds in `japan` (checked below), with the ids of `japan_data`."""


def japan_data() -> TripData:
    """`japan` as fixed data, for snapshots: the demo's people and chat around it."""
    data = frozen.trip_data()
    trip = Trip.model_validate(
        data.trip.model_dump(by_alias=True)
        | {"title": "Japan", "startDate": "2027-01-10", "endDate": "2027-01-20"}
    )
    stored = {"_creationTime": 0, "tripId": trip.id}
    legs = [
        Leg.model_validate(body | stored | {"_id": f"leg-{body['title'].lower()}"})
        for body in (ZURICH, TOKYO)
    ]
    sushi = Commitment.model_validate(SUSHI | stored | {"_id": "commitment-sushi", "legId": "leg-tokyo"})
    data.trip, data.legs, data.commitments = trip, Paged(legs), Paged([sushi])
    data.summary = ItinerarySummary(
        trip_id=trip.id,
        revision=trip.revision,
        status=trip.status,
        event_count=4,
        events_by_type={},
        trip_bounds=None,
        conflicts=CONFLICTS,
        conflict_count=len(CONFLICTS),
        compact_events=[],
    )
    return data


def drawn(row_list, width: int = 76) -> list[str]:
    """Each row of a pane's list as the text it draws at `width`."""
    console = Console(width=width, color_system=None, legacy_windows=False)
    texts = []
    for option in row_list.options:
        with console.capture() as capture:
            console.print(option.prompt)
        texts.append(capture.get())
    return texts


async def opened(pilot, app) -> TripScreen:
    await wait_for(
        pilot,
        lambda: (
            isinstance(app.screen, TripScreen)
            and app.screen.data is not None
            and app.screen.data.summary is not None
        ),
        what="the trip and its summary",
    )
    await pilot.pause()
    return app.screen


async def test_a_flight_reads_on_its_airports_clocks_and_on_the_viewers(server, tui, alice):
    app, _ = tui(alice.key, trip_id=await japan(alice))  # viewed from London (tests/tui/conftest.py)
    async with app.run_test(size=(80, 40)) as pilot:
        screen = await opened(pilot, app)
        tokyo = drawn(screen.query_one(LegList))[-1]
        assert "✈ LX160  13:05 ZRH → 08:40⁺¹ NRT · 11h35 · 12:05 → 23:40 your time" in tokyo


async def test_a_night_without_a_stay_is_a_row_in_its_gap_between_the_legs(server, tui, alice):
    app, _ = tui(alice.key, trip_id=await japan(alice))
    async with app.run_test(size=(80, 40)) as pilot:
        screen = await opened(pilot, app)
        rows = drawn(screen.query_one(LegList))
        assert len(rows) == 3
        assert rows[0].startswith(" 1 Zurich") and rows[2].startswith(" 2 Tokyo")
        assert "☾ no stay for the night of Wed 13 Jan" in rows[1]  # the night of the 14th is in the air
        assert screen.query_one(LegList).options[1].disabled  # the cursor skips it


async def test_a_new_trip_without_legs_draws_the_nights_its_warning_counts(server, tui, alice):
    """A fresh trip said '⚠ 1' in the header and on the pane, and drew nothing that explained it."""
    trip_id = (await new_trip(alice, "Fresh", "2027-05-10", "2027-05-20"))["_id"]
    app, _ = tui(alice.key, trip_id=trip_id)
    async with app.run_test(size=(80, 40)) as pilot:
        screen = await opened(pilot, app)
        assert "⚠ 1" in str(screen.query_one(LegsTimeline).border_subtitle)
        rows = drawn(screen.query_one(LegList))
        assert rows[0].startswith("No legs yet.")
        assert "☾ no stay for 10 nights, Mon 10 May – Wed 19 May" in rows[1], rows


async def test_nights_without_any_stay_across_the_legs_are_drawn_between_them_not_above(server, tui, alice):
    """A trip with legs and no stay at all: the run of nights starts on the first leg's first
    night, where no leg comes before to leave a gap; it was drawn above leg 1, as if it
    concerned no leg. It goes in the gap after the leg it starts in."""
    trip_id = (await new_trip(alice, "Road trip", "2027-07-01", "2027-07-10"))["_id"]
    base = {"timezone": "Europe/Lisbon"}
    await post(
        alice,
        f"/trips/{trip_id}/legs",
        {
            **base,
            "order": 1,
            "title": "Porto",
            "destination": "Porto",
            "startDate": "2027-07-01",
            "endDate": "2027-07-05",
        },
    )
    await post(
        alice,
        f"/trips/{trip_id}/legs",
        {
            **base,
            "order": 2,
            "title": "Lagos",
            "destination": "Lagos",
            "startDate": "2027-07-05",
            "endDate": "2027-07-10",
        },
    )
    app, _ = tui(alice.key, trip_id=trip_id)
    async with app.run_test(size=(80, 40)) as pilot:
        screen = await opened(pilot, app)
        rows = drawn(screen.query_one(LegList))
        assert len(rows) == 3, rows
        assert rows[0].startswith(" 1 Porto") and rows[2].startswith(" 2 Lagos"), rows
        assert "☾ no stay for 9 nights, Thu 1 Jul – Fri 9 Jul" in rows[1], rows


async def test_an_impossible_transfer_is_drawn_in_the_legs_and_the_agenda_and_counted(server, tui, alice):
    app, _ = tui(alice.key, trip_id=await japan(alice))
    async with app.run_test(size=(80, 40)) as pilot:
        screen = await opened(pilot, app)
        tokyo = " ".join(drawn(screen.query_one(LegList))[-1].split())
        assert "⚠ “Sushi breakfast” (2027-01-15 08:00 Asia/Tokyo) starts 40 min before flight" in tokyo
        agenda = " ".join(" ".join(drawn(screen.query_one(AgendaList))).split())
        assert "⚠ “Sushi breakfast” (2027-01-15 08:00 Asia/Tokyo) starts 40 min before flight" in agenda
        assert "⚠ 2" in str(screen.query_one(LegsTimeline).border_subtitle)  # the transfer and the night
        assert "2 in conflict" in str(
            screen.query_one(Agenda).border_subtitle
        )  # the breakfast and the flight
        assert "⚠ 2" in str(screen.query_one(TripHeader).render())  # the whole trip's count


async def test_overlapping_legs_and_a_flight_before_the_trip_are_drawn_under_their_legs(server, tui, alice):
    trip_id = (await new_trip(alice, "Japan", "2027-01-10", "2027-01-20"))["_id"]
    early = {**SWISS, "departureTime": "2027-01-08T13:05", "arrivalTime": "2027-01-09T08:40"}
    await post(alice, f"/trips/{trip_id}/legs", {**ZURICH, "endDate": "2027-01-16", "stays": []})
    await post(alice, f"/trips/{trip_id}/legs", {**TOKYO, "flights": [early], "stays": []})
    app, _ = tui(alice.key, trip_id=trip_id)
    async with app.run_test(size=(80, 40)) as pilot:
        screen = await opened(pilot, app)
        zurich, gap, tokyo = (" ".join(text.split()) for text in drawn(screen.query_one(LegList)))
        assert "⚠ Leg “Zurich” (2027-01-10 to 2027-01-16) overlaps leg “Tokyo”" in zurich
        assert "⚠ Leg “Zurich” (2027-01-10 to 2027-01-16) overlaps leg “Tokyo”" in tokyo
        assert "⚠ flight “ZRH → NRT” starts on 2027-01-08, before the trip starts (2027-01-10)" in tokyo
        assert "no stay for 10 nights" in gap


async def test_editing_a_legs_dates_warns_when_its_flight_or_stay_falls_outside(server, tui, alice):
    app, _ = tui(alice.key, trip_id=await japan(alice))
    async with app.run_test(size=(80, 40)) as pilot:
        screen = await opened(pilot, app)
        await pilot.press("1", "down")  # Tokyo (the cursor skips the night without a stay)
        assert screen.query_one(LegList).highlighted_option.id == screen.data.legs.items[1].id
        await form_opened(pilot, "e")
        await replace(pilot, "startDate", "2027-01-16")
        await pilot.press("ctrl+s")
        await form_closed(pilot)
        await wait_for(
            pilot,
            lambda: any("outside leg" in str(n.message) for n in app._notifications),
            what="a warning",
            state=lambda: [str(n.message) for n in app._notifications],
        )
        warning = next(str(n.message) for n in app._notifications if "outside leg" in str(n.message))
        assert "Flight LX160 ZRH→NRT (14 Jan – 15 Jan) is outside leg “Tokyo” (16 Jan – 20 Jan)" in warning
        assert "Stay “Park Hyatt” (15 Jan – 20 Jan) is outside leg “Tokyo” (16 Jan – 20 Jan)" in warning
        # and it stays drawn under the leg, as long as it is true
        await wait_for(
            pilot, lambda: "is outside leg" in drawn(screen.query_one(LegList))[-1], what="the mark"
        )


async def test_the_fixed_japan_has_the_conflicts_the_service_finds(server, alice):
    trip_id = await japan(alice)
    summary = (await alice.http.get(f"/trips/{trip_id}/itinerary/summary")).json()
    listed = (await alice.http.get(f"/trips/{trip_id}/legs")).json()["items"]
    legs = {leg["_id"]: f"leg-{leg['title'].lower()}" for leg in listed}
    [sushi] = (await alice.http.get(f"/trips/{trip_id}/commitments")).json()["items"]
    ids = legs | {sushi["_id"]: "commitment-sushi"}

    def renamed(event_id: str) -> str:
        head, dot, tail = event_id.partition(".")
        return ids[head] + dot + tail

    found = [
        Conflict(**(c | {"event_ids": [renamed(i) for i in c["event_ids"]]})) for c in summary["conflicts"]
    ]
    assert found == CONFLICTS


async def test_a_tight_connection_is_drawn_under_both_legs_and_their_flights_marked(server, tui, alice):
    trip_id = (await new_trip(alice, "Japan", "2027-01-10", "2027-01-20"))["_id"]
    # Lands at Narita 08:40; the connection to Osaka leaves 20 minutes later (45 are needed).
    onward = {
        "flightNumber": "NH2177",
        "from": "NRT",
        "to": "ITM",
        "departureTime": "2027-01-15T09:00",
        "arrivalTime": "2027-01-15T10:35",
    }
    await post(alice, f"/trips/{trip_id}/legs", {**TOKYO, "stays": []})
    await post(
        alice,
        f"/trips/{trip_id}/legs",
        {**TOKYO, "order": 3, "title": "Osaka", "destination": "Osaka", "flights": [onward], "stays": []},
    )
    app, _ = tui(alice.key, trip_id=trip_id)
    async with app.run_test(size=(80, 40)) as pilot:
        screen = await opened(pilot, app)
        rows = [" ".join(text.split()) for text in drawn(screen.query_one(LegList))]
        message = (
            "⚠ Flight “NRT → ITM” departs (2027-01-15 09:00 Asia/Tokyo) 20 min after flight “ZRH → NRT” "
            "lands (2027-01-15 08:40 Asia/Tokyo); the minimum connection is 45 min"
        )
        tokyo = next(row for row in rows if row.startswith("1 Tokyo"))
        osaka = next(row for row in rows if row.startswith("2 Osaka"))
        assert message in tokyo and message in osaka
        timeline = screen.query_one(LegsTimeline)
        assert {(leg.title, index) for leg in timeline.legs for index, _ in enumerate(leg.flights)} == {
            ("Tokyo", 0),
            ("Osaka", 0),
        }
        rendered = [
            option.prompt for option in screen.query_one(LegList).options if hasattr(option.prompt, "leg")
        ]
        assert [row.flights_in_conflict for row in rendered] == [{0}, {0}]


async def test_the_agenda_shows_flights_on_their_day_with_their_conflicts(server, tui, alice):
    app, _ = tui(alice.key, trip_id=await japan(alice))
    async with app.run_test(size=(80, 40)) as pilot:
        screen = await opened(pilot, app)
        rows = [" ".join(text.split()) for text in drawn(screen.query_one(AgendaList))]
        thursday = rows.index("Thu 14 Jan 2027")  # the day LX160 leaves Zurich, on Zurich's clock
        flight = rows[thursday + 1]
        assert flight.startswith(
            "13:05 ZRH → 08:40⁺¹ NRT · 11h35 ✈ LX160 12:05 → 23:40 your time · leg Tokyo"
        )
        assert "⚠ “Sushi breakfast” (2027-01-15 08:00 Asia/Tokyo) starts 40 min before" in flight
        assert rows[thursday + 2] == "Fri 15 Jan 2027" and rows[thursday + 3].startswith(
            "08:00 Sushi breakfast"
        )
        agenda = screen.query_one(AgendaList)
        assert (
            agenda.highlighted_option.id == screen.data.commitments.items[0].id
        )  # flights are read, not picked
        assert "2 in conflict" in str(screen.query_one(Agenda).border_subtitle)


def test_nights_without_a_stay_sit_in_their_gap():
    from app.tui.widgets.legs_timeline import gap_position

    def leg(start: str, end: str) -> Leg:
        return Leg.model_validate(
            {
                "_id": start,
                "_creationTime": 0,
                "tripId": "t",
                "order": 1,
                "title": start,
                "destination": "x",
                "startDate": start,
                "endDate": end,
                "timezone": "UTC",
            }
        )

    legs = [leg("2027-01-10", "2027-01-14"), leg("2027-01-14", "2027-01-17"), leg("2027-01-19", "2027-01-20")]

    def night(*dates: str) -> Conflict:
        return Conflict(type="night_without_stay", event_ids=[], message="", dates=list(dates))

    assert (
        gap_position(night("2027-01-14"), legs) == 1
    )  # the first night of a leg: at the handover, before it
    assert gap_position(night("2027-01-12", "2027-01-13"), legs) == 1  # within a leg: after it
    assert (
        gap_position(night("2027-01-17", "2027-01-18"), legs) == 2
    )  # between legs no leg holds: before the next
    assert gap_position(night("2027-01-25"), legs) == 3
    assert gap_position(night("2027-01-10", "2027-01-11"), legs) == 1  # no gap above the first leg
