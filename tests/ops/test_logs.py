"""What `smsgw serve` writes: JSON lines only, each link's lines naming the link and its
operator, a link that stays down a warning at first and then only now and again, and no
colour codes when the output is not a terminal."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from tests.e2e.proc import GatewayProcess, ServeConfig, write_config
from tests.e2e.rig import REPO
from tests.e2e.test_shutdown import unused_port

OPERATORS = ("mts", "beeline")
GUARD_SECONDS = 30.0
LINK_SPEED = 10.0


def config_for(tmp_path: Path, level: str) -> ServeConfig:
    dead = unused_port()
    return ServeConfig(
        storage_dsn=f"sqlite:///{tmp_path / 'gw.sqlite3'}",
        smsc_port=dead,
        link_operators=OPERATORS,
        charging_urls=dict.fromkeys(OPERATORS, f"http://127.0.0.1:{dead}"),
        zones=[],
        log_level=level,
        drain_seconds=1,
    )


def events(lines: list[str]) -> list[dict[str, Any]]:
    parsed = []
    for line in lines:
        event = json.loads(line)  # every line is JSON: a text line fails here
        assert isinstance(event, dict), line
        parsed.append(event)
    return parsed


def failures(lines: list[str], link: str) -> list[dict[str, Any]]:
    return [
        event
        for event in events(lines)
        if event["event"] == "esme.connect_failed" and event.get("link") == link
    ]


async def test_a_link_down_names_itself_and_warns_once_then_retries_quietly(
    tmp_path: Path,
) -> None:
    # the reconnect back-off starts at one second: three tries would take a few, so the
    # links' timing runs ten times faster (the back-off's length is not what is shown)
    gateway = await GatewayProcess.start(
        write_config(tmp_path, config_for(tmp_path, "debug")), link_speed=LINK_SPEED
    )
    try:
        async with asyncio.timeout(GUARD_SECONDS):
            while any(len(failures(gateway.output, f"{op}-1")) < 3 for op in OPERATORS):
                await asyncio.sleep(0.1)  # reads the child's output as it comes
        assert await gateway.stop() == 0
    finally:
        await gateway.ensure_gone()
    parsed = events(gateway.output)
    assert any(event["event"] == "smsgw.serving" for event in parsed)
    for operator in OPERATORS:
        tries = failures(gateway.output, f"{operator}-1")
        assert {event["operator"] for event in tries} == {operator}
        assert [event["failures"] for event in tries[:3]] == [1, 2, 3]
        assert [event["level"] for event in tries[:3]] == ["warning", "debug", "debug"]
    # the connecting/backing-off churn of each retry stays at debug
    churn = [e for e in parsed if e["event"] == "esme.link_state"]
    assert churn and {e["level"] for e in churn} == {"debug"}
    assert all("link" in e for e in churn)


async def test_at_info_six_links_down_are_six_warnings(tmp_path: Path) -> None:
    config = config_for(tmp_path, "info")
    gateway = await GatewayProcess.start(write_config(tmp_path, config))
    try:
        async with asyncio.timeout(GUARD_SECONDS):
            while any(not failures(gateway.output, f"{op}-1") for op in OPERATORS):
                await asyncio.sleep(0.1)
        assert await gateway.stop() == 0
    finally:
        await gateway.ensure_gone()
    for operator in OPERATORS:
        (first,) = failures(gateway.output, f"{operator}-1")
        assert first["level"] == "warning"


async def test_console_logs_in_a_file_have_no_colour_codes(tmp_path: Path) -> None:
    path = write_config(tmp_path, config_for(tmp_path, "info"))
    path.write_text(path.read_text("utf-8").replace("json = true", "json = false"), "utf-8")
    log_file = tmp_path / "gateway.log"
    with log_file.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "smsgw.cli",
            "serve",
            "--config",
            str(path),
            stdout=sink,
            stderr=asyncio.subprocess.STDOUT,
            cwd=REPO,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            async with asyncio.timeout(GUARD_SECONDS):
                while "esme.connect_failed" not in log_file.read_text("utf-8"):
                    await asyncio.sleep(0.1)  # the child writes the file
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), GUARD_SECONDS) == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    text = log_file.read_text("utf-8")
    assert "smsgw.serving" in text
    assert "\x1b[" not in text
