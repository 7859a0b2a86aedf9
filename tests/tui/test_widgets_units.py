"""The panes' pure parts: braille canvas, map projection, formats, the live feed's rules."""

import datetime as dt
import os
import stat
from zoneinfo import ZoneInfo

from app.domain.models import Channel, Commitment, Message
from app.tui import config
from app.tui.formatting import day_label, utc_offset
from app.tui.live import Backoff, kinds_changed
from app.tui.widgets.agenda import viewer_span
from app.tui.widgets.braille import BrailleCanvas
from app.tui.widgets.channel_chat import ChannelState, mention_pattern
from app.tui.widgets.map_pins import Projection


def test_braille_canvas_sets_dots_and_draws_lines():
    canvas = BrailleCanvas(2, 1)
    canvas.set(0, 0)
    assert canvas.cell(0, 0) == "⠁"
    canvas.set(1, 3)
    assert canvas.cell(0, 0) == chr(0x2800 + 0x01 + 0x80)
    canvas.line(0, 0, 3, 3)
    assert canvas.cell(1, 0) != " "
    canvas.set(99, 99)  # outside: ignored
    assert len(canvas.lines()) == 1 and len(canvas.lines()[0]) == 2


def test_projection_keeps_points_inside_and_north_up():
    points = [(38.7, -9.1), (31.6, -7.9), (37.4, -6.0)]
    project = Projection.fit(points, 80, 48)
    xy = [project(lat, lng) for lat, lng in points]
    assert all(0 <= x < 80 and 0 <= y < 48 for x, y in xy)
    assert xy[0][1] < xy[1][1]  # Lisbon is north of Marrakech: higher up
    assert xy[0][0] < xy[2][0]  # and west of Seville: further left


def test_day_labels_and_offsets():
    today = dt.date(2026, 7, 16)
    assert day_label(today, today).startswith("Today")
    assert day_label(dt.date(2026, 7, 17), today).startswith("Tomorrow")
    assert day_label(dt.date(2026, 7, 20), today) == "Mon 20 Jul 2026"
    assert utc_offset("Europe/Madrid", today) == "UTC+2"
    assert utc_offset("Asia/Kolkata", today) == "UTC+5:30"


def _commitment(**fields) -> Commitment:
    base = {
        "_id": "c",
        "_creationTime": 0,
        "trip_id": "t",
        "title": "x",
        "start_date": "2026-07-16",
        "category": "dinner",
    }
    return Commitment.model_validate(base | fields)


def test_viewer_time_shown_only_when_clocks_differ():
    london = ZoneInfo("Europe/London")
    madrid = _commitment(start_time="15:00", end_time="16:00")
    assert viewer_span(madrid, "Europe/Madrid", london) == "14:00–15:00"
    assert viewer_span(madrid, "Europe/Lisbon", london) is None
    assert viewer_span(_commitment(is_all_day=True), "Europe/Madrid", london) is None
    late = _commitment(start_time="23:30")
    assert viewer_span(late, "Europe/Madrid", ZoneInfo("America/New_York")) == "17:30"
    assert viewer_span(late, "America/New_York", ZoneInfo("Europe/Madrid")) == "05:30 Fri"


def test_mentions_match_first_or_full_name_as_a_word():
    pattern = mention_pattern("Sam Rivera")
    assert pattern.search("hey @sam, look")
    assert pattern.search("@Sam Rivera!")
    assert not pattern.search("@samantha")
    assert not pattern.search("sam without at")


def test_operations_map_to_the_lists_they_make_stale():
    assert kinds_changed(["update_action_item"]) == {"action_items"}
    assert kinds_changed(["create_leg"]) == {"legs", "pins"}
    assert kinds_changed(["update_trip"]) == set()
    assert kinds_changed(["something_new"]) == {"legs", "pins", "action_items", "commitments"}


def test_backoff_grows_to_a_ceiling_and_resets():
    backoff = Backoff(uniform=lambda low, high: high)
    assert [backoff.next_delay() for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    backoff.reset()
    assert backoff.next_delay() == 1


def test_config_is_saved_readable_by_the_owner_only(tmp_path):
    path = tmp_path / "deep" / "config.json"
    config.save(config.Config(url="http://x/api/v1", key="osk_secret", keymap={"trip.pane_chat": "c"}), path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    loaded = config.load(path)
    assert (loaded.url, loaded.key, loaded.keymap) == (
        "http://x/api/v1",
        "osk_secret",
        {"trip.pane_chat": "c"},
    )
    assert config.resolve("http://flag", None, path).url == "http://flag"
    assert config.resolve(None, None, path).key == "osk_secret"


def test_zooming_keeps_the_centre_and_pushes_far_points_out():
    points = [(38.7, -9.1), (31.6, -7.9)]
    project = Projection.fit(points, 80, 48)
    close = project.zoomed(38.7, -9.1, 8)
    x, y = close(38.7, -9.1)
    assert abs(x - 40) <= 1 and abs(y - 24) <= 1
    far_x, far_y = close(31.6, -7.9)
    assert not (0 <= far_x < 80 and 0 <= far_y < 48)


def chat_message(message_id: str, at: int) -> Message:
    """A message whose text is its id, sent at `at` (ms)."""
    return Message.model_validate(
        {
            "_id": message_id,
            "_creationTime": at,
            "tripId": "t",
            "channelId": "c",
            "authorId": "u",
            "authorName": "Ann",
            "content": message_id,
        }
    )


def general_channel() -> ChannelState:
    return ChannelState(
        Channel.model_validate({"_id": "c", "_creationTime": 0, "tripId": "t", "name": "general"})
    )


def test_a_channel_keeps_messages_in_time_order_whatever_order_they_arrive_in():
    state = general_channel()
    for content, at in [("one", 100), ("four", 300), ("two", 200), ("two", 200), ("zero", 50)]:
        state.add(chat_message(content, at))
    assert [m.content for m in state.history.items] == ["zero", "one", "two", "four"]


def test_messages_sent_in_one_millisecond_keep_the_order_the_service_gave_them():
    """Ids are random: two messages stamped with the same millisecond (a fast service answers
    two sends in one) are kept in the order they arrived, the service's, not by id."""

    state = general_channel()
    for message_id, at in [("Zed", 100), ("Tq", 200), ("3rc", 200), ("Alpha", 200), ("early", 150)]:
        state.add(chat_message(message_id, at))
    assert [m.id for m in state.history.items] == ["Zed", "early", "Tq", "3rc", "Alpha"]
