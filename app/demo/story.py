"""The demo trip as plain data: four legs from Lisbon to Marrakech across three time zones,
18 pins, a checklist at every urgency, commitments and two channels of chat from four people.
Dates are offsets from the trip's first day.

It holds the mistakes Tripdeck catches, so that a first-time user sees them: two commitments
that overlap, a night without a stay (Granada's is booked from the second night), and an
airport pickup set for before the flight lands."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

TITLE = "Lisbon → Seville → Marrakech"
DAYS = 14


@dataclass(frozen=True)
class Person:
    ref: str
    name: str
    email: str
    role: str


YOU = Person("you", "Sam Rivera", "sam@tripdeck.demo", "owner")
COMPANIONS = (
    Person("maya", "Maya Chen", "maya@tripdeck.demo", "planner"),
    Person("jonas", "Jonas Weber", "jonas@tripdeck.demo", "editor"),
    Person("priya", "Priya Nair", "priya@tripdeck.demo", "editor"),
)
GUEST = Person("alex", "Alex Morgan", "alex@tripdeck.demo", "editor")
"""Nobody simulates Alex: `trip demo` shows the command that joins the trip as Alex."""
PEOPLE = (YOU, *COMPANIONS, GUEST)


def day(start: dt.date, offset: int) -> str:
    return (start + dt.timedelta(days=offset)).isoformat()


def stamp(start: dt.date, offset: int, time: str) -> str:
    return f"{day(start, offset)}T{time}"


def landing(start: dt.date, offset: int, time: str, origin: str, destination: str, minutes: int) -> str:
    """The local arrival of a flight leaving `origin` (a zone) at `time` on day `offset` and in the
    air `minutes`: the demo's flights take as long in winter as in summer, whatever the zones'
    offsets are on the dates the demo runs."""
    departs = dt.datetime.fromisoformat(stamp(start, offset, time)).replace(tzinfo=ZoneInfo(origin))
    lands = (departs.astimezone(dt.UTC) + dt.timedelta(minutes=minutes)).astimezone(ZoneInfo(destination))
    return lands.strftime("%Y-%m-%dT%H:%M")


def legs(start: dt.date) -> list[dict]:
    """Leg create bodies (snake_case fields of LegCreate), in trip order."""
    return [
        {
            "client_ref": "lisbon",
            "order": 1,
            "title": "Lisbon",
            "destination": "Lisbon, Portugal",
            "start_date": day(start, 0),
            "end_date": day(start, 4),
            "timezone": "Europe/Lisbon",
            "flights": [
                {
                    "airline": "TAP",
                    "flight_number": "TP1351",
                    "from_": "LHR",
                    "to": "LIS",
                    "departure_time": stamp(start, 0, "07:05"),
                    "arrival_time": stamp(start, 0, "09:40"),
                    "seat": "14A",
                    "confirmation_number": "TPX7Q2",
                }
            ],
            "stays": [
                {
                    "client_ref": "alfama",
                    "name": "Casa do Alto, Alfama",
                    "lat": 38.7118,
                    "lng": -9.1302,
                    "check_in": stamp(start, 0, "15:00"),
                    "check_out": stamp(start, 4, "11:00"),
                    "door_code": "4471",
                    "wifi_password": "saudade2026",
                }
            ],
        },
        {
            "client_ref": "seville",
            "order": 2,
            "title": "Seville",
            "destination": "Seville, Spain",
            "start_date": day(start, 4),
            "end_date": day(start, 7),
            "timezone": "Europe/Madrid",
            "rental_car": {
                "company": "Hertz",
                "pickup_location": "Lisbon Oriente",
                "pickup_time": stamp(start, 4, "09:00"),
                "dropoff_location": "Granada station",
                "dropoff_time": stamp(start, 9, "10:00"),
                "confirmation_number": "HZ-88213",
            },
            "stays": [
                {
                    "client_ref": "triana",
                    "name": "Patio de Triana",
                    "lat": 37.3837,
                    "lng": -6.0027,
                    "check_in": stamp(start, 4, "17:00"),
                    "check_out": stamp(start, 7, "10:00"),
                }
            ],
        },
        {
            "client_ref": "granada",
            "order": 3,
            "title": "Granada",
            "destination": "Granada, Spain",
            "start_date": day(start, 7),
            "end_date": day(start, 9),
            "timezone": "Europe/Madrid",
            "stays": [
                {
                    "client_ref": "albaicin",
                    "name": "Carmen del Albaicín",
                    "lat": 37.1810,
                    "lng": -3.5925,
                    "check_in": stamp(start, 8, "14:00"),
                    "check_out": stamp(start, 9, "08:00"),
                }
            ],
        },
        {
            "client_ref": "marrakech",
            "order": 4,
            "title": "Marrakech",
            "destination": "Marrakech, Morocco",
            "start_date": day(start, 9),
            "end_date": day(start, DAYS - 1),
            "timezone": "Africa/Casablanca",
            "flights": [
                {
                    "airline": "Royal Air Maroc",
                    "flight_number": "AT985",
                    "from_": "AGP",
                    "to": "RAK",
                    "departure_time": stamp(start, 9, "13:20"),
                    "seat": "7C",
                    "arrival_time": landing(start, 9, "13:20", "Europe/Madrid", "Africa/Casablanca", 80),
                },
                {
                    "airline": "British Airways",
                    "flight_number": "BA2665",
                    "from_": "RAK",
                    "to": "LGW",
                    "departure_time": stamp(start, DAYS - 1, "15:40"),
                    "arrival_time": landing(
                        start, DAYS - 1, "15:40", "Africa/Casablanca", "Europe/London", 215
                    ),
                },
            ],
            "stays": [
                {
                    "client_ref": "riad",
                    "name": "Riad Yasmine",
                    "lat": 31.6318,
                    "lng": -7.9849,
                    "check_in": stamp(start, 9, "16:00"),
                    "check_out": stamp(start, DAYS - 1, "11:00"),
                    "host_phone": "+212 524 000000",
                }
            ],
        },
    ]


PINS = [
    # ref, name, lat, lng, category, notes
    ("belem", "Torre de Belém", 38.6916, -9.2160, "sight", "Go early: the queue by 11:00 is an hour."),
    ("timeout", "Time Out Market", 38.7069, -9.1459, "food", None),
    ("miradouro", "Miradouro da Senhora do Monte", 38.7193, -9.1326, "view", "Sunset spot"),
    ("lxfactory", "LX Factory", 38.7036, -9.1786, "shopping", None),
    ("ramiro", "Cervejaria Ramiro", 38.7209, -9.1359, "food", "No reservations: queue with a beer."),
    ("pena", "Palácio da Pena, Sintra", 38.7876, -9.3906, "sight", None),
    ("alcazar", "Real Alcázar", 37.3831, -5.9902, "sight", "Timed tickets booked for 09:30"),
    ("espana", "Plaza de España", 37.3772, -5.9869, "sight", None),
    ("rinconcillo", "El Rinconcillo", 37.3929, -5.9890, "food", "Oldest bar in Seville (1670)"),
    ("setas", "Metropol Parasol", 37.3933, -5.9917, "view", None),
    ("alhambra", "Alhambra", 37.1761, -3.5881, "sight", "Nasrid Palaces slot 08:30"),
    ("sannicolas", "Mirador de San Nicolás", 37.1810, -3.5926, "view", None),
    ("castaneda", "Bodegas Castañeda", 37.1766, -3.5978, "food", None),
    ("jemaa", "Jemaa el-Fnaa", 31.6258, -7.9891, "sight", "Evening food stalls"),
    ("majorelle", "Jardin Majorelle", 31.6416, -8.0033, "sight", None),
    ("lejardin", "Le Jardin", 31.6300, -7.9868, "food", None),
    ("imlil", "Imlil trailhead (Atlas)", 31.1370, -7.9197, "hike", "Guide meets us at 08:00"),
    ("hammam", "Hammam de la Rose", 31.6330, -7.9900, "wellness", None),
]

ACTION_ITEMS = [
    # ref, text, urgency, owner ref, done
    ("passport", "Renew Jonas's passport (it expires in August!)", "now", "jonas", False),
    ("alhambra", "Book Alhambra tickets: they sell out weeks ahead", "now", "maya", True),
    ("insurance", "Buy travel insurance for all four of us", "now", "you", False),
    ("permit", "International driving permit for the rental car", "before_trip", "jonas", True),
    ("maps", "Download offline maps of Seville, Granada and the medina", "before_trip", "priya", False),
    ("dirhams", "Get some dirhams (you can't buy them outside Morocco)", "before_trip", "you", False),
    ("adapter", "Pack plug adapters", "before_trip", None, True),
    ("darija", "Learn ten phrases of Darija", "nice_to_have", "priya", False),
    ("playlist", "Road-trip playlist for the drive to Seville", "nice_to_have", "maya", False),
    ("camera", "Bring the good camera", "nice_to_have", None, False),
]

PICKUP = "Riad pickup at the airport"
"""Set for 13:15, before the flight from Málaga lands (13:40 in summer, 14:40 in winter, local
time): an impossible transfer in every season."""

COMMITMENTS = [
    # title, day offset, category, start, end, all day, timezone, leg ref, pin ref
    (
        "Dinner at Cervejaria Ramiro",
        1,
        "dinner",
        "19:30",
        "22:00",
        False,
        "Europe/Lisbon",
        "lisbon",
        "ramiro",
    ),
    ("Sintra day trip", 2, "activity", None, None, True, None, "lisbon", "pena"),
    ("Fado night in Alfama", 3, "activity", "21:00", "23:30", False, "Europe/Lisbon", "lisbon", None),
    ("Real Alcázar tour", 5, "activity", "09:30", "12:00", False, "Europe/Madrid", "seville", "alcazar"),
    ("Maya's team call", 6, "meeting", "15:00", "16:00", False, "Europe/Madrid", "seville", None),
    ("Flamenco class", 6, "activity", "15:30", "17:00", False, "Europe/Madrid", "seville", None),
    (
        "Tapas crawl in Santa Cruz",
        6,
        "dinner",
        "21:00",
        None,
        False,
        "Europe/Madrid",
        "seville",
        "rinconcillo",
    ),
    (
        "Alhambra: Nasrid Palaces",
        8,
        "activity",
        "08:30",
        "11:30",
        False,
        "Europe/Madrid",
        "granada",
        "alhambra",
    ),
    (PICKUP, 9, "other", "13:15", None, False, "Africa/Casablanca", "marrakech", None),
    ("Priya's birthday", 10, "birthday", None, None, True, None, "marrakech", None),
    (
        "Birthday dinner at Le Jardin",
        10,
        "dinner",
        "20:30",
        "23:00",
        False,
        "Africa/Casablanca",
        "marrakech",
        "lejardin",
    ),
    ("Hammam", 11, "activity", "17:00", "18:30", False, "Africa/Casablanca", "marrakech", "hammam"),
    (
        "Atlas hike from Imlil",
        12,
        "activity",
        "08:00",
        "16:00",
        False,
        "Africa/Casablanca",
        "marrakech",
        "imlil",
    ),
]

CHANNELS = ("general", "food")

HISTORY = [
    # days before today, local time, channel, author ref, content, reply-to index (into HISTORY)
    (4, "18:05", "general", "maya", "Flights are booked! TP1351 out, BA2665 home. 🎉", None),
    (4, "18:12", "general", "jonas", "Amazing. I still need to sort my passport though…", None),
    (4, "18:14", "general", "priya", "Jonas. JONAS. It expires in August 😅", 1),
    (3, "09:40", "general", "you", "I added the rental car: Hertz from Lisbon Oriente to Granada.", None),
    (3, "09:52", "general", "maya", "@Sam can you check it's an automatic? Jonas can't drive stick", 3),
    (3, "10:03", "general", "you", "It is. Ticked the driving permit too.", 4),
    (2, "12:30", "food", "priya", "Non-negotiable: Cervejaria Ramiro on night two. Prawns + prego.", None),
    (2, "12:41", "food", "jonas", "Seconded. Also El Rinconcillo in Seville, it's from 1670!", None),
    (2, "13:15", "food", "maya", "Booked Le Jardin for Priya's birthday 🎂 (don't tell her)", None),
    (2, "13:17", "food", "priya", "I can read this channel, Maya", 8),
    (
        1,
        "16:20",
        "general",
        "maya",
        "Heads up: my team moved our call to 15:00 on the Seville Thursday. Overlaps the flamenco class :(",
        None,
    ),
    (1, "16:34", "general", "priya", "We can move flamenco to the 17:30 slot?", 10),
    (
        1,
        "16:40",
        "general",
        "you",
        "I'll ask the studio. Leaving both in the agenda so we see the clash.",
        10,
    ),
    (0, "08:10", "general", "jonas", "Passport appointment is Tuesday 🤞", None),
    (0, "09:05", "general", "priya", "Downloaded offline maps for Seville. Granada next.", None),
    (0, "09:58", "general", "maya", "@Sam did the travel insurance go through?", None),
    (
        0,
        "10:12",
        "food",
        "jonas",
        "Found a rooftop in Marrakech with mint tea and a view of the Koutoubia 🍵",
        None,
    ),
]

COMPANION_LINES = [
    ("general", "Anyone else already packing? Just me?"),
    ("general", "Weather in Seville says 39°C. Bringing the big hat."),
    ("food", "Added pastéis de nata to the list. All of them."),
    ("general", "@Sam the Alhambra tickets are in the shared folder."),
    ("food", "Is anyone up for a 6am bakery run in Lisbon?"),
    ("general", "Just confirmed the riad: they'll pick us up at the airport."),
    ("general", "Reminder: passports in the hand luggage, please 🙏"),
    ("food", "Tagine cooking class in Marrakech? 🍲"),
    ("general", "Tried the Darija phrases on my Moroccan coworker. She laughed. Progress!"),
    ("general", "Left a note on the Atlas hike: bring layers, it's cold at 8am."),
]


@dataclass
class Story:
    """The demo trip anchored at `start` (its first day)."""

    start: dt.date
    legs: list[dict] = field(init=False)

    def __post_init__(self) -> None:
        self.legs = legs(self.start)

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=DAYS - 1)
