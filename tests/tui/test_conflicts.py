"""Where each conflict is drawn (app/tui/conflicts.py), and the legs' own check: a flight, stay or
car dated outside its leg."""

from app.domain.itinerary import Conflict
from app.domain.models import Leg
from app.tui.conflicts import every_conflict, flight_index, for_legs, leg_of, outside_leg


def leg(**fields) -> Leg:
    base = {
        "_id": "leg-1",
        "_creationTime": 0,
        "trip_id": "t",
        "order": 1,
        "title": "Tokyo",
        "destination": "Tokyo",
        "start_date": "2027-01-15",
        "end_date": "2027-01-20",
        "timezone": "Asia/Tokyo",
    }
    return Leg.model_validate(base | fields)


def test_event_ids_name_their_leg_and_flight():
    assert leg_of("leg-1.flight.0") == "leg-1"
    assert leg_of("leg-1.accommodation.2") == "leg-1"
    assert leg_of("leg-1.rental_car") == "leg-1"
    assert leg_of("commitment-1") is None
    assert flight_index("leg-1.flight.12") == 12
    assert flight_index("leg-1.accommodation.0") is None


def test_each_conflict_goes_to_the_legs_it_concerns_once():
    transfer = Conflict(type="impossible_transfer", event_ids=["a.flight.0", "a.flight.1"], message="tight")
    across = Conflict(type="impossible_transfer", event_ids=["a.flight.1", "b.flight.0"], message="across")
    legs = Conflict(type="overlapping_legs", event_ids=["a", "b"], message="overlap")
    night = Conflict(type="night_without_stay", event_ids=["a", "b"], message="night", dates=["2027-01-13"])
    clash = Conflict(type="overlapping_commitments", event_ids=["c1", "c2"], message="agenda's")
    placed = for_legs([transfer, across, legs, night, clash], {"a", "b"})
    assert placed.by_leg == {"a": [transfer, across, legs], "b": [across, legs]}
    assert placed.flights == {("a", 0), ("a", 1), ("b", 0)}
    assert placed.nights == [night]
    assert placed.count == 4  # the agenda's clash is not the legs pane's


def test_a_flight_is_within_its_leg_when_it_departs_or_lands_within_it():
    overnight = {
        "from": "ZRH",
        "to": "NRT",
        "departureTime": "2027-01-14T13:05",
        "arrivalTime": "2027-01-15T08:40",
    }
    assert outside_leg(leg(flights=[overnight])) == []  # departs the day before, lands on the first day
    [found] = outside_leg(leg(start_date="2027-01-16", flights=[overnight]))
    assert found.type == "outside_leg" and found.event_ids == ["leg-1.flight.0"]
    assert found.message == "Flight ZRH→NRT (14 Jan – 15 Jan) is outside leg “Tokyo” (16 Jan – 20 Jan)"


def test_a_stay_must_fit_the_leg_and_a_car_only_be_picked_up_in_it():
    stay = {"name": "Park Hyatt", "checkIn": "2027-01-15T15:00", "checkOut": "2027-01-21T11:00"}
    car = {"company": "Hertz", "pickupTime": "2027-01-16T09:00", "dropoffTime": "2027-01-25T09:00"}
    found = outside_leg(leg(stays=[stay], rental_car=car))
    assert [c.event_ids for c in found] == [["leg-1.accommodation.0"]]  # the car is dropped off later: fine
    assert found[0].message == "Stay “Park Hyatt” (15 Jan – 21 Jan) is outside leg “Tokyo” (15 Jan – 20 Jan)"
    late = outside_leg(leg(rental_car={**car, "pickupTime": "2027-01-21T09:00"}))
    assert [c.message for c in late] == [
        "Rental car Hertz pickup (21 Jan) is outside leg “Tokyo” (15 Jan – 20 Jan)"
    ]
    assert outside_leg(leg(stays=[{"name": "Undated"}])) == []


def test_the_screen_counts_the_summarys_conflicts_and_the_legs_own():
    stay = {"name": "Park Hyatt", "checkIn": "2027-01-10T15:00", "checkOut": "2027-01-12T11:00"}
    assert [c.type for c in every_conflict(None, [leg(stays=[stay])])] == ["outside_leg"]
