"""What keeps one slow or greedy client from holding the listener: a read deadline and a
cap on open connections.

aiohttp waits for a request's headers and body as long as the client keeps the
connection open. `ConnectionGuard` wraps aiohttp's protocol factory: every connection
gets `read_timeout` seconds to deliver a whole request (headers and body), counted from
when it opened or from the end of its previous request; one that has not by then is
cut off and its socket freed. A request whose body is complete is never cut off while
the gateway works on it. Connections beyond `max_connections` are closed as soon as
they are accepted, so a flood costs a file descriptor for an instant, not for minutes.

The error middleware tells the guard when a request reaches the handler
(`request_started`) and when its answer is done (`request_finished`).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog
from aiohttp import web

log = structlog.get_logger(__name__)

DEFAULT_READ_TIMEOUT_SECONDS = 30.0
DEFAULT_MAX_CONNECTIONS = 1000


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    read_timeout_seconds: float = DEFAULT_READ_TIMEOUT_SECONDS
    max_connections: int = DEFAULT_MAX_CONNECTIONS


@dataclass(slots=True)
class _Connection:
    transport: asyncio.Transport
    timer: asyncio.TimerHandle | None = None
    request: web.BaseRequest | None = None  # the request being handled, if any


@dataclass(slots=True)
class GuardStats:
    open: int = 0
    refused: int = 0  # closed on accept: over max_connections
    timed_out: int = 0  # cut off by the read deadline


@dataclass(slots=True)
class ConnectionGuard:
    """The protocol factory of a listener, in front of aiohttp's."""

    factory: Callable[[], asyncio.Protocol]
    limits: ConnectionLimits
    stats: GuardStats = field(default_factory=GuardStats)
    _connections: dict[int, _Connection] = field(default_factory=dict)

    def __call__(self) -> asyncio.Protocol:
        return _GuardedProtocol(self, self.factory())

    # --- called by the error middleware ------------------------------------------------

    def request_started(self, request: web.BaseRequest) -> None:
        connection = self._connections.get(id(request.protocol))
        if connection is not None:
            connection.request = request

    def request_finished(self, request: web.BaseRequest) -> None:
        connection = self._connections.get(id(request.protocol))
        if connection is not None and connection.request is request:
            connection.request = None
            self._arm(connection)  # the next request on this connection gets its own time

    # --- called by the protocol --------------------------------------------------------

    def opened(self, inner: asyncio.Protocol, transport: asyncio.Transport) -> bool:
        if self.stats.open >= self.limits.max_connections:
            self.stats.refused += 1
            transport.abort()
            log.debug("http.connection_refused", open=self.stats.open)
            return False
        self.stats.open += 1
        connection = _Connection(transport)
        self._connections[id(inner)] = connection
        self._arm(connection)
        return True

    def closed(self, inner: asyncio.Protocol) -> None:
        connection = self._connections.pop(id(inner), None)
        if connection is None:
            return
        self.stats.open -= 1
        if connection.timer is not None:
            connection.timer.cancel()

    def _arm(self, connection: _Connection) -> None:
        if connection.timer is not None:
            connection.timer.cancel()
        loop = asyncio.get_running_loop()
        connection.timer = loop.call_later(
            self.limits.read_timeout_seconds, self._deadline, connection
        )

    def _deadline(self, connection: _Connection) -> None:
        connection.timer = None
        request = connection.request
        if request is not None and request.content.is_eof():
            return  # read in time; being worked on: re-armed when it is answered
        self.stats.timed_out += 1
        log.debug("http.read_deadline", reading_body=request is not None)
        connection.transport.abort()


class _GuardedProtocol(asyncio.Protocol):
    """aiohttp's protocol, told nothing of a connection the guard refused."""

    def __init__(self, guard: ConnectionGuard, inner: asyncio.Protocol) -> None:
        self._guard = guard
        self._inner = inner
        self._accepted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._accepted = self._guard.opened(self._inner, transport)
        if self._accepted:
            self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._accepted:
            self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._accepted else None

    def connection_lost(self, exc: Exception | None) -> None:
        if self._accepted:
            self._guard.closed(self._inner)
            self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        if self._accepted:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._accepted:
            self._inner.resume_writing()


class GuardedSockSite(web.BaseSite):
    """aiohttp's SockSite with the guard in front of the runner's protocol factory."""

    __slots__ = ("_guard", "_name", "_sock")

    def __init__(
        self,
        runner: web.BaseRunner,
        sock: socket.socket,
        guard: ConnectionGuard,
        *,
        backlog: int = 512,
    ) -> None:
        super().__init__(runner, backlog=backlog)
        self._sock = sock
        self._guard = guard
        host, port = sock.getsockname()[:2]
        self._name = f"http://{host}:{port}"

    @property
    def name(self) -> str:
        return self._name

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._guard, sock=self._sock, backlog=self._backlog)
