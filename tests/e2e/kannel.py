"""A real Kannel (Debian's bearerbox and smsbox) between the simulated SMSC and the gateway.

    SimulatedSmsc ◀─SMPP─ bearerbox ◀──▶ smsbox ──get-url──▶ gateway /mo/kannel/<link>
                                            ▲
                                            └── sendsms ◀── gateway's KannelSender

`kannel_config` writes the one configuration file both boxes read; `running_kannel`
starts bearerbox then smsbox with their logs under the given directory, waits (bounded)
until bearerbox reports the SMSC bound and the smsbox connected, and stops both.
Kannel's ports must be written into its configuration, so they are picked beforehand by
binding port 0 and closing the socket (`free_ports`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import aiohttp
from aiohttp import web
from yarl import URL

from smsgw.transport.http_common import parse_form_bytes

BEARERBOX = "bearerbox"
SMSBOX = "smsbox"
# Debian installs the boxes in /usr/sbin, which is not on every user's PATH
SEARCH_PATH = os.pathsep.join(("/usr/sbin", "/usr/local/sbin", os.environ.get("PATH", "")))
# the get-url Kannel calls for every MO: the escape codes are Kannel's (user guide,
# "Parameters (Escape Codes)"): %p sender, %P receiver, %b the message octets as they
# came, %c its coding, %C its charset, %i the SMSC id, %I Kannel's id for the message
MO_QUERY = "sender=%p&receiver=%P&text=%b&coding=%c&charset=%C&smsc=%i&id=%I"
READY_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0
POLL_INTERVAL = 0.05
# the end of each log is what explains a failure; the debug logs dump every PDU
LOG_TAIL_CHARS = 20_000


class KannelNotReadyError(RuntimeError):
    """Kannel did not bind to the SMSC or connect its smsbox in time; see its logs."""


@dataclass(frozen=True, slots=True)
class KannelBinaries:
    bearerbox: Path
    smsbox: Path


@dataclass(frozen=True, slots=True)
class KannelPorts:
    admin: int
    smsbox: int
    sendsms: int


@dataclass(frozen=True, slots=True)
class KannelSetup:
    """What the configuration says: where the SMSC is, where MO go, who may send."""

    smsc_port: int
    system_id: str
    smpp_password: str
    mo_base_url: str  # e.g. http://127.0.0.1:<gateway>/mo/kannel/kannel-mts
    ports: KannelPorts
    log_dir: Path
    smsc_id: str = "mts"
    sendsms_username: str = "smsgw"
    sendsms_password: str = "sendsms-secret"
    admin_password: str = "admin-secret"
    max_messages: int = 10  # parts of one concatenated reply
    # the gateway link's secret, sent with every MO: letters, digits, "-" and "_" only,
    # as "%" would start one of Kannel's escape codes
    mo_secret: str = ""

    @property
    def sendsms_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.sendsms}/cgi-bin/sendsms"

    @property
    def status_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.admin}/status.xml?password={self.admin_password}"


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


def kannel_ports() -> KannelPorts:
    admin, smsbox, sendsms = free_ports(3)
    return KannelPorts(admin=admin, smsbox=smsbox, sendsms=sendsms)


def _quoted(value: str) -> str:
    if '"' in value or "\n" in value:
        raise ValueError(f"a Kannel configuration value cannot hold {value!r}")
    return f'"{value}"'


def _group(name: str, settings: dict[str, str | int | bool]) -> str:
    lines = [f"group = {name}"]
    for key, value in settings.items():
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, int):
            lines.append(f"{key} = {value}")
        else:
            lines.append(f"{key} = {_quoted(value)}")
    return "\n".join(lines) + "\n"


def kannel_config(setup: KannelSetup) -> str:
    """The configuration of both boxes (bearerbox and smsbox read the same file)."""
    logs = setup.log_dir
    core = _group(
        "core",
        {
            "admin-port": setup.ports.admin,
            "admin-password": setup.admin_password,
            "status-password": setup.admin_password,
            "admin-allow-ip": "127.0.0.1",
            "smsbox-port": setup.ports.smsbox,
            "box-allow-ip": "127.0.0.1",
            "log-file": str(logs / "bearerbox.log"),
            "log-level": 0,
            "access-log": str(logs / "bearerbox-access.log"),
            # bearerbox acknowledges an MO to the SMSC before the gateway has it: its
            # store keeps the MO across a restart until smsbox delivered it
            "store-type": "file",
            "store-location": str(logs / "kannel.store"),
            "dlr-storage": "internal",
        },
    )
    smsc = _group(
        "smsc",
        {
            "smsc": "smpp",
            "smsc-id": setup.smsc_id,
            "host": "127.0.0.1",
            "port": setup.smsc_port,
            "transceiver-mode": True,
            "smsc-username": setup.system_id,
            "smsc-password": setup.smpp_password,
            "system-type": "",
            "enquire-link-interval": 30,
            "reconnect-delay": 1,
            "log-file": str(logs / f"smsc-{setup.smsc_id}.log"),
            "log-level": 0,
        },
    )
    smsbox = _group(
        "smsbox",
        {
            "bearerbox-host": "127.0.0.1",
            "sendsms-port": setup.ports.sendsms,
            "log-file": str(logs / "smsbox.log"),
            "log-level": 0,
            "access-log": str(logs / "smsbox-access.log"),
            # without these Kannel drops an MO the gateway answered 503 (not stored):
            # smsbox 1.4.5 tries a get-url once unless told to retry
            "http-request-retry": 3,
            "http-queue-delay": 1,
        },
    )
    sendsms_user = _group(
        "sendsms-user",
        {
            "username": setup.sendsms_username,
            "password": setup.sendsms_password,
            "max-messages": setup.max_messages,
            "concatenation": True,
            "user-allow-ip": "127.0.0.1",
        },
    )
    # max-messages = 0: the gateway texts its replies itself through sendsms, so the
    # empty answer to get-url must never become an SMS
    service = _group(
        "sms-service",
        {
            "keyword": "default",
            "catch-all": True,
            "get-url": f"{setup.mo_base_url}?secret={setup.mo_secret}&{MO_QUERY}",
            "max-messages": 0,
            "omit-empty": True,
        },
    )
    return "\n".join((core, smsc, smsbox, sendsms_user, service))


@dataclass
class RunningKannel:
    setup: KannelSetup
    config_path: Path
    processes: dict[str, asyncio.subprocess.Process] = field(default_factory=dict)

    def log_text(self) -> str:
        """The end of each of Kannel's logs, for a failing test's message."""
        parts = []
        for path in sorted(self.setup.log_dir.glob("*.log")):
            tail = path.read_text("utf-8", errors="replace")[-LOG_TAIL_CHARS:]
            parts.append(f"===== {path} (end)\n{tail}")
        return "\n".join(parts)

    async def stop(self) -> None:
        # smsbox first, so bearerbox is not left waiting for a box that is going
        for name in (SMSBOX, BEARERBOX):
            process = self.processes.pop(name, None)
            if process is not None:
                await _terminate(process)


async def _terminate(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    try:
        async with asyncio.timeout(STOP_TIMEOUT):
            await process.wait()
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


async def _spawn(binary: Path, config: Path, log_dir: Path) -> asyncio.subprocess.Process:
    name = binary.name
    with (
        (log_dir / f"{name}.stdout").open("wb") as stdout,
        (log_dir / f"{name}.stderr").open("wb") as stderr,
    ):
        # -v 4: only errors on the console; the log files have everything
        return await asyncio.create_subprocess_exec(
            str(binary), "-v", "4", str(config), stdout=stdout, stderr=stderr
        )


async def wait_until(condition: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    """Poll `condition` until it holds; TimeoutError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what}: not within {timeout} s")
        await asyncio.sleep(POLL_INTERVAL)


def status_says_ready(status_xml: str, smsc_id: str) -> bool:
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


def _raise_if_exited(processes: dict[str, asyncio.subprocess.Process]) -> None:
    for name, process in processes.items():
        if process.returncode is not None:
            raise KannelNotReadyError(f"{name} exited with status {process.returncode}")


async def _kannel_ready(
    session: aiohttp.ClientSession,
    setup: KannelSetup,
    processes: dict[str, asyncio.subprocess.Process],
) -> bool:
    _raise_if_exited(processes)
    try:
        async with session.get(setup.status_url) as response:
            body = await response.text()
    except aiohttp.ClientError:
        return False
    return response.status == 200 and status_says_ready(body, setup.smsc_id)


async def _port_open(port: int) -> bool:
    try:
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True


async def _wait_ready(kannel: RunningKannel, binaries: KannelBinaries) -> None:
    setup = kannel.setup
    kannel.processes[BEARERBOX] = await _spawn(
        binaries.bearerbox, kannel.config_path, setup.log_dir
    )

    async def box_port_open() -> bool:
        _raise_if_exited(kannel.processes)
        return await _port_open(setup.ports.smsbox)

    # smsbox gives up at once (PANIC) when bearerbox is not listening for it yet
    await wait_until(box_port_open, READY_TIMEOUT, "bearerbox listening for its smsbox")
    kannel.processes[SMSBOX] = await _spawn(binaries.smsbox, kannel.config_path, setup.log_dir)
    async with aiohttp.ClientSession() as session:
        await wait_until(
            lambda: _kannel_ready(session, setup, kannel.processes),
            READY_TIMEOUT,
            "Kannel bound to the SMSC with its smsbox connected",
        )


@asynccontextmanager
async def running_kannel(
    binaries: KannelBinaries, setup: KannelSetup
) -> AsyncIterator[RunningKannel]:
    setup.log_dir.mkdir(parents=True, exist_ok=True)
    config_path = setup.log_dir / "kannel.conf"
    config_path.write_text(kannel_config(setup), "utf-8")
    kannel = RunningKannel(setup, config_path)
    try:
        try:
            await _wait_ready(kannel, binaries)
        except (TimeoutError, KannelNotReadyError) as error:
            raise KannelNotReadyError(f"{error}\n{kannel.log_text()}") from error
        yield kannel
    finally:
        await kannel.stop()


# --- what the gateway asks Kannel to send --------------------------------------------------


@dataclass(slots=True)
class SendsmsCall:
    """One sendsms request as it crossed the wire, and Kannel's answer once it came."""

    query: dict[str, bytes]
    status: int | None = None
    answer: str = ""

    @property
    def text(self) -> str:
        """The message text, decoded as the request's charset says (UTF-16BE or UTF-8)."""
        charset = self.query.get("charset", b"UTF-8").decode("ascii").upper()
        codec = "utf-16-be" if charset == "UTF-16BE" else "utf-8"
        return self.query.get("text", b"").decode(codec)

    @property
    def dlr_id(self) -> str:
        """The outbox id the gateway put into the dlr-url it gave Kannel."""
        dlr_url = URL(self.query["dlr-url"].decode("utf-8"))
        return dlr_url.query["id"]


class SendsmsRecorder:
    """A pass-through in front of Kannel's sendsms that keeps every request and answer.

    The gateway's link points here; each request goes on to Kannel unchanged (the raw
    query, so the UTF-16BE octets are not re-encoded) and Kannel's answer comes back.
    A request is recorded before it is forwarded: Kannel may submit the message to the
    SMSC before it answers the request.
    """

    def __init__(self, target_url: str) -> None:
        self.target_url = target_url
        self.calls: list[SendsmsCall] = []
        self.port = 0
        self._answered = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/cgi-bin/sendsms"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/cgi-bin/sendsms", self._forward)
        self._session = aiohttp.ClientSession()
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def answered_call(self, text: str, timeout: float) -> SendsmsCall:
        """The request that carried `text`, once Kannel has answered it."""

        def find() -> SendsmsCall | None:
            for call in self.calls:
                if call.text == text and call.status is not None:
                    return call
            return None

        async with asyncio.timeout(timeout), self._answered:
            await self._answered.wait_for(lambda: find() is not None)
        call = find()
        assert call is not None
        return call

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        raw_query = request.rel_url.raw_query_string
        call = SendsmsCall(parse_form_bytes(raw_query))
        self.calls.append(call)
        target = URL(f"{self.target_url}?{raw_query}", encoded=True)
        try:
            async with self._session.get(target) as answer:
                body = await answer.read()
                status = answer.status
        except aiohttp.ClientError as error:
            # as a proxy would answer: the gateway counts it a temporary failure
            body, status = f"Kannel did not answer: {error}".encode(), 502
        call.status, call.answer = status, body.decode("utf-8", errors="replace")
        async with self._answered:
            self._answered.notify_all()
        return web.Response(status=status, body=body, content_type="text/plain")
