"""What the terminal app writes (the saved key in its config, the outbox of queued messages, the
failure log) is owner-only, and so are the directories it makes for them, also under a
permissive umask (0): those files hold a key and the group's unsent words."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

WRITE_ALL = """
import json, os, stat, sys
from pathlib import Path

os.umask(0)
from app.tui import config, failures, outbox

root = Path(sys.argv[1])
config.save(config.Config(url="http://127.0.0.1:8000", key="osk_secret"), root / "conf" / "deep" / "config.json")
box = outbox.Outbox(root / "data" / "deep" / "outbox.jsonl", outbox.Owner("http://127.0.0.1:8000/api/v1", "u1"))
box.add("trip", "channel", "see you at the station")
failures.write_log(root / "logs" / "deep" / "tripdeck.log", "test", "a load", RuntimeError("boom"))
modes = {}
for path in sorted(root.rglob("*")):
    modes[str(path.relative_to(root))] = oct(stat.S_IMODE(os.lstat(path).st_mode))
print(json.dumps(modes))
"""


def test_config_outbox_and_log_and_their_directories_are_owner_only_under_umask_zero(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIP_")}
    result = subprocess.run(
        [sys.executable, "-c", WRITE_ALL, str(tmp_path)],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    modes = json.loads(result.stdout.strip().splitlines()[-1])
    directories = {path: mode for path, mode in modes.items() if (tmp_path / path).is_dir()}
    files = {path: mode for path, mode in modes.items() if (tmp_path / path).is_file()}
    assert {"conf/deep/config.json", "data/deep/outbox.jsonl", "logs/deep/tripdeck.log"} <= set(files)
    assert set(directories) == {"conf", "conf/deep", "data", "data/deep", "logs", "logs/deep"}
    assert set(directories.values()) == {"0o700"}, directories
    assert set(files.values()) == {"0o600"}, files
