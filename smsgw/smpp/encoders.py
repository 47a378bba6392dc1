"""SMPP 3.4 encoders, one per PDU class: PDU → framed bytes. They validate what the
decoders would reject (smsgw/smpp/codec.py is the entry point)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from smsgw.smpp.codec_fields import (
    ADDR_MAX,
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
    SERVICE_TYPE_MAX,
    SOURCE_ADDR,
    SYSTEM_ID,
    SYSTEM_TYPE,
    TIME_LENGTH,
    U32,
    VALIDITY_PERIOD,
    WIDE_DESTINATION_ADDR,
    WIDE_SOURCE_ADDR,
    CString,
    P,
    pack_header,
    tlv_header_of,
)
from smsgw.smpp.constants import (
    HEADER_LENGTH,
    SHORT_MESSAGE_MAX,
)
from smsgw.smpp.errors import (
    InvalidMessageLength,
    InvalidNumberOfDestinations,
    InvalidParameterValue,
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
    SubmitSmResp,
    UnsuccessSme,
    _Bind,
    _BindResp,
    _MessageIdResp,
    _NoBody,
    _ShortMessage,
    per_pdu_class,
)
from smsgw.smpp.tlv import encode_tlvs, tlv_header

# --- encoding helpers -----------------------------------------------------------------


def _check(value: str, field: CString) -> None:
    """Raise the field's error when `value` cannot be a C-string of at most its limit."""
    limit, error, name = field
    if len(value) >= limit:
        raise error(f"{name} is {len(value)} characters, at most {limit - 1} allowed")
    if "\0" in value:
        raise error(f"{name} contains NUL")


def _check_time(value: str, field: CString) -> None:
    if value and len(value) != TIME_LENGTH:
        raise field.error(f"{field.name} {value!r} is neither empty nor {TIME_LENGTH} characters")
    _check(value, field)


def _check_short_message(value: bytes) -> None:
    if len(value) > SHORT_MESSAGE_MAX:
        raise InvalidMessageLength(
            f"short_message is {len(value)} octets, at most {SHORT_MESSAGE_MAX}; "
            "use message_payload"
        )


def _tlv_bytes(tlvs: dict[int, bytes]) -> bytes:
    return encode_tlvs(tlvs) if tlvs else b""


# --- encoders: Pdu -> body bytes --------------------------------------------------------


def _encode_empty(pdu: Pdu) -> bytes:
    return b""


# One character per octet value: f-string parts that latin-1 encodes to that octet. A dict,
# so that a value outside 0..255 raises KeyError (reported as InvalidParameterValue).
_OCTET: Final[dict[int, str]] = {value: chr(value) for value in range(256)}


def _encode_short_message(pdu: _ShortMessage) -> bytes:
    """The whole frame, header included (this is the hot path)."""
    service_type = pdu.service_type
    source_addr = pdu.source_addr
    destination_addr = pdu.destination_addr
    schedule = pdu.schedule_delivery_time
    validity = pdu.validity_period
    short_message = pdu.short_message
    if (
        len(service_type) >= SERVICE_TYPE_MAX
        or len(source_addr) >= ADDR_MAX
        or len(destination_addr) >= ADDR_MAX
        or (schedule and len(schedule) != TIME_LENGTH)
        or (validity and len(validity) != TIME_LENGTH)
        or len(short_message) > SHORT_MESSAGE_MAX
        or "\0" in f"{service_type}{source_addr}{destination_addr}{schedule}{validity}"
    ):
        _check(service_type, SERVICE_TYPE)
        _check(source_addr, SOURCE_ADDR)
        _check(destination_addr, DESTINATION_ADDR)
        _check_time(schedule, SCHEDULE_DELIVERY_TIME)
        _check_time(validity, VALIDITY_PERIOD)
        _check_short_message(short_message)
    octet = _OCTET
    body = (
        f"{service_type}\0{octet[pdu.source_addr_ton]}{octet[pdu.source_addr_npi]}"
        f"{source_addr}\0{octet[pdu.dest_addr_ton]}{octet[pdu.dest_addr_npi]}"
        f"{destination_addr}\0{octet[pdu.esm_class]}{octet[pdu.protocol_id]}"
        f"{octet[pdu.priority_flag]}{schedule}\0{validity}\0{octet[pdu.registered_delivery]}"
        f"{octet[pdu.replace_if_present_flag]}{octet[pdu.data_coding]}"
        f"{octet[pdu.sm_default_msg_id]}{octet[len(short_message)]}"
    ).encode("latin-1") + short_message
    tlvs = pdu.tlvs
    if tlvs:
        # encode_tlvs inlined: a delivery receipt spends a third of its time here.
        for tag, value in tlvs.items():
            body += (tlv_header_of((tag, len(value))) or tlv_header(tag, len(value))) + value
    return (
        pack_header(
            HEADER_LENGTH + len(body), pdu.command_id, pdu.command_status, pdu.sequence_number
        )
        + body
    )


def _encode_message_id_resp(pdu: _MessageIdResp) -> bytes:
    message_id = pdu.message_id
    if pdu.command_status and not message_id and not pdu.tlvs and type(pdu) is SubmitSmResp:
        # 3.4 returns no submit_sm_resp body on error, and most SMSCs do so; it gives
        # deliver_sm_resp and data_sm_resp no such leave (see BODY_OMITTED_ON_ERROR).
        return b""
    if len(message_id) >= MESSAGE_ID_MAX or "\0" in message_id:
        _check(message_id, MESSAGE_ID)
    if pdu.tlvs:
        return message_id.encode("latin-1") + b"\0" + encode_tlvs(pdu.tlvs)
    return message_id.encode("latin-1") + b"\0"


def _encode_bind(pdu: _Bind) -> bytes:
    _check(pdu.system_id, SYSTEM_ID)
    _check(pdu.password, PASSWORD)
    _check(pdu.system_type, SYSTEM_TYPE)
    _check(pdu.address_range, ADDRESS_RANGE)
    return _latin1(
        "%s\0%s\0%s\0%c%c%c%s\0",
        pdu.system_id,
        pdu.password,
        pdu.system_type,
        pdu.interface_version,
        pdu.addr_ton,
        pdu.addr_npi,
        pdu.address_range,
    )


def _encode_bind_resp(pdu: _BindResp) -> bytes:
    _check(pdu.system_id, SYSTEM_ID)
    return pdu.system_id.encode("latin-1") + b"\0" + _tlv_bytes(pdu.tlvs)


def _encode_outbind(pdu: Outbind) -> bytes:
    _check(pdu.system_id, SYSTEM_ID)
    _check(pdu.password, PASSWORD)
    return _latin1("%s\0%s\0", pdu.system_id, pdu.password)


def _encode_data_sm(pdu: DataSm) -> bytes:
    _check(pdu.service_type, SERVICE_TYPE)
    _check(pdu.source_addr, WIDE_SOURCE_ADDR)
    _check(pdu.destination_addr, WIDE_DESTINATION_ADDR)
    return (
        _latin1("%s\0", pdu.service_type)
        + _address(pdu.source_addr_ton, pdu.source_addr_npi, pdu.source_addr)
        + _address(pdu.dest_addr_ton, pdu.dest_addr_npi, pdu.destination_addr)
        + _latin1("%c%c%c", pdu.esm_class, pdu.registered_delivery, pdu.data_coding)
        + _tlv_bytes(pdu.tlvs)
    )


def _encode_dest_address(dest: SmeAddress | DistributionList) -> bytes:
    if isinstance(dest, SmeAddress):
        _check(dest.destination_addr, DESTINATION_ADDR)
        return b"\1" + _address(dest.dest_addr_ton, dest.dest_addr_npi, dest.destination_addr)
    _check(dest.dl_name, DL_NAME)
    return _latin1("\2%s\0", dest.dl_name)


def _encode_submit_multi(pdu: SubmitMulti) -> bytes:
    _check(pdu.service_type, SERVICE_TYPE)
    _check(pdu.source_addr, SOURCE_ADDR)
    if not 1 <= len(pdu.dest_addresses) <= NUMBER_OF_DESTS_MAX:
        raise InvalidNumberOfDestinations(
            f"{len(pdu.dest_addresses)} destinations, 1..{NUMBER_OF_DESTS_MAX} allowed"
        )
    _check_time(pdu.schedule_delivery_time, SCHEDULE_DELIVERY_TIME)
    _check_time(pdu.validity_period, VALIDITY_PERIOD)
    _check_short_message(pdu.short_message)
    head = (
        _latin1("%s\0", pdu.service_type)
        + _address(pdu.source_addr_ton, pdu.source_addr_npi, pdu.source_addr)
        + _latin1("%c", len(pdu.dest_addresses))
    )
    dests = b"".join(_encode_dest_address(dest) for dest in pdu.dest_addresses)
    tail = _latin1(
        "%c%c%c%s\0%s\0%c%c%c%c%c",
        pdu.esm_class,
        pdu.protocol_id,
        pdu.priority_flag,
        pdu.schedule_delivery_time,
        pdu.validity_period,
        pdu.registered_delivery,
        pdu.replace_if_present_flag,
        pdu.data_coding,
        pdu.sm_default_msg_id,
        len(pdu.short_message),
    )
    return head + dests + tail + pdu.short_message + _tlv_bytes(pdu.tlvs)


def _encode_unsuccess_sme(sme: UnsuccessSme) -> bytes:
    _check(sme.destination_addr, DESTINATION_ADDR)
    address = _address(sme.dest_addr_ton, sme.dest_addr_npi, sme.destination_addr)
    return address + U32.pack(sme.error_status_code)


def _encode_submit_multi_resp(pdu: SubmitMultiResp) -> bytes:
    _check(pdu.message_id, MESSAGE_ID)
    if len(pdu.unsuccess_smes) > 0xFF:
        raise InvalidParameterValue(f"{len(pdu.unsuccess_smes)} unsuccess_smes, at most 255")
    head = _latin1("%s\0%c", pdu.message_id, len(pdu.unsuccess_smes))
    return head + b"".join(_encode_unsuccess_sme(sme) for sme in pdu.unsuccess_smes)


def _encode_query_sm(pdu: QuerySm) -> bytes:
    _check(pdu.message_id, MESSAGE_ID)
    _check(pdu.source_addr, SOURCE_ADDR)
    source = _address(pdu.source_addr_ton, pdu.source_addr_npi, pdu.source_addr)
    return _latin1("%s\0", pdu.message_id) + source


def _encode_query_sm_resp(pdu: QuerySmResp) -> bytes:
    _check(pdu.message_id, MESSAGE_ID)
    _check_time(pdu.final_date, FINAL_DATE)
    return _latin1(
        "%s\0%s\0%c%c", pdu.message_id, pdu.final_date, pdu.message_state, pdu.error_code
    )


def _encode_cancel_sm(pdu: CancelSm) -> bytes:
    _check(pdu.service_type, SERVICE_TYPE)
    _check(pdu.message_id, MESSAGE_ID)
    _check(pdu.source_addr, SOURCE_ADDR)
    _check(pdu.destination_addr, DESTINATION_ADDR)
    return (
        _latin1("%s\0%s\0", pdu.service_type, pdu.message_id)
        + _address(pdu.source_addr_ton, pdu.source_addr_npi, pdu.source_addr)
        + _address(pdu.dest_addr_ton, pdu.dest_addr_npi, pdu.destination_addr)
    )


def _encode_replace_sm(pdu: ReplaceSm) -> bytes:
    _check(pdu.message_id, MESSAGE_ID)
    _check(pdu.source_addr, SOURCE_ADDR)
    _check_time(pdu.schedule_delivery_time, SCHEDULE_DELIVERY_TIME)
    _check_time(pdu.validity_period, VALIDITY_PERIOD)
    _check_short_message(pdu.short_message)
    return (
        _latin1("%s\0", pdu.message_id)
        + _address(pdu.source_addr_ton, pdu.source_addr_npi, pdu.source_addr)
        + _latin1(
            "%s\0%s\0%c%c%c",
            pdu.schedule_delivery_time,
            pdu.validity_period,
            pdu.registered_delivery,
            pdu.sm_default_msg_id,
            len(pdu.short_message),
        )
        + pdu.short_message
    )


def _encode_alert_notification(pdu: AlertNotification) -> bytes:
    _check(pdu.source_addr, WIDE_SOURCE_ADDR)
    _check(pdu.esme_addr, ESME_ADDR)
    return (
        _address(pdu.source_addr_ton, pdu.source_addr_npi, pdu.source_addr)
        + _address(pdu.esme_addr_ton, pdu.esme_addr_npi, pdu.esme_addr)
        + _tlv_bytes(pdu.tlvs)
    )


def _address(ton: int, npi: int, address: str) -> bytes:
    """An address as the wire has it: ton and npi octets, then the C-string (checked by
    the caller against its field's limit)."""
    return _latin1("%c%c%s\0", ton, npi, address)


def _latin1(template: str, *values: str | int) -> bytes:
    """`template % values` as latin-1: `%c` turns an int 0..255 into one octet."""
    return (template % values).encode("latin-1")


def _framed(body_encoder: Callable[[P], bytes]) -> Callable[[P], bytes]:
    """A frame encoder from a body encoder: prefixes the header."""

    def encode_frame(pdu: P) -> bytes:
        body = body_encoder(pdu)
        return (
            pack_header(
                HEADER_LENGTH + len(body), pdu.command_id, pdu.command_status, pdu.sequence_number
            )
            + body
        )

    return encode_frame


def _encoders() -> dict[type[Pdu], Callable[[Pdu], bytes]]:
    by_layout: dict[type[Pdu], Callable[..., bytes]] = {
        _NoBody: _encode_empty,
        _Bind: _encode_bind,
        _BindResp: _encode_bind_resp,
        Outbind: _encode_outbind,
        _ShortMessage: _encode_short_message,
        _MessageIdResp: _encode_message_id_resp,
        DataSm: _encode_data_sm,
        SubmitMulti: _encode_submit_multi,
        SubmitMultiResp: _encode_submit_multi_resp,
        QuerySm: _encode_query_sm,
        QuerySmResp: _encode_query_sm_resp,
        CancelSm: _encode_cancel_sm,
        ReplaceSm: _encode_replace_sm,
        AlertNotification: _encode_alert_notification,
    }
    by_class = per_pdu_class(by_layout)
    # submit_sm and deliver_sm are hot: their encoder writes the header itself.
    return {
        cls: encoder if encoder is _encode_short_message else _framed(encoder)
        for cls, encoder in by_class.items()
    }


ENCODERS: Final = _encoders()
