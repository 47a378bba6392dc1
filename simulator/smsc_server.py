"""An asyncio SMSC listener: many ESME binds, credential check, hooks for the simulator.

`SmscServer` accepts connections; each is an `SmscConnection` (the SMSC-role session
adapter). Behaviour is in overridable methods and in callbacks, so the simulator can
wrap them for fault injection:

- `SmscConnection.handle_bind(request)` → status (default: the server's `authenticate`);
- `SmscConnection.handle_request(pdu)` → response PDU or status (default: submit_sm to
  `on_submit`, anything else ESME_RINVCMDID);
- `SmscConnection.deliver(pdu)` → the ESME's deliver_sm_resp.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeAlias, TypeVar

import structlog

from smsgw.smpp.constants import CommandId, CommandStatus
from smsgw.smpp.events import (
    BindRequest,
    BindRequested,
    DeliveryReceiptReceived,
    Event,
    PduReceived,
    Role,
    Unbound,
)
from smsgw.smpp.pdu import DeliverSm, DeliverSmResp, Pdu, SubmitSm, SubmitSmResp
from smsgw.smpp.session import SessionConfig
from smsgw.transport.smpp_protocol import SmppProtocol, status_of

log = structlog.get_logger(__name__)

T = TypeVar("T")
MaybeAwaitable: TypeAlias = T | Awaitable[T]
Peer = tuple[Any, ...] | None
# (system_id, password, bind command, peer address) -> command_status (0 accepts).
Authenticator = Callable[[str, str, CommandId, Peer], MaybeAwaitable[int]]
# (connection, submit_sm) -> the response to send, or just its status.
SubmitHandler = Callable[["SmscConnection", SubmitSm], MaybeAwaitable[SubmitSmResp | int]]
ConnectionHook = Callable[["SmscConnection"], MaybeAwaitable[None]]


async def _resolve(value: MaybeAwaitable[T]) -> T:
    if inspect.isawaitable(value):
        return await value
    return value


def accounts_authenticator(accounts: Mapping[str, str]) -> Authenticator:
    """An `Authenticator` over a fixed system_id → password table."""

    def authenticate(system_id: str, password: str, bind: CommandId, peer: Peer) -> int:
        expected = accounts.get(system_id)
        if expected is None:
            return CommandStatus.ESME_RINVSYSID
        if password != expected:
            return CommandStatus.ESME_RINVPASWD
        return CommandStatus.ESME_ROK

    return authenticate


class SmscConnection(SmppProtocol):
    """One ESME connected to the `SmscServer` (SMSC role)."""

    def __init__(self, server: SmscServer) -> None:
        super().__init__(Role.SMSC, server.session_config)
        self.server = server
        self.system_id: str | None = None
        self.bind_type: CommandId | None = None

    # --- overridable behaviour ---------------------------------------------------------

    async def handle_bind(self, request: BindRequest) -> int:
        """The status to answer a bind with; 0 binds the ESME."""
        return await _resolve(
            self.server.authenticate(
                request.system_id, request.password, request.command_id, self.peer
            )
        )

    async def handle_request(self, pdu: Pdu) -> Pdu | int:
        """The response (or only its status) to a request from the ESME."""
        if isinstance(pdu, SubmitSm):
            return await _resolve(self.server.on_submit(self, pdu))
        return CommandStatus.ESME_RINVCMDID

    # --- API -----------------------------------------------------------------------------

    async def deliver(self, pdu: DeliverSm) -> DeliverSmResp:
        """Send a deliver_sm once the window has room; returns the ESME's answer.

        A generic_nack comes back as a DeliverSmResp with its status. Raises
        `InvalidBindState` when the ESME is not bound to receive, `LinkError` when the
        answer does not come.
        """
        while self.session.window_free == 0 and not self.session.closed:
            await self.changed.wait()
        response = await self.send_request(pdu)
        if isinstance(response, DeliverSmResp):
            return response
        return DeliverSmResp(response.sequence_number, status_of(response))

    async def close(self) -> None:
        """Unbind (or just disconnect when not bound) and wait until the link is gone."""
        self.unbind()
        await self.closed

    # --- events --------------------------------------------------------------------------

    def event_received(self, event: Event) -> None:
        match event:
            case BindRequested(request=request):
                self.spawn(self._answer_bind(request))
            case PduReceived(pdu=pdu) | DeliveryReceiptReceived(pdu=pdu):
                self.spawn(self._answer_request(pdu))
            case Unbound():
                self.spawn(self._notify(self.server.on_unbind))
            case _:
                pass

    def connection_closed(self) -> None:
        self.server.connection_closed(self)

    async def _answer_bind(self, request: BindRequest) -> None:
        try:
            status = await self.handle_bind(request)
        except Exception:
            log.exception("smsc.bind_check_failed", system_id=request.system_id)
            status = CommandStatus.ESME_RBINDFAIL
        if status != CommandStatus.ESME_ROK:
            self.respond(request, status)
            log.info("smsc.bind_refused", system_id=request.system_id, status=status)
            return
        if self.respond(request, system_id=self.server.system_id):
            self.system_id = request.system_id
            self.bind_type = request.command_id
            self.server.connection_bound(self)
            await self._notify(self.server.on_bind)

    async def _answer_request(self, pdu: Pdu) -> None:
        try:
            answer = await self.handle_request(pdu)
        except Exception:
            log.exception("smsc.request_failed", command=pdu.command_id.name)
            answer = CommandStatus.ESME_RSYSERR
        if isinstance(answer, int):
            self.respond(pdu, answer)
            return
        answer.sequence_number = pdu.sequence_number
        self.send_response(answer)

    async def _notify(self, hook: ConnectionHook | None) -> None:
        if hook is not None:
            await _resolve(hook(self))


def _hex_message_ids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: format(next(counter), "x")


class SmscServer:
    """Listens for ESMEs; every connection is a `SmscConnection` (or ``connection_class``).

    ``authenticate`` is a callback or a system_id → password mapping. ``on_submit``
    answers submit_sm (default: accept with a fresh hex message id). ``on_bind`` and
    ``on_unbind`` are told about connections that bound or unbound cleanly.
    """

    def __init__(
        self,
        *,
        authenticate: Authenticator | Mapping[str, str],
        on_submit: SubmitHandler | None = None,
        on_bind: ConnectionHook | None = None,
        on_unbind: ConnectionHook | None = None,
        session_config: SessionConfig | None = None,
        system_id: str = "smsc",
        connection_class: Callable[[SmscServer], SmscConnection] = SmscConnection,
    ) -> None:
        if isinstance(authenticate, Mapping):
            authenticate = accounts_authenticator(dict(authenticate))
        self.authenticate: Authenticator = authenticate
        self.on_submit: SubmitHandler = on_submit or self.accept_submit
        self.on_bind = on_bind
        self.on_unbind = on_unbind
        self.session_config = session_config
        self.system_id = system_id
        self.connection_class = connection_class
        self.connections: set[SmscConnection] = set()
        self.bound: set[SmscConnection] = set()
        self.new_message_id = _hex_message_ids()
        self._server: asyncio.Server | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._new_connection, host, port)

    @property
    def port(self) -> int:
        """The port listened on (useful after ``start(port=0)``)."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the server is not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def accept_submit(self, connection: SmscConnection, pdu: SubmitSm) -> SubmitSmResp:
        """The default `on_submit`: accept and assign the next message id."""
        return SubmitSmResp(message_id=self.new_message_id())

    async def close(self) -> None:
        """Stop listening, unbind every ESME and wait for the connections to end."""
        if self._server is not None:
            self._server.close()
        await asyncio.gather(
            *(connection.close() for connection in list(self.connections)),
            return_exceptions=True,
        )
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    # --- called by connections ---------------------------------------------------------

    def connection_bound(self, connection: SmscConnection) -> None:
        self.bound.add(connection)

    def connection_closed(self, connection: SmscConnection) -> None:
        self.connections.discard(connection)
        self.bound.discard(connection)

    def _new_connection(self) -> SmscConnection:
        connection = self.connection_class(self)
        self.connections.add(connection)
        return connection
