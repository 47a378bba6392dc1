"""`MtSender` over an SMPP link: an `OutboundSms` becomes one submit_sm per segment."""

from __future__ import annotations

import itertools

from smsgw.service.messages import OutboundSms
from smsgw.service.ports import PartAccepted, PermanentSendError, SendError
from smsgw.smpp.constants import ESM_UDHI, RD_RECEIPT_ALWAYS, CommandStatus, Tag
from smsgw.smpp.pdu import SubmitSm, SubmitSmResp
from smsgw.smpp.segmentation import Method, Segment, segment
from smsgw.smpp.tlv import set_bytes, set_int
from smsgw.transport.smpp_client import AnswerHandler, EsmeLink
from smsgw.transport.smpp_protocol import LinkError

# Answers after which the same submit may well succeed later.
TEMPORARY_STATUSES = frozenset(
    {
        CommandStatus.ESME_RTHROTTLED,
        CommandStatus.ESME_RMSGQFUL,
        CommandStatus.ESME_RSYSERR,
        CommandStatus.ESME_RX_T_APPN,
        CommandStatus.ESME_RSUBMITFAIL,
        CommandStatus.ESME_RINVBNDSTS,
        CommandStatus.ESME_RUNKNOWNERR,
    }
)

TON_ALPHANUMERIC = 5
TON_NATIONAL = 2
TON_INTERNATIONAL = 1


class SmppSender:
    """Sends replies through one operator's `EsmeLink`, asking for delivery receipts
    (a `PartwiseSender`: every part's message id is reported)."""

    def __init__(self, link: EsmeLink, *, method: Method = "udh", ref16: bool = False) -> None:
        self.link = link
        self.method = method
        self.ref16 = ref16
        self._references = itertools.count(1)

    async def send(self, sms: OutboundSms) -> str:
        return await self._submit(sms, None)

    async def send_parts(self, sms: OutboundSms, on_part: PartAccepted) -> str:
        """As `send`, reporting each accepted part's message id as its resp comes: the
        SMSC may send that part's receipt right behind it, before the other parts'
        resps (or on the receiver bind, ahead of the resp on the transmitter bind)."""
        return await self._submit(sms, on_part)

    async def _submit(self, sms: OutboundSms, on_part: PartAccepted | None) -> str:
        parts = [self._submit_sm(sms, part) for part in self._segments(sms.text)]
        on_answer = None if on_part is None else _reporting(on_part, len(parts))
        try:
            answers = await self.link.submit_message(parts, on_answer)
        except LinkError as error:
            raise SendError(f"no answer from the SMSC: {error}") from error
        return _first_message_id(answers)

    def _segments(self, text: str) -> list[Segment]:
        reference = next(self._references) % (0x10000 if self.ref16 else 0x100)
        return segment(text, method=self.method, reference=reference, ref16=self.ref16)

    def _submit_sm(self, sms: OutboundSms, part: Segment) -> SubmitSm:
        pdu = SubmitSm(
            source_addr_ton=_ton_of(sms.sender),
            source_addr_npi=0 if _ton_of(sms.sender) == TON_ALPHANUMERIC else 1,
            source_addr=sms.sender,
            dest_addr_ton=TON_INTERNATIONAL,
            dest_addr_npi=1,
            destination_addr=sms.receiver.lstrip("+"),
            esm_class=ESM_UDHI if part.esm_class_udhi else 0,
            registered_delivery=RD_RECEIPT_ALWAYS,
            data_coding=part.data_coding,
            short_message=part.short_message,
        )
        if part.sar is not None:
            reference, total, seqnum = part.sar
            set_int(pdu.tlvs, Tag.SAR_MSG_REF_NUM, reference, 2)
            set_int(pdu.tlvs, Tag.SAR_TOTAL_SEGMENTS, total, 1)
            set_int(pdu.tlvs, Tag.SAR_SEGMENT_SEQNUM, seqnum, 1)
        if part.message_payload is not None:
            set_bytes(pdu.tlvs, Tag.MESSAGE_PAYLOAD, part.message_payload)
        return pdu


def _reporting(on_part: PartAccepted, parts: int) -> AnswerHandler:
    async def on_answer(index: int, answer: SubmitSmResp) -> None:
        if answer.command_status == CommandStatus.ESME_ROK and answer.message_id:
            await on_part(index + 1, parts, answer.message_id)

    return on_answer


def _ton_of(address: str) -> int:
    if not address.isdigit():
        return TON_ALPHANUMERIC
    # short numbers (7757) are national; full numbers international
    return TON_NATIONAL if len(address) <= 8 else TON_INTERNATIONAL


def _first_message_id(answers: list[SubmitSmResp]) -> str:
    for answer in answers:
        if answer.command_status == CommandStatus.ESME_ROK:
            continue
        status = answer.command_status
        error = f"the SMSC refused a part: status 0x{status:08X}"
        if status in TEMPORARY_STATUSES:
            raise SendError(error)
        raise PermanentSendError(error)
    return answers[0].message_id
