"""The simulated SMSC: the operators' side of the SMPP wire, for QA, tests and the demo.

It builds on `simulator.smsc_server` (the SMSC role of our own SMPP core). Each
bind credential belongs to one operator; what the gateway submits is kept as the
phones' inbox, and `send_mo` delivers a phone's text to a bound gateway as deliver_sm.

Faults on demand (simulator/faults.py) are carried out here: `smsc.faults` is settable
at run time (`smsc.faults = Faults(throttle_count=2)`), each connection asks the
`FaultInjector` how to answer a bind or a submit_sm, and `send_mo` asks it how to
deliver (duplicates, parts out of order). `drop_links()` closes binds now. Every bind,
unbind and refused bind is reported to `on_link` and kept in `binds`.

Delivery receipts are written as SMPP 3.4 appendix B shows them (`id:… sub:… dlvrd:…
submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:… err:… text:`), one per submitted
part, with the receipted_message_id and message_state TLVs. The receipt faults make them
come before the submit_sm_resp, only on a bind_receiver, with the id in the other base,
or for ids never issued; the link faults close TCP on unbind or send enquire_link.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
from collections import defaultdict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from simulator.config import SmscSettings
from simulator.faults import (
    RECEIPT_STATES,
    BindLimiter,
    FaultInjector,
    Faults,
    SubmitAction,
    SubmitDecision,
)
from simulator.smsc_server import SmscConnection, SmscServer
from smsgw.smpp.codec import DEFAULT_MAX_PDU_SIZE
from smsgw.smpp.constants import (
    ESM_DELIVERY_RECEIPT,
    ESM_UDHI,
    HEADER_LENGTH,
    CommandId,
    CommandStatus,
    Tag,
)
from smsgw.smpp.errors import SmppError
from smsgw.smpp.events import BindRequest
from smsgw.smpp.pdu import (
    DeliverSm,
    DeliverSmResp,
    EnquireLink,
    GenericNack,
    Pdu,
    SubmitSm,
    SubmitSmResp,
)
from smsgw.smpp.reassembly import Reassembler, concat_from_sar, read_user_data
from smsgw.smpp.segmentation import concat_udh
from smsgw.smpp.session import SessionConfig
from smsgw.smpp.text import decode_text, encode_text
from smsgw.smpp.tlv import get_int, set_bytes, set_cstring, set_int
from smsgw.transport.deadline_timer import DeadlineTimer
from smsgw.transport.smpp_protocol import LinkError, Signal

log = structlog.get_logger(__name__)

# data_coding 8: UCS-2, which carries every driver's alphabet (Cyrillic, Kazakh).
UCS2 = 8
# One UCS-2 SMS holds 140 octets; with an 8-bit concatenation UDH (6 octets) 134.
_SINGLE_OCTETS = 140
_PART_OCTETS = 134
BIND_NAMES = {
    CommandId.BIND_TRANSCEIVER: "transceiver",
    CommandId.BIND_TRANSMITTER: "transmitter",
    CommandId.BIND_RECEIVER: "receiver",
}


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
    submitted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class LinkChange:
    """A bind accepted ("bound"), ended ("unbound") or refused ("refused", with status)."""

    system_id: str
    operator: str | None
    bind: str
    state: str
    status: int = CommandStatus.ESME_ROK
    at: float = 0.0  # the event loop's clock (monotonic seconds)


@dataclass(frozen=True, slots=True)
class SentReceipt:
    message_id: str
    stat: str
    status: int  # the gateway's deliver_sm_resp status; -1: it could not be delivered


class SimulatedConnection(SmscConnection):
    """One ESME bound to the simulated SMSC, misbehaving as the current faults say."""

    def __init__(self, server: SmscServer, smsc: SimulatedSmsc) -> None:
        super().__init__(server)
        self.smsc = smsc
        self.limiter = BindLimiter()
        self.dropped = False
        # frames are looked at before the session sees them: a fault may close the
        # connection on an unbind instead of answering it
        self._unread = bytearray()
        self._raw = False

    async def handle_bind(self, request: BindRequest) -> int:
        operator = self.smsc.operator_for(request.system_id)
        status = self.smsc.injector.on_bind(operator)
        if status == CommandStatus.ESME_ROK:
            status = await super().handle_bind(request)
        if status != CommandStatus.ESME_ROK:
            self.smsc.link_changed(self, request, "refused", status)
        return status

    def data_received(self, data: bytes) -> None:
        if self._raw:
            super().data_received(data)
            return
        pending = self._unread
        pending += data
        while len(pending) >= 4:
            length = int.from_bytes(pending[:4], "big")
            if not HEADER_LENGTH <= length <= DEFAULT_MAX_PDU_SIZE:
                # a broken stream: the session answers it from this frame on
                self._raw = True
                super().data_received(bytes(pending))
                pending.clear()
                return
            if len(pending) < length:
                return
            frame = bytes(pending[:length])
            del pending[:length]
            if _is_unbind(frame) and self.smsc.faults.close_on_unbind:
                log.info("sim.fault_close_on_unbind", system_id=self.system_id)
                self.abort()
                return
            super().data_received(frame)

    async def handle_request(self, pdu: Pdu) -> Pdu | int:
        if not isinstance(pdu, SubmitSm):
            return await super().handle_request(pdu)
        now = asyncio.get_running_loop().time()
        decision = self.smsc.injector.on_submit(self.smsc.operator_of(self), self.limiter, now)
        self.limiter.outstanding += 1
        try:
            return await self._answer_submit(pdu, decision)
        finally:
            self.limiter.outstanding -= 1

    async def _answer_submit(self, pdu: SubmitSm, decision: SubmitDecision) -> Pdu | int:
        if decision.action is SubmitAction.DROP:
            log.info("sim.fault_drop", system_id=self.system_id)
            self.dropped = True
            self.abort()
            return await self._never_answered()
        if decision.action is SubmitAction.NO_RESPONSE:
            return await self._never_answered()
        if decision.delay > 0:
            await asyncio.sleep(decision.delay)
        if decision.action is SubmitAction.NACK:
            return GenericNack(command_status=decision.status)
        if decision.action is SubmitAction.REFUSE:
            return decision.status
        answer = await super().handle_request(pdu)
        if isinstance(answer, SubmitSmResp):
            # an SMSC that reports before it answers: the receipt is out, and answered,
            # before the submit_sm_resp carrying its id
            await self.smsc.receipt_before_resp(answer.message_id)
        return answer

    async def keep_enquiring(self, period: float) -> None:
        """Send enquire_link every `period` seconds while bound, as some SMSCs do."""
        while not self.closed.done():
            await asyncio.sleep(period)
            if self.closed.done() or not self.session.state.is_bound:
                return
            try:
                response = await self.send_request(EnquireLink())
            except (LinkError, SmppError):
                return
            if response.command_status == CommandStatus.ESME_ROK:
                self.smsc.enquire_links_answered += 1
                self.smsc.changed.notify()

    async def _never_answered(self) -> int:
        # Held until the connection ends; an answer to a closed session is dropped.
        await asyncio.shield(self.closed)
        return CommandStatus.ESME_RSYSERR

    def connection_closed(self) -> None:
        was_bound = self in self.server.bound
        super().connection_closed()
        if was_bound:
            self.smsc.link_changed(self, None, "unbound")


class SimulatedSmsc:
    """An SMPP server with per-operator credentials, an MT inbox per phone and MO injection."""

    def __init__(
        self,
        settings: SmscSettings,
        *,
        on_mt: Callable[[ReceivedMt], None] | None = None,
        on_link: Callable[[LinkChange], None] | None = None,
        faults: Faults | None = None,
        reassembler: Reassembler | None = None,
        keep_inbox: bool = True,
        session: SessionConfig | None = None,
    ) -> None:
        self.settings = settings
        self.mo_flood_answers = 0
        self.on_mt = on_mt
        self.on_link = on_link
        self.injector = FaultInjector(faults)
        self._operator_of = {a.system_id: a.operator for a in settings.accounts}
        self.inbox: dict[str, list[ReceivedMt]] = defaultdict(list)
        self.binds: list[LinkChange] = []
        self.receipts_sent: list[SentReceipt] = []
        self.enquire_links_answered = 0
        # receipts to send before the submit_sm_resp of their message id
        self._receipts_first: dict[str, tuple[ReceivedMt, str]] = {}
        self._unknown_ids = itertools.count(1)
        self.segments_received = 0
        self.changed = Signal()
        # how the parts of a long MT are joined into what the phone shows
        self._parts = reassembler if reassembler is not None else Reassembler()
        # drops a long MT's parts when the rest never comes, without waiting for a new part
        self._parts_timer = DeadlineTimer(asyncio.get_running_loop, self._expire_parts)
        # False: MT go to the subscribers only (a load test keeps no history)
        self.keep_inbox = keep_inbox
        self._mt_subscribers: list[Callable[[ReceivedMt], None]] = []
        self._mo_references = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self.server = SmscServer(
            authenticate={a.system_id: a.password for a in settings.accounts},
            on_submit=self._on_submit,
            on_bind=self._on_bind,
            system_id="smsgw-sim",
            connection_class=lambda server: SimulatedConnection(server, self),
            session_config=session,
        )

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        await self.server.start(self.settings.host, self.settings.port)

    @property
    def port(self) -> int:
        return self.server.port

    async def close(self) -> None:
        self._parts_timer.cancel()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.server.close()

    # --- faults --------------------------------------------------------------------------

    @property
    def faults(self) -> Faults:
        return self.injector.faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self.injector.faults = faults

    def drop_links(self, operator: str | None = None) -> int:
        """Close the TCP connection of every bind (of `operator`) now; how many."""
        dropped = [
            connection
            for connection in list(self.server.connections)
            if operator is None or self.operator_of(connection) == operator
        ]
        for connection in dropped:
            if isinstance(connection, SimulatedConnection):
                connection.dropped = True  # gone for MO at once, before asyncio says so
            connection.abort()
        log.info("sim.links_dropped", operator=operator, count=len(dropped))
        return len(dropped)

    # --- who is bound --------------------------------------------------------------------

    def operator_for(self, system_id: str) -> str | None:
        return self._operator_of.get(system_id)

    def operator_of(self, connection: SmscConnection) -> str | None:
        if connection.system_id is None:
            return None
        return self._operator_of.get(connection.system_id)

    def bound_links(self) -> list[LinkChange]:
        """Each bound connection as (system_id, operator, bind), ordered by system_id."""
        links = [
            LinkChange(
                connection.system_id or "",
                self.operator_of(connection),
                BIND_NAMES.get(connection.bind_type, "?") if connection.bind_type else "?",
                "bound",
            )
            for connection in self.server.bound
        ]
        return sorted(links, key=lambda link: (link.system_id, link.bind))

    def is_bound(self, operator: str) -> bool:
        return any(
            self.operator_of(connection) == operator and _can_receive(connection)
            for connection in self.server.bound
        )

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        """Return once `condition()` holds; it is checked after every SMSC event."""
        async with asyncio.timeout(timeout):
            while not condition():
                await self.changed.wait()

    def link_changed(
        self,
        connection: SmscConnection,
        request: BindRequest | None,
        state: str,
        status: int = CommandStatus.ESME_ROK,
    ) -> None:
        system_id = request.system_id if request is not None else connection.system_id or ""
        bind_type = request.command_id if request is not None else connection.bind_type
        change = LinkChange(
            system_id,
            self.operator_for(system_id),
            BIND_NAMES.get(bind_type, "?") if bind_type is not None else "?",
            state,
            status,
            asyncio.get_running_loop().time(),
        )
        self.binds.append(change)
        log.info("sim.link", system_id=system_id, state=state, status=status)
        if self.on_link is not None:
            self.on_link(change)
        self.changed.notify()

    def _on_bind(self, connection: SmscConnection) -> None:
        self.link_changed(connection, None, "bound")
        period = self.faults.enquire_link_ms / 1000
        if period > 0 and isinstance(connection, SimulatedConnection):
            self._spawn(connection.keep_enquiring(period))

    # --- MT ------------------------------------------------------------------------------

    async def wait_for_texts(self, msisdn: str, count: int, timeout: float = 5.0) -> list[str]:
        """The texts `msisdn` received, once there are at least `count` of them."""
        await self.wait_until(lambda: len(self.inbox[msisdn]) >= count, timeout)
        return [message.text for message in self.inbox[msisdn]]

    def _on_submit(self, connection: SmscConnection, pdu: SubmitSm) -> SubmitSmResp | int:
        operator = self.operator_of(connection)
        if operator is None:
            return CommandStatus.ESME_RINVBNDSTS
        message_id = self._new_message_id()
        self.segments_received += 1
        text = self._whole_text(operator, pdu)
        if text is not None:
            received = ReceivedMt(operator, pdu.source_addr, pdu.destination_addr, text, message_id)
            if self.keep_inbox:
                self.inbox[pdu.destination_addr].append(received)
            if self.on_mt is not None:
                self.on_mt(received)
            for subscriber in self._mt_subscribers:
                subscriber(received)
            log.info("sim.mt_received", operator=operator, message_id=message_id)
            self.changed.notify()
        submitted_at = datetime.now(UTC)
        receipt = self.injector.receipt_for(operator, pdu.registered_delivery)
        if receipt is not None:
            stat, delay = receipt
            mt = ReceivedMt(
                operator, pdu.source_addr, pdu.destination_addr, "", message_id, submitted_at
            )
            if self.faults.receipt_before_resp:
                self._receipts_first[message_id] = (mt, stat)
            else:
                self._spawn(self._receipt_later(mt, stat, delay))
        if self.injector.unknown_receipt(operator):
            unknown = format(0xFFFF0000 + next(self._unknown_ids), "x")
            mt = ReceivedMt(
                operator, pdu.source_addr, pdu.destination_addr, "", unknown, submitted_at
            )
            self._spawn(self._receipt_later(mt, "DELIVRD", 0.0))
        return SubmitSmResp(message_id=message_id)

    def _new_message_id(self) -> str:
        message_id = self.server.new_message_id()  # hex
        if self.faults.message_id_format == "decimal":
            return str(int(message_id, 16))
        return message_id

    async def receipt_before_resp(self, message_id: str) -> None:
        """Send the receipt held for `message_id` now, if the fault held one."""
        pending = self._receipts_first.pop(message_id, None)
        if pending is not None:
            mt, stat = pending
            await self._receipt_later(mt, stat, 0.0)

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
            asyncio.get_running_loop().time(),
        )
        self._parts_timer.arm(self._parts.get_timer())
        return None if whole is None else decode_text(whole, pdu.data_coding)

    def _expire_parts(self, now: float) -> None:
        self._parts.handle_timer(now)
        self._parts_timer.arm(self._parts.get_timer())

    # --- delivery receipts ---------------------------------------------------------------

    async def send_receipt(
        self, received: ReceivedMt, *, stat: str = "DELIVRD", state: int = 2
    ) -> int:
        """Deliver a delivery receipt for a message the gateway submitted."""
        faults = self.faults
        receiver_only = faults.receipt_bind == "receiver" and faults.applies_to(received.operator)
        connection = self._receiver_for(received.operator, receiver_only=receiver_only)
        message_id = self._receipt_id(received.message_id)
        pdu = DeliverSm(
            source_addr=received.destination,
            destination_addr=received.source,
            esm_class=ESM_DELIVERY_RECEIPT,
            short_message=receipt_text(
                message_id, stat, received.submitted_at, datetime.now(UTC)
            ).encode("ascii"),
        )
        set_cstring(pdu.tlvs, Tag.RECEIPTED_MESSAGE_ID, message_id)
        set_int(pdu.tlvs, Tag.MESSAGE_STATE, state, 1)
        response: DeliverSmResp = await connection.deliver(pdu)
        return response.command_status

    def _receipt_id(self, message_id: str) -> str:
        """The id as this SMSC writes it in receipts (its resps' base, or the other)."""
        faults = self.faults
        given = faults.message_id_format
        wanted = given if faults.receipt_id_format == "same" else faults.receipt_id_format
        if wanted == given:
            return message_id
        try:
            number = int(message_id, 16 if given == "hex" else 10)
        except ValueError:
            return message_id
        return format(number, "x") if wanted == "hex" else str(number)

    async def _receipt_later(self, received: ReceivedMt, stat: str, delay: float) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        state = int(RECEIPT_STATES[stat])
        try:
            status = await self.send_receipt(received, stat=stat, state=state)
        except Exception as error:  # no receiver bound, link lost: the receipt is lost
            log.info("sim.receipt_lost", message_id=received.message_id, error=repr(error))
            status = -1
        self.receipts_sent.append(SentReceipt(received.message_id, stat, status))
        self.changed.notify()

    # --- MO ------------------------------------------------------------------------------

    async def send_mo(
        self, operator: str, source: str, destination: str, text: str, *, wait: float = 0.0
    ) -> int:
        """Deliver a phone's text to a gateway bound for `operator`; returns its status.

        With no such gateway bound, waits up to `wait` seconds for one (as an SMSC keeps
        an MO until it can deliver it), then raises `NoGatewayBoundError`. With faults:
        sent again `mo_duplicates` times, cut into `mo_parts` UDH parts in
        `mo_parts_order`. The status is the first error answered, else ESME_ROK.
        """
        if wait > 0:
            with contextlib.suppress(TimeoutError):
                await self.wait_until(lambda: self.is_bound(operator), wait)
        connection = self._receiver_for(operator)
        source, destination = self.injector.mo_addresses(operator, source, destination)
        pdus = self._mo_pdus(operator, source, destination, text)
        status: int = CommandStatus.ESME_ROK
        if (flood := self.injector.mo_flood(operator)) > 0:
            return await self._flood(connection, pdus, flood)
        for _ in range(self.injector.mo_copies(operator)):
            for pdu in pdus:
                response: DeliverSmResp = await connection.deliver(pdu)
                if status == CommandStatus.ESME_ROK:
                    status = response.command_status
        return status

    async def _flood(self, connection: SmscConnection, pdus: list[DeliverSm], copies: int) -> int:
        """Every pdu `copies` times, all written as fast as the window lets; the first
        error answered, else ESME_ROK. (Build the SMSC with a wide `session` window to
        flood beyond the usual 10 outstanding.)"""
        sends = [connection.deliver(pdu) for _ in range(copies) for pdu in pdus]
        responses = await asyncio.gather(*sends)
        self.mo_flood_answers += len(responses)
        errors = [r.command_status for r in responses if r.command_status != 0]
        return errors[0] if errors else CommandStatus.ESME_ROK

    def _mo_pdus(self, operator: str, source: str, destination: str, text: str) -> list[DeliverSm]:
        octets = encode_text(text, UCS2)
        if (padded := self.injector.mo_payload_bytes(operator)) > 0:
            # the whole text, padded with UCS-2 spaces, in one message_payload
            payload = octets + " ".encode("utf-16-be") * max(0, (padded - len(octets)) // 2)
            pdu = mo_deliver_sm(source, destination, b"", esm_class=0)
            set_bytes(pdu.tlvs, Tag.MESSAGE_PAYLOAD, payload)
            return [pdu]
        wanted = self.injector.mo_part_count(operator)
        if wanted < 2 and len(octets) <= _SINGLE_OCTETS:
            return [mo_deliver_sm(source, destination, octets, esm_class=0)]
        ref16 = self.injector.faults.mo_parts_ref16 and wanted >= 2
        # never fewer parts than the text needs, whatever the fault asks for
        needed = -(-len(octets) // (_PART_OCTETS - 2 if ref16 else _PART_OCTETS))
        bodies = _split_ucs2(octets, max(wanted, needed))
        reference = next(self._mo_references) % (0x10000 if ref16 else 0x100)
        parts = [
            mo_deliver_sm(
                source,
                destination,
                concat_udh(reference, len(bodies), seqnum, ref16=ref16) + body,
                esm_class=ESM_UDHI,
            )
            for seqnum, body in enumerate(bodies, start=1)
        ]
        return [parts[index] for index in self.injector.part_order(operator, len(parts))]

    def _receiver_for(self, operator: str, *, receiver_only: bool = False) -> SmscConnection:
        for connection in self.server.bound:
            if self.operator_of(connection) != operator or not _can_receive(connection):
                continue
            if receiver_only and connection.bind_type != CommandId.BIND_RECEIVER:
                continue
            return connection
        raise NoGatewayBoundError(f"no gateway is bound to receive for operator {operator!r}")

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- subscriptions ---------------------------------------------------------------------

    def subscribe_mt(self, callback: Callable[[ReceivedMt], None]) -> Callable[[], None]:
        """Call `callback` with every whole MT too (after `on_mt`); returns the unsubscribe."""
        self._mt_subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._mt_subscribers.remove(callback)

        return unsubscribe

    def set_window(self, window: int) -> None:
        """Outstanding deliver_sm per bind from now on (binds made after this call)."""
        current = self.server.session_config or SessionConfig()
        self.server.session_config = dataclasses.replace(current, window_size=window)


def mo_deliver_sm(
    source: str, destination: str, short_message: bytes, *, esm_class: int
) -> DeliverSm:
    """A mobile-originated message as this SMSC delivers it: international numbers, UCS-2."""
    return DeliverSm(
        source_addr_ton=1,
        source_addr_npi=1,
        source_addr=source,
        destination_addr=destination,
        esm_class=esm_class,
        data_coding=UCS2,
        short_message=short_message,
    )


def _split_ucs2(octets: bytes, count: int) -> list[bytes]:
    """`octets` cut into `count` near-equal parts on UCS-2 unit boundaries (fewer only
    when there are fewer units than parts)."""
    units = len(octets) // 2
    count = max(1, min(count, units))
    bounds = [units * index // count * 2 for index in range(count + 1)]
    return [octets[start:end] for start, end in itertools.pairwise(bounds)]


def _can_receive(connection: SmscConnection) -> bool:
    # bind_transmitter links only submit; deliver_sm needs a receiver or transceiver bind.
    if isinstance(connection, SimulatedConnection) and connection.dropped:
        return False
    return connection.bind_type in (CommandId.BIND_RECEIVER, CommandId.BIND_TRANSCEIVER)


def receipt_text(
    message_id: str, stat: str, submitted: datetime | None, done: datetime, err: int = 0
) -> str:
    """A receipt's short_message as SMPP 3.4 appendix B lays it out (dates YYMMDDhhmm)."""
    delivered = 1 if stat == "DELIVRD" else 0
    submit_date = (submitted or done).strftime("%y%m%d%H%M")
    done_date = done.strftime("%y%m%d%H%M")
    return (
        f"id:{message_id} sub:001 dlvrd:{delivered:03d} submit date:{submit_date}"
        f" done date:{done_date} stat:{stat} err:{err:03d} text:"
    )


def _is_unbind(frame: bytes) -> bool:
    return int.from_bytes(frame[4:8], "big") == CommandId.UNBIND
