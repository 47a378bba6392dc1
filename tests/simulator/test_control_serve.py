"""`smsgw sim serve` as a real process: the world and its control API, stopped by SIGTERM."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

CONFIG = """
[gateway]
short_number = "9878"

[charging.beeline]
url = "http://127.0.0.1:0"
secret = "beeline-secret-0123456789"

[simulator.smsc]
host = "127.0.0.1"
port = 0

[[simulator.smsc.accounts]]
system_id = "qa"
password = "qapass"
operator = "beeline"

[simulator.control]
host = "127.0.0.1"
port = 0
"""


def test_serve_answers_on_the_control_api_and_stops_on_sigterm(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG, "utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "smsgw.cli", "sim", "serve", "--config", str(config)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    try:
        lines = [process.stdout.readline() for _ in range(3)]
        match = re.search(r"Control API on (http://127\.0\.0\.1:\d+)/api/state", lines[1])
        assert match, lines
        assert "operator beeline charging API on http://127.0.0.1:" in lines[2]
        with urllib.request.urlopen(match.group(1) + "/api/state", timeout=5) as response:
            state = json.loads(response.read())
        assert state["short_number"] == "9878"
        assert state["operators"] == ["beeline"] and state["links"] == []
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
    assert process.returncode == 0
    assert "Simulator stopped." in process.stdout.read()


def test_serve_names_a_bad_key(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG.replace("port = 0\n", 'port = "x"\n', 2), "utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "smsgw.cli", "sim", "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "simulator.smsc.port" in result.stderr
