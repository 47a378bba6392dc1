"""`smsgw demo --clock … --speed …` as a real process: at a paid hour of the simulated
clock the README's first command pays for a session, whatever the hour of the test; the
demo prints the commands the README shows; its output is JSON logs without colour codes."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from smsgw.config import load_config
from smsgw.domain.tariffs import paid_intervals
from tests.e2e.proc import python_module
from tests.e2e.test_shutdown import unused_port

REPO = Path(__file__).resolve().parents[2]
GUARD_SECONDS = 30.0
PAY = "1001*A123BC77*2"
PHONE = "79161234567"
WEB_PHONE_LINE = re.compile(r"^Web phone: (http://127\.0\.0\.1:(\d+)/)$")
# 10:00 in Moscow, a Tuesday and no holiday: zone 1001 is paid 08:00–20:00
CLOCK = "2026-12-01T10:00"
SPEED = "60"


def demo_config(directory: Path) -> Path:
    """The repository's config.toml on ports nobody else uses, with its own database."""
    text = (REPO / "config.toml").read_text("utf-8")
    text = text.replace('"sqlite:///var/smsgw.sqlite3"', f'"sqlite:///{directory / "gw.sqlite3"}"')
    text = re.sub(r"(?m)^public_url = .*$", "", text)  # callbacks to wherever it listens
    smsc_port = unused_port()  # the links name it, so it cannot be left to the OS
    text = re.sub(r"(?m)^port = 2775$", f"port = {smsc_port}", text)
    text = re.sub(r"(?m)^port = (8080|8090)$", "port = 0", text)  # the gateway, control API
    for operator_port in range(9101, 9106):  # the simulated operators' charging APIs
        text = text.replace(f"127.0.0.1:{operator_port}", f"127.0.0.1:{unused_port()}")
    (directory / "operators").symlink_to(REPO / "operators")
    path = directory / "config.toml"
    path.write_text(text, "utf-8")
    return path


@asynccontextmanager
async def demo(config: Path, *args: str) -> AsyncIterator[tuple[str, list[str]]]:
    process = await python_module("smsgw.cli", "demo", "--config", str(config), *args)
    assert process.stdout is not None
    lines: list[str] = []
    web_phone: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def read() -> None:
        assert process.stdout is not None
        async for raw in process.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            lines.append(line)
            match = WEB_PHONE_LINE.match(line)
            if match and not web_phone.done():
                web_phone.set_result(match.group(1))

    reader = asyncio.create_task(read())
    try:
        url = await asyncio.wait_for(asyncio.shield(web_phone), GUARD_SECONDS)
        async with asyncio.timeout(GUARD_SECONDS):  # the banner ends with this line
            while not any(line.startswith("Press Ctrl+C") for line in lines):
                await asyncio.sleep(0.05)
        yield url, lines
    finally:
        if process.returncode is None:
            process.terminate()
        code = await asyncio.wait_for(process.wait(), GUARD_SECONDS)
        await reader
        assert code == 0, "\n".join(lines[-30:])


async def refused_demo(config: Path, *args: str) -> tuple[int | None, str]:
    """`smsgw demo` that is expected to refuse its arguments: exit code and stderr."""
    process = await python_module(
        "smsgw.cli", "demo", "--config", str(config), *args, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(process.communicate(), GUARD_SECONDS)
    return process.returncode, err.decode()


async def inbox(session: aiohttp.ClientSession, web_phone: str) -> list[dict[str, Any]]:
    async with session.get(f"{web_phone}api/phones/{PHONE}/inbox") as response:
        messages: list[dict[str, Any]] = await response.json()
        return messages


async def test_the_readme_pay_is_a_paid_session_on_the_simulated_clock(tmp_path: Path) -> None:
    async with demo(demo_config(tmp_path), "--clock", CLOCK, "--speed", SPEED) as (url, lines):
        assert "Simulated time: 2026-12-01 10:00 Europe/Moscow, 60x real time" in lines
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{url}clock") as response:
                clock = await response.json()
            assert clock["speed"] == 60
            assert clock["time_zone"] == "Europe/Moscow"
            assert clock["now"].startswith("2026-12-01T07:")  # 10:xx in Moscow, in UTC
            async with session.post(
                f"{url}api/phones/{PHONE}/texts", json={"text": PAY}
            ) as response:
                assert response.status == 200
            async with asyncio.timeout(GUARD_SECONDS):
                while not any("Оплачено 120 ₽" in m["text"] for m in await inbox(session, url)):
                    await asyncio.sleep(0.1)  # the phone's inbox, as a user would poll it
            texts = [m["text"] for m in await inbox(session, url)]
        # two hours from about 10:0x on the simulated clock, not "free until 08:00"
        assert any(re.search(r"1001 A123BC77 до 12:\d\d\. Оплачено 120 ₽", t) for t in texts)
    logged = [json.loads(line) for line in lines if line.startswith("{")]
    processed = [event for event in logged if event["event"] == "mo_processed"]
    assert processed and processed[0]["link"] == "mts-1"
    assert not any("\x1b[" in line for line in lines)


async def test_the_demo_prints_the_commands_the_readme_shows(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text("utf-8")
    async with demo(demo_config(tmp_path), "--clock", CLOCK) as (url, lines):
        pass
    web_port = int(WEB_PHONE_LINE.match(f"Web phone: {url}").group(2))  # type: ignore[union-attr]
    gateway_port = next(
        int(m.group(1))
        for line in lines
        if (m := re.match(r"Gateway HTTP on http://127\.0\.0\.1:(\d+)", line))
    )
    # the cabinet beside the web phone, on the gateway's HTTP (config.toml turns it on)
    assert f"Driver cabinet: http://127.0.0.1:{gateway_port}/cabinet/" in lines
    assert "http://127.0.0.1:8080/cabinet/" in readme
    commands = [line.strip() for line in lines if line.strip().startswith("curl ")]
    assert len(commands) == 3
    for command in commands:
        # the README shows the default ports of config.toml
        as_in_readme = command.replace(f":{web_port}/", ":8090/").replace(
            f":{gateway_port}/", ":8080/"
        )
        assert as_in_readme in readme, as_in_readme


async def test_a_bad_clock_is_named(tmp_path: Path) -> None:
    code, err = await refused_demo(demo_config(tmp_path), "--clock", "tomorrow")
    assert code == 2
    assert "--clock: must be a date and time like 2026-12-01T10:00" in err


def test_make_run_starts_the_demo_at_a_paid_hour() -> None:
    make = shutil.which("make")
    assert make is not None
    dry_run = subprocess.run(
        [make, "-n", "run"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"smsgw demo --config config.toml --clock (\S+) --speed (\S+)", dry_run)
    assert match, dry_run
    zone = load_config(REPO / "config.toml").zones["1001"]
    start = datetime.fromisoformat(match.group(1)).replace(tzinfo=zone.tz)
    # the README's first command, 1001*A123BC77*2, pays for the whole two hours
    paid = paid_intervals(zone, start, start + timedelta(hours=2))
    assert sum((high - low for low, high in paid), timedelta()) == timedelta(hours=2)


async def test_an_unknown_simulator_key_is_named(tmp_path: Path) -> None:
    config = demo_config(tmp_path)
    config.write_text(
        config.read_text("utf-8").replace(
            "[simulator.control]\n", "[simulator.control]\nhots = 1\n"
        ),
        "utf-8",
    )
    code, err = await refused_demo(config)
    assert code == 2
    assert "simulator.control.hots: unknown setting; did you mean 'host'?" in err


async def test_the_demo_stops_in_time_while_a_web_phone_listens(tmp_path: Path) -> None:
    config = demo_config(tmp_path)
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession() as session:
        async with demo(config, "--clock", CLOCK) as (url, lines):
            events = await session.get(f"{url}api/events")  # the page's live stream
            assert events.status == 200
            stopping = loop.time()
        # demo() sent SIGTERM and waited for exit code 0 on leaving the block
        assert loop.time() - stopping < 10.0 + 4.0, "\n".join(lines[-20:])
        events.close()
