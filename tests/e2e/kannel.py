"""A real Kannel (Debian's bearerbox and smsbox) between the simulated SMSC and the gateway.

    SimulatedSmsc ◀─SMPP─ bearerbox ◀──▶ smsbox ──get-url──▶ gateway /mo/kannel/<link>
                                            ▲
                                            └── sendsms ◀── gateway's KannelSender

The configuration and the two boxes' lifetime are the simulator's
(`simulator.bench.kannel`); this module says what the tests' Kannel is: a catch-all
get-url to the gateway's MO endpoint with the link's secret, replies through sendsms
(never from the get-url's answer), debug logs, and a message store kept across restarts.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web
from yarl import URL

from simulator.bench.kannel import (
    KannelBinaries,
    KannelConfig,
    KannelPorts,
    RunningKannel,
    SendsmsUser,
    running_kannel,
)
from simulator.bench.kannel import kannel_config as config_text
from smsgw.transport.http_common import parse_form_bytes

# the get-url Kannel calls for every MO: the escape codes are Kannel's (user guide,
# "Parameters (Escape Codes)"): %p sender, %P receiver, %b the message octets as they
# came, %c its coding, %C its charset, %i the SMSC id, %I Kannel's id for the message
MO_QUERY = "sender=%p&receiver=%P&text=%b&coding=%c&charset=%C&smsc=%i&id=%I"
POLL_INTERVAL = 0.05
# the end of each log is what explains a failure; the debug logs dump every PDU
LOG_TAIL_CHARS = 20_000


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
        return self.config().sendsms_url

    def config(self) -> KannelConfig:
        # service_max_messages = 0: the gateway texts its replies itself through
        # sendsms, so the empty answer to get-url must never become an SMS
        return KannelConfig(
            smsc_port=self.smsc_port,
            system_id=self.system_id,
            smpp_password=self.smpp_password,
            get_url=f"{self.mo_base_url}?secret={self.mo_secret}&{MO_QUERY}",
            ports=self.ports,
            directory=self.log_dir,
            smsc_id=self.smsc_id,
            admin_password=self.admin_password,
            service_max_messages=0,
            sendsms_user=SendsmsUser(
                self.sendsms_username, self.sendsms_password, self.max_messages
            ),
            debug_logs=True,
            keeps_messages=True,
        )


def kannel_config(setup: KannelSetup) -> str:
    """The configuration of both boxes (bearerbox and smsbox read the same file)."""
    return config_text(setup.config())


def running_kannel_for(
    binaries: KannelBinaries, setup: KannelSetup
) -> AbstractAsyncContextManager[RunningKannel]:
    """Kannel bound to the SMSC with its smsbox connected; a failure's message ends with
    the end of each log."""
    return running_kannel(binaries, setup.config(), LOG_TAIL_CHARS)


async def wait_until(condition: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    """Poll `condition` until it holds; TimeoutError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what}: not within {timeout} s")
        await asyncio.sleep(POLL_INTERVAL)


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
