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


def configuration_table() -> dict[str, str]:
    """README's Configuration table: each variable named in its first column, with its row."""
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        if line.startswith("| `"):
            for name in line.split("|")[1].replace("`", "").split(","):
                rows[name.strip()] = line
    return rows


def test_the_readme_table_names_every_variable_and_the_directories_they_move(monkeypatch, tmp_path):
    import app.settings as settings
    from app.tui.config import config_path, data_file

    table = configuration_table()
    names = {value for key, value in vars(settings).items() if key.isupper() and isinstance(value, str)}
    assert names <= set(table), names - set(table)
    # platformdirs reads these for the default config and data directories: variables too.
    for name in ("TRIP_CONFIG_FILE", "TRIP_OUTBOX_FILE", "TRIP_LOG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert config_path().is_relative_to(tmp_path / "config")
    assert data_file(settings.OUTBOX_FILE, "outbox.jsonl").is_relative_to(tmp_path / "data")
    assert {"XDG_CONFIG_HOME", "XDG_DATA_HOME"} <= set(table)
    # The terminal app's files are read by every command that runs it or falls back to its config.
    for name, readers in {
        "TRIP_CONFIG_FILE": ("`trip ui`", "`trip demo`", "`trip export`"),
        "TRIP_OUTBOX_FILE": ("`trip ui`",),  # the demo keeps its own (app/demo_server.py)
        "TRIP_LOG_FILE": ("`trip ui`", "`trip demo`"),
    }.items():
        who = table[name].rstrip(" |").rsplit("|", 1)[1]
        assert all(reader in who for reader in readers), (name, who)


def test_no_module_but_settings_spells_a_variable_name():
    """One settings object: a module that spells "TRIP_OUTBOX_FILE" itself reads or names the
    variable behind app/settings.py's back (and README's table, checked above, would not see it)."""
    import ast
    from pathlib import Path

    import app.settings as settings

    names = {value for key, value in vars(settings).items() if key.isupper() and isinstance(value, str)}
    root = Path(settings.__file__).parent
    spelled = []
    for path in sorted(root.rglob("*.py")):
        if path == Path(settings.__file__):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in names:
                spelled.append(f"{path.relative_to(root.parent)}:{node.lineno} {node.value}")
    assert not spelled, spelled
