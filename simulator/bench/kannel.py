"""A Kannel relay for `smsgw bench --against kannel`: Debian's bearerbox and smsbox on
127.0.0.1, relaying each MO to a minimal reply app whose answer becomes the reply SMS.

    load generator (SMSC) ◀─SMPP─ bearerbox ◀──▶ smsbox ──get-url──▶ reply app

Kannel's ports must be written into its configuration, so they are taken from the OS
beforehand (bind port 0, close). Both boxes log errors only: at debug level they write
every PDU, which would measure their disks. The configuration keys are those of the
Kannel 1.4 user guide: `core`, `smsc` (smpp, transceiver mode, `max-pending-submits`
as the gateway's window), `smsbox`, and a catch-all `sms-service` whose `get-url` is
the reply app and whose `max-messages = 1` has the answer sent as one SMS.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from xml.etree import ElementTree

BEARERBOX: Final = "bearerbox"
SMSBOX: Final = "smsbox"
# Debian installs the boxes in /usr/sbin, which is not on every user's PATH
SEARCH_PATH: Final = os.pathsep.join(("/usr/sbin", "/usr/local/sbin", os.environ.get("PATH", "")))
READY_TIMEOUT: Final = 20.0
STOP_TIMEOUT: Final = 5.0
POLL_SECONDS: Final = 0.05
SMSC_ID: Final = "bench"
ADMIN_PASSWORD: Final = "bench-admin"
LOG_TAIL_CHARS: Final = 4000


class KannelError(RuntimeError):
    """Kannel is not installed, or did not bind and connect its smsbox in time."""


@dataclass(frozen=True, slots=True)
class KannelBinaries:
    bearerbox: Path
    smsbox: Path


def find_kannel() -> KannelBinaries | None:
    bearerbox = shutil.which(BEARERBOX, path=SEARCH_PATH)
    smsbox = shutil.which(SMSBOX, path=SEARCH_PATH)
    if bearerbox is None or smsbox is None:
        return None
    return KannelBinaries(Path(bearerbox), Path(smsbox))


def free_ports(count: int) -> list[int]:
    """Ports the OS hands out now; all held open together so that they differ."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass(frozen=True, slots=True)
class RelaySetup:
    smsc_port: int  # the load generator's
    system_id: str
    password: str
    reply_url: str  # the reply app's
    directory: Path
    window: int = 100
    admin_port: int = 0
    smsbox_port: int = 0
    sendsms_port: int = 0

    @property
    def status_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}/status.xml?password={ADMIN_PASSWORD}"


def _group(name: str, settings: dict[str, str | int | bool]) -> str:
    lines = [f"group = {name}"]
    for key, value in settings.items():
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, int):
            lines.append(f"{key} = {value}")
        else:
            if '"' in value or "\n" in value:
                raise ValueError(f"a Kannel configuration value cannot hold {value!r}")
            lines.append(f'{key} = "{value}"')
    return "\n".join(lines) + "\n"


def relay_config(setup: RelaySetup) -> str:
    """The configuration both boxes read."""
    logs = setup.directory
    core = _group(
        "core",
        {
            "admin-port": setup.admin_port,
            "admin-password": ADMIN_PASSWORD,
            "status-password": ADMIN_PASSWORD,
            "admin-allow-ip": "127.0.0.1",
            "smsbox-port": setup.smsbox_port,
            "box-allow-ip": "127.0.0.1",
            "log-file": str(logs / "bearerbox.log"),
            "log-level": 4,
        },
    )
    smsc = _group(
        "smsc",
        {
            "smsc": "smpp",
            "smsc-id": SMSC_ID,
            "host": "127.0.0.1",
            "port": setup.smsc_port,
            "transceiver-mode": True,
            "smsc-username": setup.system_id,
            "smsc-password": setup.password,
            "system-type": "",
            "enquire-link-interval": 30,
            "reconnect-delay": 1,
            "max-pending-submits": setup.window,
            "log-level": 4,
        },
    )
    smsbox = _group(
        "smsbox",
        {
            "bearerbox-host": "127.0.0.1",
            "sendsms-port": setup.sendsms_port,
            "log-file": str(logs / "smsbox.log"),
            "log-level": 4,
        },
    )
    service = _group(
        "sms-service",
        {
            "keyword": "default",
            "catch-all": True,
            "get-url": f"{setup.reply_url}?from=%p&to=%P",
            "max-messages": 1,
            "omit-empty": True,
        },
    )
    return "\n".join((core, smsc, smsbox, service))


def status_says_ready(status_xml: str) -> bool:
    """bearerbox's status.xml shows the SMSC online and an smsbox connected."""
    try:
        gateway = ElementTree.fromstring(status_xml)
    except ElementTree.ParseError:
        return False
    smsc_online = any(
        smsc.findtext("id") == SMSC_ID and smsc.findtext("status", "").startswith("online")
        for smsc in gateway.iterfind("smscs/smsc")
    )
    smsbox_online = any(
        box.findtext("type") == "smsbox" and box.findtext("status", "").startswith("on-line")
        for box in gateway.iterfind("boxes/box")
    )
    return smsc_online and smsbox_online


@dataclass
class RunningRelay:
    setup: RelaySetup
    processes: dict[str, asyncio.subprocess.Process] = field(default_factory=dict)

    def pids(self) -> dict[str, int]:
        return {name: process.pid for name, process in self.processes.items()}

    def log_tail(self) -> str:
        parts = []
        for path in sorted(self.setup.directory.glob("*.log")) + sorted(
            self.setup.directory.glob("*.stderr")
        ):
            parts.append(f"== {path.name}\n{path.read_text('utf-8', 'replace')[-LOG_TAIL_CHARS:]}")
        return "\n".join(parts)

    async def stop(self) -> None:
        for name in (SMSBOX, BEARERBOX):  # smsbox first: bearerbox is not left waiting
            process = self.processes.pop(name, None)
            if process is not None:
                await terminate(process)


async def terminate(process: asyncio.subprocess.Process, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM, then SIGKILL after `timeout` seconds."""
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    try:
        await asyncio.wait_for(process.wait(), timeout)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


async def _spawn(binary: Path, config: Path, directory: Path) -> asyncio.subprocess.Process:
    with (
        (directory / f"{binary.name}.stdout").open("wb") as stdout,
        (directory / f"{binary.name}.stderr").open("wb") as stderr,
    ):
        return await asyncio.create_subprocess_exec(
            str(binary),
            "-v",
            "4",
            str(config),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
        )


async def _port_open(port: int) -> bool:
    try:
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def _status(url: str) -> str:
    """GET `url` with the standard library in a thread (the status page is tiny)."""
    import urllib.request

    def fetch() -> str:
        with urllib.request.urlopen(url, timeout=2) as response:
            body: bytes = response.read()
            return body.decode("utf-8", "replace")

    try:
        return await asyncio.to_thread(fetch)
    except OSError:
        return ""


def _check_alive(relay: RunningRelay) -> None:
    for name, process in relay.processes.items():
        if process.returncode is not None:
            raise KannelError(f"{name} exited with status {process.returncode}")


async def _wait_ready(relay: RunningRelay, binaries: KannelBinaries, config: Path) -> None:
    setup = relay.setup
    deadline = time.monotonic() + READY_TIMEOUT
    relay.processes[BEARERBOX] = await _spawn(binaries.bearerbox, config, setup.directory)
    # smsbox gives up at once when bearerbox is not listening for it yet
    while not await _port_open(setup.smsbox_port):
        _check_alive(relay)
        if time.monotonic() > deadline:
            raise KannelError("bearerbox did not listen for its smsbox in time")
        await asyncio.sleep(POLL_SECONDS)
    relay.processes[SMSBOX] = await _spawn(binaries.smsbox, config, setup.directory)
    while not status_says_ready(await _status(setup.status_url)):
        _check_alive(relay)
        if time.monotonic() > deadline:
            raise KannelError("Kannel did not bind to the SMSC with its smsbox connected")
        await asyncio.sleep(POLL_SECONDS)


@contextlib.asynccontextmanager
async def running_relay(binaries: KannelBinaries, setup: RelaySetup) -> AsyncIterator[RunningRelay]:
    """bearerbox and smsbox started, bound and connected; both stopped on the way out."""
    setup.directory.mkdir(parents=True, exist_ok=True)
    config = setup.directory / "kannel.conf"
    config.write_text(relay_config(setup), "utf-8")
    relay = RunningRelay(setup)
    try:
        try:
            await _wait_ready(relay, binaries, config)
        except KannelError as error:
            raise KannelError(f"{error}\n{relay.log_tail()}") from error
        yield relay
    finally:
        await relay.stop()
