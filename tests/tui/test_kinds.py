"""The registry of row kinds (app/tui/kinds.py) agrees with the SDK, the server and the panes."""

import inspect

from app.client import TripClient
from app.server.storage.content import KINDS as SERVER_KINDS
from app.tui.kinds import BY_LIST, BY_PANE, KINDS
from app.tui.live import kinds_changed


def test_each_kind_calls_the_sdk_methods_named_after_the_servers_kind():
    client = TripClient(api_key="osk_test", base_url="http://127.0.0.1:1")
    for kind in KINDS.values():
        assert kind.server_name in SERVER_KINDS
        assert SERVER_KINDS[kind.server_name].create_model is kind.create_model
        assert SERVER_KINDS[kind.server_name].update_model is kind.update_model
        calls = {
            "create": kind.create(client),
            "get": kind.get(client),
            "update": kind.update(client),
            "delete": kind.delete(client),
        }
        for verb, call in calls.items():
            assert inspect.ismethod(call) and call.__self__ is client
            assert call.__name__ == f"{verb}_{kind.server_name}"
        assert kind.list_page(client).__name__ == f"list_{kind.server_name}s"


def test_the_trip_screen_reads_each_kind_by_its_pane_and_its_list():
    assert {number: kind.name for number, kind in BY_PANE.items()} == {
        1: "legs",
        2: "pins",
        3: "action_items",
        4: "commitments",
    }
    assert {list_id: kind.name for list_id, kind in BY_LIST.items()} == {
        "leg-list": "legs",
        "pin-list": "pins",
        "checklist-items": "action_items",
        "agenda-list": "commitments",
    }


def test_an_operation_makes_its_kinds_list_stale():
    assert kinds_changed(["create_map_pin"]) == {"pins"}
    assert kinds_changed(["update_action_item"]) == {"action_items"}
    assert kinds_changed(["delete_commitment"]) == {"commitments"}
    assert kinds_changed(["update_trip"]) == set()
