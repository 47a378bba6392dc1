"""The simulated SMSC: the operators' side of the SMPP wire, for QA, tests and the demo.

It builds on `smsgw.transport.smpp_server` (the SMSC role of our own SMPP core). Each
bind credential belongs to one operator; what the gateway submits is kept as the
phones' inbox, and `send_mo` delivers a phone's text to a bound gateway as deliver_sm.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from simulator.config import SmscSettings
from smsgw.smpp.constants import ESM_DELIVERY_RECEIPT, ESM_UDHI, CommandId, CommandStatus, Tag
from smsgw.smpp.pdu import DeliverSm, DeliverSmResp, SubmitSm, SubmitSmResp
from smsgw.smpp.reassembly import Reassembler, concat_from_sar, read_user_data
from smsgw.smpp.text import decode_text, encode_text
from smsgw.smpp.tlv import get_int, set_cstring, set_int
from smsgw.transport.smpp_server import SmscConnection, SmscServer

log = structlog.get_logger(__name__)

# data_coding 8: UCS-2, which carries every driver's alphabet (Cyrillic, Kazakh).
UCS2 = 8


class NoGatewayBoundError(RuntimeError):
    """No gateway is bound to receive for that operator, so the MO cannot go out."""


@dataclass(frozen=True, slots=True)
class ReceivedMt:
    """A message the gateway submitted: what the phone would show."""

    operator: str
    source: str
    destination: str
    text: str
    message_id: str


class SimulatedSmsc:
    """An SMPP server with per-operator credentials, an MT inbox per phone and MO injection."""

    def __init__(
        self, settings: SmscSettings, *, on_mt: Callable[[ReceivedMt], None] | None = None
    ) -> None:
        self.settings = settings
        self.on_mt = on_mt
        self._operator_of = {a.system_id: a.operator for a in settings.accounts}
        self.inbox: dict[str, list[ReceivedMt]] = defaultdict(list)
        self.segments_received = 0
        self._inbox_changed = asyncio.Event()
        self._parts = Reassembler()
        self.server = SmscServer(
            authenticate={a.system_id: a.password for a in settings.accounts},
            on_submit=self._on_submit,
            system_id="smsgw-sim",
        )

    async def start(self) -> None:
        await self.server.start(self.settings.host, self.settings.port)

    @property
    def port(self) -> int:
        return self.server.port

    async def close(self) -> None:
        await self.server.close()

    def operator_of(self, connection: SmscConnection) -> str | None:
        if connection.system_id is None:
            return None
        return self._operator_of.get(connection.system_id)

    async def wait_for_texts(self, msisdn: str, count: int, timeout: float = 5.0) -> list[str]:
        """The texts `msisdn` received, once there are at least `count` of them."""
        async with asyncio.timeout(timeout):
            while len(self.inbox[msisdn]) < count:
                self._inbox_changed.clear()
                await self._inbox_changed.wait()
        return [message.text for message in self.inbox[msisdn]]

    async def send_mo(self, operator: str, source: str, destination: str, text: str) -> int:
        """Deliver a phone's text to a gateway bound for `operator`; returns its status."""
        connection = self._receiver_for(operator)
        pdu = DeliverSm(
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr=source,
            destination_addr=destination,
            data_coding=UCS2,
            short_message=encode_text(text, UCS2),
        )
        response: DeliverSmResp = await connection.deliver(pdu)
        return response.command_status

    async def send_receipt(
        self, received: ReceivedMt, *, stat: str = "DELIVRD", state: int = 2
    ) -> int:
        """Deliver a delivery receipt for a message the gateway submitted."""
        connection = self._receiver_for(received.operator)
        text = f"id:{received.message_id} sub:001 dlvrd:001 stat:{stat} err:000 text:"
        pdu = DeliverSm(
            source_addr=received.destination,
            destination_addr=received.source,
            esm_class=ESM_DELIVERY_RECEIPT,
            short_message=text.encode("ascii"),
        )
        set_cstring(pdu.tlvs, Tag.RECEIPTED_MESSAGE_ID, received.message_id)
        set_int(pdu.tlvs, Tag.MESSAGE_STATE, state, 1)
        response: DeliverSmResp = await connection.deliver(pdu)
        return response.command_status

    def _receiver_for(self, operator: str) -> SmscConnection:
        for connection in self.server.bound:
            if self.operator_of(connection) == operator and _can_receive(connection):
                return connection
        raise NoGatewayBoundError(f"no gateway is bound to receive for operator {operator!r}")

    def _on_submit(self, connection: SmscConnection, pdu: SubmitSm) -> SubmitSmResp | int:
        operator = self.operator_of(connection)
        if operator is None:
            return CommandStatus.ESME_RINVBNDSTS
        message_id = self.server.new_message_id()
        self.segments_received += 1
        text = self._whole_text(operator, pdu)
        if text is not None:
            self.inbox[pdu.destination_addr].append(
                ReceivedMt(operator, pdu.source_addr, pdu.destination_addr, text, message_id)
            )
            self._inbox_changed.set()
            if self.on_mt is not None:
                self.on_mt(self.inbox[pdu.destination_addr][-1])
            log.info("sim.mt_received", operator=operator, message_id=message_id)
        return SubmitSmResp(message_id=message_id)

    def _whole_text(self, operator: str, pdu: SubmitSm) -> str | None:
        """The message's text once its last part is in (a phone shows whole messages)."""
        sar = concat_from_sar(
            get_int(pdu.tlvs, Tag.SAR_MSG_REF_NUM),
            get_int(pdu.tlvs, Tag.SAR_TOTAL_SEGMENTS),
            get_int(pdu.tlvs, Tag.SAR_SEGMENT_SEQNUM),
        )
        data = read_user_data(pdu.short_message, udhi=bool(pdu.esm_class & ESM_UDHI), sar=sar)
        if data.concat is None:
            return decode_text(data.body, pdu.data_coding)
        whole = self._parts.add_concat(
            operator,
            pdu.source_addr,
            pdu.destination_addr,
            data.concat,
            data.body,
            time.monotonic(),
        )
        return None if whole is None else decode_text(whole, pdu.data_coding)


def _can_receive(connection: SmscConnection) -> bool:
    # bind_transmitter links only submit; deliver_sm needs a receiver or transceiver bind.
    return connection.bind_type in (CommandId.BIND_RECEIVER, CommandId.BIND_TRANSCEIVER)
