"""SMPP 3.4 decoders, one per command: (class, frame, command_status, sequence_number)
→ PDU. Strict: every malformation raises the `SmppError` naming the status to answer
(smsgw/smpp/codec.py is the entry point)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final, NoReturn

from smsgw.smpp.codec_fields import (
    ADDRESS_RANGE,
    DESTINATION_ADDR,
    DL_NAME,
    ESME_ADDR,
    FINAL_DATE,
    MESSAGE_ID,
    MESSAGE_ID_MAX,
    NUMBER_OF_DESTS_MAX,
    PASSWORD,
    SCHEDULE_DELIVERY_TIME,
    SERVICE_TYPE,
    SOURCE_ADDR,
    SYSTEM_ID,
    SYSTEM_TYPE,
    U32,
    VALIDITY_PERIOD,
    WIDE_DESTINATION_ADDR,
    WIDE_SOURCE_ADDR,
    CString,
    P,
    cstring,
    missing_nul,
    no_trailing,
    short_message_field,
    time_field,
    tlvs_field,
)
from smsgw.smpp.constants import (
    HEADER_LENGTH,
    SHORT_MESSAGE_MAX,
)
from smsgw.smpp.errors import (
    InvalidDestinationFlag,
    InvalidMessageLength,
    InvalidNumberOfDestinations,
)
from smsgw.smpp.pdu import (
    AlertNotification,
    CancelSm,
    DataSm,
    DistributionList,
    Outbind,
    Pdu,
    QuerySm,
    QuerySmResp,
    ReplaceSm,
    SmeAddress,
    SubmitMulti,
    SubmitMultiResp,
    UnsuccessSme,
    _Bind,
    _BindResp,
    _MessageIdResp,
    _NoBody,
    _ShortMessage,
    per_pdu_class,
)
from smsgw.smpp.tlv import decode_tlvs

# --- decoders: (class, frame, command_status, sequence_number) -> Pdu --------------------


def _body_left_out_on_error(
    decoder: Callable[[type[P], bytes, int, int], P],
) -> Callable[[type[P], bytes, int, int], P]:
    """A response decoder that also reads a response with a status and no body.

    3.4 leaves the body of bind_*_resp and submit_sm_resp out on error; SMSCs that leave
    out the body of another response too are read the same way, leniently."""

    def decode(cls: type[P], frame: bytes, status: int, sequence: int) -> P:
        if status and len(frame) == HEADER_LENGTH:
            return cls(sequence, status)
        return decoder(cls, frame, status, sequence)

    return decode


def _decode_empty(cls: type[P], frame: bytes, status: int, sequence: int) -> P:
    no_trailing(frame, HEADER_LENGTH)
    return cls(sequence, status)


# submit_sm/deliver_sm mandatory fields up to sm_length: C-strings within their limits,
# times empty or 16 characters. A frame that does not match takes the checked path,
# which finds and names the fault.
_SHORT_MESSAGE_FIELDS = re.compile(
    rb"([^\0]{0,5})\0(..)([^\0]{0,20})\0(..)([^\0]{0,20})\0(...)"
    rb"((?:[^\0]{16})?)\0((?:[^\0]{16})?)\0(.....)(.*)",
    re.DOTALL,
).match


def _decode_short_message(
    cls: type[_ShortMessage], frame: bytes, status: int, sequence: int
) -> _ShortMessage:
    match = _SHORT_MESSAGE_FIELDS(frame, HEADER_LENGTH)
    if match is None:
        return _decode_short_message_checked(cls, frame, status, sequence)
    (
        service_type,
        source,
        source_addr,
        dest,
        destination_addr,
        esm,
        schedule,
        validity,
        tail,
        short_message,
    ) = match.groups()
    source_addr_ton, source_addr_npi = source
    dest_addr_ton, dest_addr_npi = dest
    esm_class, protocol_id, priority_flag = esm
    registered_delivery, replace_flag, data_coding, default_msg_id, sm_length = tail
    if len(short_message) == sm_length and sm_length <= SHORT_MESSAGE_MAX:
        tlvs: dict[int, bytes] = {}  # the common case: the message ends the PDU
    else:
        if sm_length > SHORT_MESSAGE_MAX or sm_length > len(short_message):
            _reject_sm_length(sm_length, len(short_message))
        tlvs = decode_tlvs(short_message, sm_length)
        short_message = short_message[:sm_length]
    return cls(
        sequence,
        status,
        service_type.decode("latin-1") if service_type else "",
        source_addr_ton,
        source_addr_npi,
        source_addr.decode("latin-1"),
        dest_addr_ton,
        dest_addr_npi,
        destination_addr.decode("latin-1"),
        esm_class,
        protocol_id,
        priority_flag,
        schedule.decode("latin-1") if schedule else "",
        validity.decode("latin-1") if validity else "",
        registered_delivery,
        replace_flag,
        data_coding,
        default_msg_id,
        short_message,
        tlvs,
    )


def _reject_sm_length(sm_length: int, available: int) -> NoReturn:
    raise InvalidMessageLength(
        f"sm_length {sm_length} exceeds {SHORT_MESSAGE_MAX} or the {available} octets left"
    )


def _decode_short_message_checked(
    cls: type[_ShortMessage], frame: bytes, status: int, sequence: int
) -> _ShortMessage:
    """Field by field: slower than the regex, and raises the error that names the fault."""
    text = frame.decode("latin-1")
    service_type, pos = cstring(text, 16, SERVICE_TYPE)
    source, pos = _address(text, frame, pos, SOURCE_ADDR)
    dest, pos = _address(text, frame, pos, DESTINATION_ADDR)
    fields = (service_type, *source, *dest, *_message_and_tlvs(text, frame, pos))
    return cls(sequence, status, *fields)


def _address(text: str, frame: bytes, pos: int, field: CString) -> tuple[tuple[int, int, str], int]:
    """An address at `pos` (its ton and npi octets, then the C-string) and where it ends."""
    address, end = cstring(text, pos + 2, field)
    return (frame[pos], frame[pos + 1], address), end


_MessageAndTlvs = tuple[int, int, int, str, str, int, int, int, int, bytes, dict[int, bytes]]


def _message_and_tlvs(text: str, frame: bytes, pos: int) -> _MessageAndTlvs:
    """submit_sm's, deliver_sm's and submit_multi's fields from esm_class to the end:
    esm_class, protocol_id, priority_flag, the two times, registered_delivery,
    replace_if_present_flag, data_coding, sm_default_msg_id, short_message, the TLVs."""
    esm_class, protocol_id, priority_flag = frame[pos], frame[pos + 1], frame[pos + 2]
    schedule, pos = time_field(text, pos + 3, SCHEDULE_DELIVERY_TIME)
    validity, pos = time_field(text, pos, VALIDITY_PERIOD)
    registered_delivery, replace_flag = frame[pos], frame[pos + 1]
    data_coding, default_msg_id = frame[pos + 2], frame[pos + 3]
    short_message, pos = short_message_field(frame, pos + 4)
    return (
        esm_class,
        protocol_id,
        priority_flag,
        schedule,
        validity,
        registered_delivery,
        replace_flag,
        data_coding,
        default_msg_id,
        short_message,
        tlvs_field(frame, pos),
    )


@_body_left_out_on_error
def _decode_message_id_resp(
    cls: type[_MessageIdResp], frame: bytes, status: int, sequence: int
) -> _MessageIdResp:
    end = frame.find(0, 16, 16 + MESSAGE_ID_MAX)
    if end < 0:
        missing_nul(frame.decode("latin-1"), 16, MESSAGE_ID)
    message_id = frame[16:end].decode("latin-1")
    end += 1
    return cls(sequence, status, message_id, decode_tlvs(frame, end) if end < len(frame) else {})


def _decode_bind(cls: type[_Bind], frame: bytes, status: int, sequence: int) -> _Bind:
    text = frame.decode("latin-1")
    system_id, pos = cstring(text, 16, SYSTEM_ID)
    password, pos = cstring(text, pos, PASSWORD)
    system_type, pos = cstring(text, pos, SYSTEM_TYPE)
    interface_version, addr_ton, addr_npi = frame[pos], frame[pos + 1], frame[pos + 2]
    address_range, pos = cstring(text, pos + 3, ADDRESS_RANGE)
    no_trailing(frame, pos)
    return cls(
        sequence,
        status,
        system_id,
        password,
        system_type,
        interface_version,
        addr_ton,
        addr_npi,
        address_range,
    )


@_body_left_out_on_error
def _decode_bind_resp(cls: type[_BindResp], frame: bytes, status: int, sequence: int) -> _BindResp:
    text = frame.decode("latin-1")
    system_id, pos = cstring(text, 16, SYSTEM_ID)
    return cls(sequence, status, system_id, tlvs_field(frame, pos))


def _decode_outbind(cls: type[Outbind], frame: bytes, status: int, sequence: int) -> Outbind:
    text = frame.decode("latin-1")
    system_id, pos = cstring(text, 16, SYSTEM_ID)
    password, pos = cstring(text, pos, PASSWORD)
    no_trailing(frame, pos)
    return cls(sequence, status, system_id, password)


def _decode_data_sm(cls: type[DataSm], frame: bytes, status: int, sequence: int) -> DataSm:
    text = frame.decode("latin-1")
    service_type, pos = cstring(text, 16, SERVICE_TYPE)
    source, pos = _address(text, frame, pos, WIDE_SOURCE_ADDR)
    dest, pos = _address(text, frame, pos, WIDE_DESTINATION_ADDR)
    esm_class, registered_delivery, data_coding = frame[pos], frame[pos + 1], frame[pos + 2]
    tlvs = tlvs_field(frame, pos + 3)
    return cls(
        sequence,
        status,
        service_type,
        *source,
        *dest,
        esm_class,
        registered_delivery,
        data_coding,
        tlvs,
    )


def _decode_submit_multi(
    cls: type[SubmitMulti], frame: bytes, status: int, sequence: int
) -> SubmitMulti:
    text = frame.decode("latin-1")
    service_type, pos = cstring(text, 16, SERVICE_TYPE)
    source, pos = _address(text, frame, pos, SOURCE_ADDR)
    number_of_dests = frame[pos]
    if not 1 <= number_of_dests <= NUMBER_OF_DESTS_MAX:
        raise InvalidNumberOfDestinations(f"number_of_dests {number_of_dests}")
    pos += 1
    dest_addresses: list[SmeAddress | DistributionList] = []
    for _ in range(number_of_dests):
        dest_flag = frame[pos]
        if dest_flag == 1:
            sme, pos = _address(text, frame, pos + 1, DESTINATION_ADDR)
            dest_addresses.append(SmeAddress(*sme))
        elif dest_flag == 2:
            name, pos = cstring(text, pos + 1, DL_NAME)
            dest_addresses.append(DistributionList(name))
        else:
            raise InvalidDestinationFlag(f"dest_flag {dest_flag}, expected 1 or 2")
    fields = (service_type, *source, dest_addresses, *_message_and_tlvs(text, frame, pos))
    return cls(sequence, status, *fields)


@_body_left_out_on_error
def _decode_submit_multi_resp(
    cls: type[SubmitMultiResp], frame: bytes, status: int, sequence: int
) -> SubmitMultiResp:
    text = frame.decode("latin-1")
    message_id, pos = cstring(text, 16, MESSAGE_ID)
    count = frame[pos]
    pos += 1
    unsuccess: list[UnsuccessSme] = []
    for _ in range(count):
        address, pos = _address(text, frame, pos, DESTINATION_ADDR)
        (error_status_code,) = U32.unpack_from(frame, pos)
        pos += 4
        unsuccess.append(UnsuccessSme(*address, error_status_code))
    no_trailing(frame, pos)
    return cls(sequence, status, message_id, unsuccess)


def _decode_query_sm(cls: type[QuerySm], frame: bytes, status: int, sequence: int) -> QuerySm:
    text = frame.decode("latin-1")
    message_id, pos = cstring(text, 16, MESSAGE_ID)
    source, pos = _address(text, frame, pos, SOURCE_ADDR)
    no_trailing(frame, pos)
    return cls(sequence, status, message_id, *source)


@_body_left_out_on_error
def _decode_query_sm_resp(
    cls: type[QuerySmResp], frame: bytes, status: int, sequence: int
) -> QuerySmResp:
    text = frame.decode("latin-1")
    message_id, pos = cstring(text, 16, MESSAGE_ID)
    final_date, pos = time_field(text, pos, FINAL_DATE)
    message_state, error_code = frame[pos], frame[pos + 1]
    no_trailing(frame, pos + 2)
    return cls(sequence, status, message_id, final_date, message_state, error_code)


def _decode_cancel_sm(cls: type[CancelSm], frame: bytes, status: int, sequence: int) -> CancelSm:
    text = frame.decode("latin-1")
    service_type, pos = cstring(text, 16, SERVICE_TYPE)
    message_id, pos = cstring(text, pos, MESSAGE_ID)
    source, pos = _address(text, frame, pos, SOURCE_ADDR)
    dest, pos = _address(text, frame, pos, DESTINATION_ADDR)
    no_trailing(frame, pos)
    return cls(sequence, status, service_type, message_id, *source, *dest)


def _decode_replace_sm(cls: type[ReplaceSm], frame: bytes, status: int, sequence: int) -> ReplaceSm:
    text = frame.decode("latin-1")
    message_id, pos = cstring(text, 16, MESSAGE_ID)
    source, pos = _address(text, frame, pos, SOURCE_ADDR)
    schedule, pos = time_field(text, pos, SCHEDULE_DELIVERY_TIME)
    validity, pos = time_field(text, pos, VALIDITY_PERIOD)
    registered_delivery, default_msg_id = frame[pos], frame[pos + 1]
    short_message, pos = short_message_field(frame, pos + 2)
    no_trailing(frame, pos)
    fields = (*source, schedule, validity, registered_delivery, default_msg_id, short_message)
    return cls(sequence, status, message_id, *fields)


def _decode_alert_notification(
    cls: type[AlertNotification], frame: bytes, status: int, sequence: int
) -> AlertNotification:
    text = frame.decode("latin-1")
    source, pos = _address(text, frame, 16, WIDE_SOURCE_ADDR)
    esme, pos = _address(text, frame, pos, ESME_ADDR)
    return cls(sequence, status, *source, *esme, tlvs_field(frame, pos))


_Decoder = Callable[[type[Pdu], bytes, int, int], Pdu]


def _decoders() -> dict[int, tuple[_Decoder, type[Pdu]]]:
    by_layout: dict[type[Pdu], Callable[..., Pdu]] = {
        _NoBody: _decode_empty,
        _Bind: _decode_bind,
        _BindResp: _decode_bind_resp,
        Outbind: _decode_outbind,
        _ShortMessage: _decode_short_message,
        _MessageIdResp: _decode_message_id_resp,
        DataSm: _decode_data_sm,
        SubmitMulti: _decode_submit_multi,
        SubmitMultiResp: _decode_submit_multi_resp,
        QuerySm: _decode_query_sm,
        QuerySmResp: _decode_query_sm_resp,
        CancelSm: _decode_cancel_sm,
        ReplaceSm: _decode_replace_sm,
        AlertNotification: _decode_alert_notification,
    }
    by_class = per_pdu_class(by_layout)
    return {cls.command_id: (decoder, cls) for cls, decoder in by_class.items()}


DECODERS: Final = _decoders()
