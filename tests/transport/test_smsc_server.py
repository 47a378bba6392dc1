"""SmscServer with plain SMPP adapters as clients: credentials, many binds, hooks, close."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from simulator.smsc_server import SmscConnection, SmscServer, accounts_authenticator
from smsgw.smpp.constants import CommandId, CommandStatus
from smsgw.smpp.events import BindRequest, Role
from smsgw.smpp.pdu import (
    BindReceiver,
    BindTransceiver,
    Pdu,
    QuerySm,
    SubmitSm,
    SubmitSmResp,
)
from smsgw.transport.smpp_protocol import SmppProtocol
from tests.transport.conftest import GUARD

Connect = Callable[[SmscServer], Awaitable[SmppProtocol]]


@pytest.fixture
async def connect() -> AsyncIterator[Connect]:
    protocols: list[SmppProtocol] = []

    async def open_to(server: SmscServer) -> SmppProtocol:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(
            lambda: SmppProtocol(Role.ESME), "127.0.0.1", server.port
        )
        protocols.append(protocol)
        return protocol

    yield open_to
    for protocol in protocols:
        protocol.abort()


async def _bind(protocol: SmppProtocol, password: str = "secret", system_id: str = "esme") -> Pdu:
    async with asyncio.timeout(GUARD):
        return await protocol.send_request(BindTransceiver(system_id=system_id, password=password))


@pytest.mark.parametrize(
    ("system_id", "password", "status"),
    [
        ("esme", "secret", CommandStatus.ESME_ROK),
        ("esme", "wrong", CommandStatus.ESME_RINVPASWD),
        ("nobody", "secret", CommandStatus.ESME_RINVSYSID),
    ],
)
async def test_credentials_are_checked(
    server: SmscServer, connect: Connect, system_id: str, password: str, status: int
) -> None:
    protocol = await connect(server)
    response = await _bind(protocol, password, system_id)
    assert response.command_status == status
    assert protocol.session.state.is_bound is (status == CommandStatus.ESME_ROK)
    assert len(server.bound) == (1 if status == CommandStatus.ESME_ROK else 0)


async def test_authenticate_callback_sees_bind_type_and_peer(connect: Connect) -> None:
    seen: list[tuple[str, CommandId, object]] = []

    async def authenticate(system_id: str, password: str, bind: CommandId, peer: object) -> int:
        seen.append((system_id, bind, peer))
        return CommandStatus.ESME_ROK

    server = SmscServer(authenticate=authenticate)
    await server.start()
    try:
        protocol = await connect(server)
        async with asyncio.timeout(GUARD):
            await protocol.send_request(BindReceiver(system_id="rx", password="pw"))
        ((system_id, bind, peer),) = seen
        assert (system_id, bind) == ("rx", CommandId.BIND_RECEIVER)
        assert isinstance(peer, tuple) and peer[0] == "127.0.0.1"
    finally:
        await server.close()


async def test_many_simultaneous_binds_get_distinct_message_ids(
    server: SmscServer, connect: Connect
) -> None:
    protocols = [await connect(server) for _ in range(5)]
    await asyncio.gather(*(_bind(protocol) for protocol in protocols))
    assert len(server.bound) == 5
    async with asyncio.timeout(GUARD):
        answers = await asyncio.gather(
            *(protocol.send_request(SubmitSm(destination_addr="1")) for protocol in protocols)
        )
    ids = [answer.message_id for answer in answers if isinstance(answer, SubmitSmResp)]
    assert len(set(ids)) == 5


async def test_unsupported_request_gets_rinvcmdid(server: SmscServer, connect: Connect) -> None:
    protocol = await connect(server)
    await _bind(protocol)
    async with asyncio.timeout(GUARD):
        answer = await protocol.send_request(QuerySm(message_id="1"))
    assert answer.command_status == CommandStatus.ESME_RINVCMDID


async def test_failing_submit_hook_answers_rsyserr(connect: Connect) -> None:
    def broken(connection: SmscConnection, pdu: SubmitSm) -> SubmitSmResp:
        raise RuntimeError("simulated fault")

    server = SmscServer(authenticate={"esme": "secret"}, on_submit=broken)
    await server.start()
    try:
        protocol = await connect(server)
        await _bind(protocol)
        async with asyncio.timeout(GUARD):
            answer = await protocol.send_request(SubmitSm())
        assert answer.command_status == CommandStatus.ESME_RSYSERR
    finally:
        await server.close()


class FaultyConnection(SmscConnection):
    """What the simulator does: wrap the overridable handlers."""

    async def handle_bind(self, request: BindRequest) -> int:
        if request.system_type == "REFUSE":
            return CommandStatus.ESME_RBINDFAIL
        return await super().handle_bind(request)

    async def handle_request(self, pdu: Pdu) -> Pdu | int:
        if isinstance(pdu, SubmitSm) and pdu.destination_addr == "throttle-me":
            return CommandStatus.ESME_RTHROTTLED
        return await super().handle_request(pdu)


async def test_handlers_can_be_overridden(connect: Connect) -> None:
    server = SmscServer(
        authenticate=accounts_authenticator({"esme": "secret"}), connection_class=FaultyConnection
    )
    await server.start()
    try:
        refused = await connect(server)
        async with asyncio.timeout(GUARD):
            answer = await refused.send_request(
                BindTransceiver(system_id="esme", password="secret", system_type="REFUSE")
            )
        assert answer.command_status == CommandStatus.ESME_RBINDFAIL
        protocol = await connect(server)
        await _bind(protocol)
        async with asyncio.timeout(GUARD):
            throttled = await protocol.send_request(SubmitSm(destination_addr="throttle-me"))
            accepted = await protocol.send_request(SubmitSm(destination_addr="1"))
        assert throttled.command_status == CommandStatus.ESME_RTHROTTLED
        assert accepted.command_status == CommandStatus.ESME_ROK
    finally:
        await server.close()


async def test_close_unbinds_every_esme(connect: Connect) -> None:
    server = SmscServer(authenticate={"esme": "secret"})
    await server.start()
    protocols = [await connect(server) for _ in range(3)]
    idle = await connect(server)  # connected but never bound
    await asyncio.gather(*(_bind(protocol) for protocol in protocols))
    async with asyncio.timeout(GUARD):
        await server.close()
        await asyncio.gather(*(protocol.closed for protocol in [*protocols, idle]))
    assert all(protocol.session.closed for protocol in protocols)
    assert not server.connections and not server.bound
