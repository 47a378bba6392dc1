"""SmppProtocol writes once per loop turn: every PDU made in one turn (the answers and
submits a group commit releases together) leaves in one write, not a syscall each."""

from __future__ import annotations

import asyncio

from simulator.smsc_server import SmscServer
from smsgw.smpp.constants import CommandStatus
from smsgw.smpp.events import Role
from smsgw.smpp.pdu import BindTransceiver, EnquireLink, Pdu
from smsgw.transport.smpp_protocol import SmppProtocol
from tests.transport.conftest import GUARD


async def test_pdus_made_in_one_loop_turn_leave_in_one_write(server: SmscServer) -> None:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_connection(
        lambda: SmppProtocol(Role.ESME), "127.0.0.1", server.port
    )
    writes: list[bytes] = []
    write = transport.write

    def counted(data: bytes | bytearray | memoryview) -> None:
        writes.append(bytes(data))
        write(data)

    transport.write = counted  # type: ignore[method-assign]
    try:
        async with asyncio.timeout(GUARD):
            bound = await protocol.send_request(
                BindTransceiver(system_id="esme", password="secret")
            )
        assert bound.command_status == CommandStatus.ESME_ROK
        writes.clear()

        pending = [protocol.send_request(EnquireLink()) for _ in range(5)]
        async with asyncio.timeout(GUARD):
            answers: list[Pdu] = list(await asyncio.gather(*pending))

        assert [answer.command_status for answer in answers] == [CommandStatus.ESME_ROK] * 5
        assert len(writes) == 1, "five requests made in one turn, written together"
        assert len(writes[0]) == 5 * 16  # five enquire_link PDUs, header only
    finally:
        protocol.abort()
