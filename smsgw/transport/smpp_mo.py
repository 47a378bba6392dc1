"""What an SMPP link hands the gateway: deliver_sm → `InboundSms`, receipts → the outbox.

The SMSC gets ESME_ROK only once the gateway has stored the message (`accept` returned);
when storing fails the answer is ESME_RX_T_APPN, a temporary error, so the SMSC retries.

Concatenated MO parts are joined in memory (`Reassembler`) and each part is answered at
once: an SMSC sends the next part only after the previous answer. A part held in memory
is lost by a crash; parking commands fit one SMS, so this is rare, and the expired parts
are logged. Redeliveries of a message whose answer was lost are recognised by a digest
of link, sender, receiver and text (see `dedup_key_for`).
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog

from smsgw.observability import mask_msisdn
from smsgw.service.messages import InboundSms
from smsgw.smpp.constants import CommandStatus, Tag
from smsgw.smpp.events import DeliveryReceiptReceived
from smsgw.smpp.pdu import DataSm, DeliverSm
from smsgw.smpp.reassembly import ConcatInfo, Reassembler, concat_from_sar, read_user_data
from smsgw.smpp.text import decode_text
from smsgw.smpp.tlv import get_bytes, get_int
from smsgw.transport.smpp_receipts import AcceptReceipt, answer_receipt

log = structlog.get_logger(__name__)

AcceptMo = Callable[[InboundSms], Awaitable[bool]]
Clock = Callable[[], datetime]

# A redelivery of the same text within this many seconds is the same message.
REDELIVERY_WINDOW_SECONDS = 600
# An answer slower than this may have reached the SMSC after it gave up and queued the
# message for redelivery.
ANSWER_LATE_SECONDS = 5.0
# The same text again this soon is the SMSC sending one message twice: no driver types a
# command again within seconds.
DUPLICATE_SECONDS = 10.0


@dataclass(slots=True)
class _Recent:
    """What this link remembers of a text it was given, to tell a redelivery from a
    driver texting the same thing again."""

    key: str  # of the latest arrival of this text
    first_seen: float
    last_seen: float
    generation: int  # the link's connection count when it came
    repeats: int = 0
    answer_uncertain: bool = False  # answered late or not with ESME_ROK


def dedup_key_for(link_id: str, sender: str, receiver: str, text: str, first_seen: float) -> str:
    """The key that makes a redelivered MO the same message.

    SMPP gives an MO no id of its own, so the key is a digest of its content plus the
    window it first arrived in. Within one process a redelivery reuses the first key
    (`SmppInbound` remembers it); after a restart the window bucket still matches
    unless the redelivery crosses a bucket boundary.
    """
    digest = hashlib.sha256(
        "\x1f".join((link_id, sender, receiver, text)).encode("utf-8", "surrogatepass")
    ).hexdigest()[:32]
    bucket = int(first_seen // REDELIVERY_WINDOW_SECONDS)
    return f"{digest}:{bucket}"


class SmppInbound:
    """The `on_deliver` / `on_receipt` callbacks of one operator's `EsmeLink`."""

    def __init__(
        self,
        *,
        link_id: str,
        operator_id: str,
        accept_mo: AcceptMo,
        accept_receipt: AcceptReceipt,
        clock: Clock = lambda: datetime.now(UTC),
        reassembler: Reassembler | None = None,
        connection_generation: Callable[[], int] = lambda: 0,
    ) -> None:
        self.link_id = link_id
        self.operator_id = operator_id
        self.accept_mo = accept_mo
        self.accept_receipt = accept_receipt
        self.clock = clock
        self.reassembler = reassembler or Reassembler()
        self.connection_generation = connection_generation
        # set when the node drains: new MO are refused for now, so the SMSC keeps them
        self.draining = False
        # content -> what we remember of it, oldest first: forgetting takes from the front
        self._recent: OrderedDict[str, _Recent] = OrderedDict()

    async def on_deliver(self, pdu: DeliverSm | DataSm) -> int:
        if self.draining:
            return CommandStatus.ESME_RX_T_APPN
        now = self.clock()
        text = self._complete_text(pdu, now.timestamp())
        if text is None:
            return CommandStatus.ESME_ROK  # a part: held until the message is whole
        sms = InboundSms(
            link_id=self.link_id,
            operator_id=self.operator_id,
            sender=pdu.source_addr,
            receiver=pdu.destination_addr,
            text=text,
            received_at=now,
            dedup_key=self._dedup_key(pdu.source_addr, pdu.destination_addr, text, now),
        )
        started = time.monotonic()
        status = await self._store(sms)
        if status != CommandStatus.ESME_ROK or time.monotonic() - started > ANSWER_LATE_SECONDS:
            self._recent[_content(sms.sender, sms.receiver, sms.text)].answer_uncertain = True
        return status

    async def _store(self, sms: InboundSms) -> int:
        try:
            await self.accept_mo(sms)
        except Exception:
            log.exception("mo.not_stored", link=self.link_id, sender=mask_msisdn(sms.sender))
            return CommandStatus.ESME_RX_T_APPN
        return CommandStatus.ESME_ROK

    async def on_receipt(self, event: DeliveryReceiptReceived) -> int:
        if self.draining:
            return CommandStatus.ESME_RX_T_APPN
        return await answer_receipt(
            event, link_id=self.link_id, operator_id=self.operator_id, accept=self.accept_receipt
        )

    def expire_parts(self, now: datetime) -> int:
        """Drop incomplete concatenated MOs past their timeout; returns how many."""
        dropped = self.reassembler.expire(now.timestamp())
        for message in dropped:
            log.warning("mo.parts_dropped", link=self.link_id, reason=message.reason)
        return len(dropped)

    def _complete_text(self, pdu: DeliverSm | DataSm, now: float) -> str | None:
        payload = get_bytes(pdu.tlvs, Tag.MESSAGE_PAYLOAD)
        short_message = payload if payload is not None else _short_message(pdu)
        data = read_user_data(short_message, udhi=bool(pdu.esm_class & 0x40), sar=_sar(pdu))
        if data.concat is None:
            return decode_text(data.body, pdu.data_coding)
        whole = self.reassembler.add_concat(
            self.link_id, pdu.source_addr, pdu.destination_addr, data.concat, data.body, now
        )
        return None if whole is None else decode_text(whole, pdu.data_coding)

    def _dedup_key(self, sender: str, receiver: str, text: str, now: datetime) -> str:
        """The first arrival's key for a redelivery, a fresh one for a new message.

        SMPP cannot tell the two apart by itself. An SMSC redelivers a message whose
        ESME_ROK it did not get: because the link dropped (the connection count moved
        on) or because our answer was late or refused; a faulty SMSC may also send one
        deliver_sm twice, seconds apart. A repeat with none of these is the driver
        texting the same thing again, and is a message of its own."""
        seen_at = now.timestamp()
        content = _content(sender, receiver, text)
        generation = self.connection_generation()
        recent = self._recent.get(content)
        if recent is not None and seen_at - recent.first_seen < REDELIVERY_WINDOW_SECONDS:
            redelivered = (
                recent.answer_uncertain
                or recent.generation != generation
                or seen_at - recent.last_seen < DUPLICATE_SECONDS
            )
            recent.last_seen = seen_at
            if redelivered:
                recent.generation = generation
                recent.answer_uncertain = False
                return recent.key
            recent.repeats += 1
            return (
                f"{dedup_key_for(self.link_id, sender, receiver, text, seen_at)}:{recent.repeats}"
            )
        key = dedup_key_for(self.link_id, sender, receiver, text, seen_at)
        self._forget_old(seen_at)
        self._recent[content] = _Recent(key, seen_at, seen_at, generation)
        self._recent.move_to_end(content)
        return key

    def _forget_old(self, now: float) -> None:
        """Drop what was first seen a whole window ago. The oldest are at the front, so
        this stops at the first one still in its window: O(1) per message."""
        recent = self._recent
        while recent:
            oldest = recent[next(iter(recent))]
            if now - oldest.first_seen < REDELIVERY_WINDOW_SECONDS:
                return
            recent.popitem(last=False)


def _content(sender: str, receiver: str, text: str) -> str:
    return f"{sender}\x1f{receiver}\x1f{text}"


def _short_message(pdu: DeliverSm | DataSm) -> bytes:
    return pdu.short_message if isinstance(pdu, DeliverSm) else b""


def _sar(pdu: DeliverSm | DataSm) -> ConcatInfo | None:
    return concat_from_sar(
        get_int(pdu.tlvs, Tag.SAR_MSG_REF_NUM),
        get_int(pdu.tlvs, Tag.SAR_TOTAL_SEGMENTS),
        get_int(pdu.tlvs, Tag.SAR_SEGMENT_SEQNUM),
    )
