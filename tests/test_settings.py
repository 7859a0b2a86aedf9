"""app/settings.py: every environment variable is read when `environment()` is called."""

from app.settings import LOG_FILE, Environment, environment, inherited


def test_variables_are_read_when_asked_not_at_import(monkeypatch):
    monkeypatch.setenv("TRIP_API_URL", "http://one.example/api/v1")
    assert environment().api_url == "http://one.example/api/v1"
    monkeypatch.setenv("TRIP_API_URL", "http://two.example/api/v1")
    assert environment().api_url == "http://two.example/api/v1"


def test_empty_is_unset_and_only_1_turns_local_files_off(monkeypatch):
    for name in ("TRIP_API_KEY", "TRIP_SHARE_TOKEN", "TRIP_DATABASE_URL", "TRIP_CONFIG_FILE"):
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("TRIP_NO_LOCAL_FILES", "yes")
    monkeypatch.delenv("TZ", raising=False)
    env = environment()
    assert env == Environment(
        api_url=env.api_url,
        outbox_file=env.outbox_file,
        log_file=env.log_file,
        test_crash_at=env.test_crash_at,
    )
    monkeypatch.setenv("TRIP_NO_LOCAL_FILES", "1")
    assert environment().no_local_files


def test_file_variables_by_name_and_inherited_names(monkeypatch):
    monkeypatch.setenv("TRIP_LOG_FILE", "/tmp/x.log")
    assert environment().file(LOG_FILE) == "/tmp/x.log"
    monkeypatch.setenv("HOME", "/home/someone")
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    assert inherited(("HOME", "VIRTUAL_ENV")) == {"HOME": "/home/someone"}
