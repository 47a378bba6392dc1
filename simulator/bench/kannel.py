"""Debian's Kannel (bearerbox and smsbox) on 127.0.0.1: its configuration file, and the
two boxes started, waited for and stopped. `smsgw bench --against kannel` relays each
MO to a minimal reply app whose answer becomes the reply SMS; the end-to-end tests put
Kannel between the simulated SMSC and the gateway.

    load generator / SMSC ◀─SMPP─ bearerbox ◀──▶ smsbox ──get-url──▶ reply app / gateway
                                                   ▲
                                                   └── sendsms (when a user is set)

Kannel's ports must be written into its configuration, so they are taken from the OS
beforehand (bind port 0, close). The configuration keys are those of the Kannel 1.4
user guide: `core`, `smsc` (smpp, transceiver mode, `max-pending-submits` as the
window), `smsbox`, an optional `sendsms-user`, and a catch-all `sms-service` whose
`get-url` receives every MO and whose `max-messages` says how many SMS its answer may
become (1 for the bench's reply app, 0 when replies go through sendsms instead).
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
class KannelPorts:
    admin: int
    smsbox: int
    sendsms: int


def kannel_ports() -> KannelPorts:
    admin, smsbox, sendsms = free_ports(3)
    return KannelPorts(admin=admin, smsbox=smsbox, sendsms=sendsms)


@dataclass(frozen=True, slots=True)
class SendsmsUser:
    """Who may send through smsbox's sendsms, and in how many parts (concatenated)."""

    username: str
    password: str
    max_messages: int


@dataclass(frozen=True, slots=True)
class KannelConfig:
    """What the configuration file says."""

    smsc_port: int
    system_id: str
    smpp_password: str
    get_url: str  # with Kannel's escape codes for the MO's parts
    ports: KannelPorts
    directory: Path  # the configuration, the logs, the message store
    smsc_id: str = SMSC_ID
    admin_password: str = ADMIN_PASSWORD
    service_max_messages: int = 1  # how many SMS the answer to get-url may become
    window: int | None = None  # max-pending-submits; Kannel's default when None
    sendsms_user: SendsmsUser | None = None
    # debug logs (every PDU, access logs): for a test's failure message; a benchmark
    # keeps errors only, else it would measure the disks
    debug_logs: bool = False
    # bearerbox acknowledges an MO to the SMSC before the gateway has it: with this its
    # store keeps the MO across a restart until smsbox delivered it, and smsbox retries
    # a get-url that failed (1.4.5 tries once unless told to retry)
    keeps_messages: bool = False

    @property
    def status_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.admin}/status.xml?password={self.admin_password}"

    @property
    def sendsms_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.sendsms}/cgi-bin/sendsms"


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
        return self.kannel_config().status_url

    def kannel_config(self) -> KannelConfig:
        """A catch-all service whose reply app's answer is sent as one SMS."""
        return KannelConfig(
            smsc_port=self.smsc_port,
            system_id=self.system_id,
            smpp_password=self.password,
            get_url=f"{self.reply_url}?from=%p&to=%P",
            ports=KannelPorts(self.admin_port, self.smsbox_port, self.sendsms_port),
            directory=self.directory,
            window=self.window,
        )


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


def _log_level(config: KannelConfig) -> int:
    return 0 if config.debug_logs else 4  # 0 debug, 4 errors only


def _core(config: KannelConfig) -> dict[str, str | int | bool]:
    logs = config.directory
    core: dict[str, str | int | bool] = {
        "admin-port": config.ports.admin,
        "admin-password": config.admin_password,
        "status-password": config.admin_password,
        "admin-allow-ip": "127.0.0.1",
        "smsbox-port": config.ports.smsbox,
        "box-allow-ip": "127.0.0.1",
        "log-file": str(logs / "bearerbox.log"),
        "log-level": _log_level(config),
    }
    if config.debug_logs:
        core["access-log"] = str(logs / "bearerbox-access.log")
    if config.keeps_messages:
        core["store-type"] = "file"
        core["store-location"] = str(logs / "kannel.store")
        core["dlr-storage"] = "internal"
    return core


def _smsc(config: KannelConfig) -> dict[str, str | int | bool]:
    smsc: dict[str, str | int | bool] = {
        "smsc": "smpp",
        "smsc-id": config.smsc_id,
        "host": "127.0.0.1",
        "port": config.smsc_port,
        "transceiver-mode": True,
        "smsc-username": config.system_id,
        "smsc-password": config.smpp_password,
        "system-type": "",
        "enquire-link-interval": 30,
        "reconnect-delay": 1,
    }
    if config.window is not None:
        smsc["max-pending-submits"] = config.window
    if config.debug_logs:
        smsc["log-file"] = str(config.directory / f"smsc-{config.smsc_id}.log")
    smsc["log-level"] = _log_level(config)
    return smsc


def _smsbox(config: KannelConfig) -> dict[str, str | int | bool]:
    logs = config.directory
    smsbox: dict[str, str | int | bool] = {
        "bearerbox-host": "127.0.0.1",
        "sendsms-port": config.ports.sendsms,
        "log-file": str(logs / "smsbox.log"),
        "log-level": _log_level(config),
    }
    if config.debug_logs:
        smsbox["access-log"] = str(logs / "smsbox-access.log")
    if config.keeps_messages:
        smsbox["http-request-retry"] = 3
        smsbox["http-queue-delay"] = 1
    return smsbox


def kannel_config(config: KannelConfig) -> str:
    """The configuration both boxes read."""
    groups = [
        _group("core", _core(config)),
        _group("smsc", _smsc(config)),
        _group("smsbox", _smsbox(config)),
    ]
    user = config.sendsms_user
    if user is not None:
        sendsms_user: dict[str, str | int | bool] = {
            "username": user.username,
            "password": user.password,
            "max-messages": user.max_messages,
            "concatenation": True,
            "user-allow-ip": "127.0.0.1",
        }
        groups.append(_group("sendsms-user", sendsms_user))
    service: dict[str, str | int | bool] = {
        "keyword": "default",
        "catch-all": True,
        "get-url": config.get_url,
        "max-messages": config.service_max_messages,
        "omit-empty": True,
    }
    groups.append(_group("sms-service", service))
    return "\n".join(groups)


def status_says_ready(status_xml: str, smsc_id: str = SMSC_ID) -> bool:
    """bearerbox's status.xml shows the SMSC online and an smsbox connected."""
    try:
        gateway = ElementTree.fromstring(status_xml)
    except ElementTree.ParseError:
        return False
    smsc_online = any(
        smsc.findtext("id") == smsc_id and smsc.findtext("status", "").startswith("online")
        for smsc in gateway.iterfind("smscs/smsc")
    )
    smsbox_online = any(
        box.findtext("type") == "smsbox" and box.findtext("status", "").startswith("on-line")
        for box in gateway.iterfind("boxes/box")
    )
    return smsc_online and smsbox_online


@dataclass
class RunningKannel:
    config: KannelConfig
    processes: dict[str, asyncio.subprocess.Process] = field(default_factory=dict)

    def pids(self) -> dict[str, int]:
        return {name: process.pid for name, process in self.processes.items()}

    def log_tail(self, chars: int = LOG_TAIL_CHARS) -> str:
        """The end of each log and of each box's stderr, for a failure's message."""
        directory = self.config.directory
        parts = []
        for path in sorted(directory.glob("*.log")) + sorted(directory.glob("*.stderr")):
            parts.append(f"== {path.name}\n{path.read_text('utf-8', 'replace')[-chars:]}")
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
        # -v 4: only errors on the console; the log files have what the config asks for
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


def _check_alive(kannel: RunningKannel) -> None:
    for name, process in kannel.processes.items():
        if process.returncode is not None:
            raise KannelError(f"{name} exited with status {process.returncode}")


async def _wait_ready(kannel: RunningKannel, binaries: KannelBinaries, path: Path) -> None:
    config = kannel.config
    deadline = time.monotonic() + READY_TIMEOUT
    kannel.processes[BEARERBOX] = await _spawn(binaries.bearerbox, path, config.directory)
    # smsbox gives up at once when bearerbox is not listening for it yet
    while not await _port_open(config.ports.smsbox):
        _check_alive(kannel)
        if time.monotonic() > deadline:
            raise KannelError("bearerbox did not listen for its smsbox in time")
        await asyncio.sleep(POLL_SECONDS)
    kannel.processes[SMSBOX] = await _spawn(binaries.smsbox, path, config.directory)
    while not status_says_ready(await _status(config.status_url), config.smsc_id):
        _check_alive(kannel)
        if time.monotonic() > deadline:
            raise KannelError("Kannel did not bind to the SMSC with its smsbox connected")
        await asyncio.sleep(POLL_SECONDS)


@contextlib.asynccontextmanager
async def running_kannel(
    binaries: KannelBinaries, config: KannelConfig, log_tail_chars: int = LOG_TAIL_CHARS
) -> AsyncIterator[RunningKannel]:
    """bearerbox and smsbox started, bound and connected; both stopped on the way out.
    KannelError, with the end of the logs, when they do not get there in time."""
    config.directory.mkdir(parents=True, exist_ok=True)
    path = config.directory / "kannel.conf"
    path.write_text(kannel_config(config), "utf-8")
    kannel = RunningKannel(config)
    try:
        try:
            await _wait_ready(kannel, binaries, path)
        except KannelError as error:
            raise KannelError(f"{error}\n{kannel.log_tail(log_tail_chars)}") from error
        yield kannel
    finally:
        await kannel.stop()


def running_relay(
    binaries: KannelBinaries, setup: RelaySetup
) -> contextlib.AbstractAsyncContextManager[RunningKannel]:
    """The bench's relay, running (see `running_kannel`)."""
    return running_kannel(binaries, setup.kannel_config())
