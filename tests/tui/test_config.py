"""The config file's `timezone`: the viewer's clock that times are also shown on."""

import json
from zoneinfo import ZoneInfo

from app.tui import config
from app.tui.clock import local_zone


def test_the_configs_timezone_is_kept_and_wins_over_the_systems(tmp_path, monkeypatch):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"url": "http://x/api/v1", "key": "osk_1", "timezone": "Asia/Tokyo"}))
    monkeypatch.setenv("TZ", "Europe/Lisbon")
    saved = config.resolve(None, None, path)
    assert saved.timezone == "Asia/Tokyo"
    assert local_zone(saved.timezone) == ZoneInfo("Asia/Tokyo")
    config.save(saved, path)  # the first-run screen saves the file again: the zone stays
    assert config.load(path).timezone == "Asia/Tokyo"


def test_a_zone_that_is_not_one_falls_back_to_the_systems(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Lisbon")
    assert local_zone("Mars/Olympus_Mons") == ZoneInfo("Europe/Lisbon")
    assert local_zone(None) == ZoneInfo("Europe/Lisbon")
