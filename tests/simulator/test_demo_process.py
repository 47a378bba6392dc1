"""`smsgw demo` (what `make run` starts) as a real process: smpplib's client binds to it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import smpplib.client
import smpplib.consts

REPO = Path(__file__).resolve().parents[2]

CONFIG = """
[storage]
dsn = "sqlite:///{db}"

[http]
port = 0

[simulator.control]
port = 0

[simulator.smsc]
host = "127.0.0.1"
port = 0

[[simulator.smsc.accounts]]
system_id = "qa"
password = "qapass"
operator = "beeline"
"""


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG.format(db=tmp_path / "gw.sqlite3"), "utf-8")
    (tmp_path / "operators").symlink_to(REPO / "operators")
    process = subprocess.Popen(
        [sys.executable, "-m", "smsgw.cli", "demo", "--config", str(config)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    first_line = process.stdout.readline()
    match = re.search(r"listening on 127\.0\.0\.1:(\d+)", first_line)
    assert match, f"unexpected first line: {first_line!r}"
    try:
        yield process, int(match.group(1))
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)


def test_smpplib_binds_submits_and_unbinds(demo: tuple[subprocess.Popen[str], int]) -> None:
    process, port = demo
    client: Any = smpplib.client.Client("127.0.0.1", port, timeout=5, allow_unknown_opt_params=True)
    answers: list[Any] = []
    client.set_message_sent_handler(lambda pdu: answers.append(pdu))
    client.connect()
    client.bind_transceiver(system_id="qa", password="qapass")
    client.send_message(source_addr="7757", destination_addr="79031234567", short_message=b"hello")
    client.read_once()
    assert answers and answers[0].status == smpplib.consts.SMPP_ESME_ROK
    assert answers[0].message_id
    client.unbind()
    client.disconnect()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0


def test_wrong_password_is_refused(demo: tuple[subprocess.Popen[str], int]) -> None:
    _, port = demo
    client: Any = smpplib.client.Client("127.0.0.1", port, timeout=5, allow_unknown_opt_params=True)
    client.connect()
    with pytest.raises(smpplib.exceptions.PDUError) as caught:
        client.bind_transceiver(system_id="qa", password="wrong")
    assert caught.value.args[1] == smpplib.consts.SMPP_ESME_RINVPASWD
    client.disconnect()


def test_bad_config_names_the_key(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[simulator.smsc]\nport = "x"\n', "utf-8")
    (tmp_path / "operators").symlink_to(REPO / "operators")
    result = subprocess.run(
        [sys.executable, "-m", "smsgw.cli", "demo", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "simulator.smsc.port" in result.stderr
