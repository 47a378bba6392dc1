"""SMPP 3.4 PDUs as plain dataclasses, one class per command (section 4).

Field names are the specification's in snake_case, in wire order (the codec builds
instances positionally). C-octet strings are `str` (latin-1, lossless both ways), octet
strings are `bytes`. `tlvs` holds optional parameters as raw value bytes in wire order,
unknown tags included, so a decoded PDU re-encodes byte for byte; see tlv.py for typed
access. Every field has a default: `SubmitSm(destination_addr="79001234567")` works.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from smsgw.smpp.constants import RESPONSE_BIT, SMPP_VERSION, CommandId
from smsgw.smpp.errors import InvalidCommandId, SmppError


@dataclass(slots=True)
class Pdu:
    command_id: ClassVar[CommandId]
    sequence_number: int = 0
    command_status: int = 0


# --- session management (4.1, 4.2, 4.3, 4.11) ---------------------------------------


@dataclass(slots=True)
class _NoBody(Pdu):
    """A PDU that is its header alone."""


@dataclass(slots=True)
class GenericNack(_NoBody):
    command_id = CommandId.GENERIC_NACK


@dataclass(slots=True)
class _Bind(Pdu):
    system_id: str = ""
    password: str = ""
    system_type: str = ""
    interface_version: int = SMPP_VERSION
    addr_ton: int = 0
    addr_npi: int = 0
    address_range: str = ""


@dataclass(slots=True)
class BindTransmitter(_Bind):
    command_id = CommandId.BIND_TRANSMITTER


@dataclass(slots=True)
class BindReceiver(_Bind):
    command_id = CommandId.BIND_RECEIVER


@dataclass(slots=True)
class BindTransceiver(_Bind):
    command_id = CommandId.BIND_TRANSCEIVER


@dataclass(slots=True)
class _BindResp(Pdu):
    system_id: str = ""
    tlvs: dict[int, bytes] = field(default_factory=dict)


@dataclass(slots=True)
class BindTransmitterResp(_BindResp):
    command_id = CommandId.BIND_TRANSMITTER_RESP


@dataclass(slots=True)
class BindReceiverResp(_BindResp):
    command_id = CommandId.BIND_RECEIVER_RESP


@dataclass(slots=True)
class BindTransceiverResp(_BindResp):
    command_id = CommandId.BIND_TRANSCEIVER_RESP


@dataclass(slots=True)
class Outbind(Pdu):
    command_id = CommandId.OUTBIND
    system_id: str = ""
    password: str = ""


@dataclass(slots=True)
class Unbind(_NoBody):
    command_id = CommandId.UNBIND


@dataclass(slots=True)
class UnbindResp(_NoBody):
    command_id = CommandId.UNBIND_RESP


@dataclass(slots=True)
class EnquireLink(_NoBody):
    command_id = CommandId.ENQUIRE_LINK


@dataclass(slots=True)
class EnquireLinkResp(_NoBody):
    command_id = CommandId.ENQUIRE_LINK_RESP


# --- message submission and delivery (4.4, 4.5, 4.6, 4.7) ----------------------------


@dataclass(slots=True)
class _ShortMessage(Pdu):
    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""
    tlvs: dict[int, bytes] = field(default_factory=dict)


@dataclass(slots=True)
class SubmitSm(_ShortMessage):
    command_id = CommandId.SUBMIT_SM


@dataclass(slots=True)
class DeliverSm(_ShortMessage):
    command_id = CommandId.DELIVER_SM


@dataclass(slots=True)
class _MessageIdResp(Pdu):
    # SMPP 3.4 defines no TLVs here; 5.0 does, and SMSCs send them, so they are kept.
    message_id: str = ""
    tlvs: dict[int, bytes] = field(default_factory=dict)


@dataclass(slots=True)
class SubmitSmResp(_MessageIdResp):
    command_id = CommandId.SUBMIT_SM_RESP


@dataclass(slots=True)
class DeliverSmResp(_MessageIdResp):
    command_id = CommandId.DELIVER_SM_RESP


@dataclass(slots=True)
class DataSm(Pdu):
    command_id = CommandId.DATA_SM
    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    esm_class: int = 0
    registered_delivery: int = 0
    data_coding: int = 0
    tlvs: dict[int, bytes] = field(default_factory=dict)


@dataclass(slots=True)
class DataSmResp(_MessageIdResp):
    command_id = CommandId.DATA_SM_RESP


@dataclass(slots=True, frozen=True)
class SmeAddress:
    """A submit_multi destination that is one SME address (dest_flag 1)."""

    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""


@dataclass(slots=True, frozen=True)
class DistributionList:
    """A submit_multi destination that is an SMSC distribution list (dest_flag 2)."""

    dl_name: str = ""


@dataclass(slots=True, frozen=True)
class UnsuccessSme:
    """One destination that submit_multi_resp reports as failed."""

    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    error_status_code: int = 0


@dataclass(slots=True)
class SubmitMulti(Pdu):
    command_id = CommandId.SUBMIT_MULTI
    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addresses: list[SmeAddress | DistributionList] = field(default_factory=list)
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""
    tlvs: dict[int, bytes] = field(default_factory=dict)


@dataclass(slots=True)
class SubmitMultiResp(Pdu):
    command_id = CommandId.SUBMIT_MULTI_RESP
    message_id: str = ""
    unsuccess_smes: list[UnsuccessSme] = field(default_factory=list)


# --- ancillary operations (4.8, 4.9, 4.10, 4.12) -------------------------------------


@dataclass(slots=True)
class QuerySm(Pdu):
    command_id = CommandId.QUERY_SM
    message_id: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""


@dataclass(slots=True)
class QuerySmResp(Pdu):
    command_id = CommandId.QUERY_SM_RESP
    message_id: str = ""
    final_date: str = ""
    message_state: int = 0
    error_code: int = 0


@dataclass(slots=True)
class CancelSm(Pdu):
    command_id = CommandId.CANCEL_SM
    service_type: str = ""
    message_id: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""


@dataclass(slots=True)
class CancelSmResp(_NoBody):
    command_id = CommandId.CANCEL_SM_RESP


@dataclass(slots=True)
class ReplaceSm(Pdu):
    command_id = CommandId.REPLACE_SM
    message_id: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""


@dataclass(slots=True)
class ReplaceSmResp(_NoBody):
    command_id = CommandId.REPLACE_SM_RESP


@dataclass(slots=True)
class AlertNotification(Pdu):
    command_id = CommandId.ALERT_NOTIFICATION
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    esme_addr_ton: int = 0
    esme_addr_npi: int = 0
    esme_addr: str = ""
    tlvs: dict[int, bytes] = field(default_factory=dict)


# --- lookups -------------------------------------------------------------------------

PDU_CLASSES: dict[int, type[Pdu]] = {
    cls.command_id: cls
    for cls in (
        GenericNack,
        BindTransmitter,
        BindTransmitterResp,
        BindReceiver,
        BindReceiverResp,
        BindTransceiver,
        BindTransceiverResp,
        Outbind,
        Unbind,
        UnbindResp,
        EnquireLink,
        EnquireLinkResp,
        SubmitSm,
        SubmitSmResp,
        DeliverSm,
        DeliverSmResp,
        DataSm,
        DataSmResp,
        SubmitMulti,
        SubmitMultiResp,
        QuerySm,
        QuerySmResp,
        CancelSm,
        CancelSmResp,
        ReplaceSm,
        ReplaceSmResp,
        AlertNotification,
    )
}

# Requests that have a response; outbind and alert_notification have none.
REQUEST_TO_RESPONSE: dict[CommandId, type[Pdu]] = {
    CommandId.BIND_TRANSMITTER: BindTransmitterResp,
    CommandId.BIND_RECEIVER: BindReceiverResp,
    CommandId.BIND_TRANSCEIVER: BindTransceiverResp,
    CommandId.UNBIND: UnbindResp,
    CommandId.ENQUIRE_LINK: EnquireLinkResp,
    CommandId.SUBMIT_SM: SubmitSmResp,
    CommandId.DELIVER_SM: DeliverSmResp,
    CommandId.DATA_SM: DataSmResp,
    CommandId.SUBMIT_MULTI: SubmitMultiResp,
    CommandId.QUERY_SM: QuerySmResp,
    CommandId.CANCEL_SM: CancelSmResp,
    CommandId.REPLACE_SM: ReplaceSmResp,
}
_RESPONSE_BY_REQUEST_ID: dict[int, type[Pdu]] = {int(k): v for k, v in REQUEST_TO_RESPONSE.items()}


def is_response(command_id: int) -> bool:
    return bool(command_id & RESPONSE_BIT)


def make_response(request: Pdu, command_status: int = 0, **fields: Any) -> Pdu:
    """The response to `request`, with its sequence number and the given status/fields."""
    response_class = REQUEST_TO_RESPONSE.get(request.command_id)
    if response_class is None:
        raise InvalidCommandId(f"{request.command_id.name} has no response PDU")
    return response_class(
        sequence_number=request.sequence_number, command_status=command_status, **fields
    )


def error_response(error: SmppError) -> Pdu:
    """What to send back for a PDU that failed to decode with `error`.

    A request whose command id is known and has a response gets that response with the
    error's status (spec 2.3: a PDU that is understood is answered by its own response);
    anything else gets generic_nack.
    """
    sequence_number = error.sequence_number or 0
    if error.command_id is not None:
        response_class = _RESPONSE_BY_REQUEST_ID.get(error.command_id)
        if response_class is not None:
            return response_class(sequence_number, error.command_status)
    return GenericNack(sequence_number, error.command_status)


# SMPP 3.4 lets only these responses leave their body out when command_status is not
# ESME_ROK (sections 4.1 and 4.4.2: "the body is not returned"); every other response,
# deliver_sm_resp and data_sm_resp among them, keeps its body (an empty message_id is
# still its NUL octet).
BODY_OMITTED_ON_ERROR: frozenset[type[Pdu]] = frozenset(
    {BindTransmitterResp, BindReceiverResp, BindTransceiverResp, SubmitSmResp}
)


_Codec = TypeVar("_Codec")


def per_pdu_class(by_layout: Mapping[type[Pdu], _Codec]) -> dict[type[Pdu], _Codec]:
    """A table keyed by body layout (a PDU class, or the base class whose fields its
    subclasses share) as a table keyed by every PDU class: the decoders and encoders
    each say once how a layout is read or written."""
    table: dict[type[Pdu], _Codec] = {}
    for cls in PDU_CLASSES.values():
        layouts = [base for base in cls.__mro__ if base in by_layout]
        if not layouts:
            raise LookupError(f"no layout given for {cls.__name__}")
        table[cls] = by_layout[layouts[0]]
    return table
