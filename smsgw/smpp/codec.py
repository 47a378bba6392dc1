"""SMPP 3.4 wire codec, sans-IO: `encode`, `decode` and the stream `Framer`.

Decoding is strict: every malformation becomes an `SmppError` whose class names the
command_status to answer with; no other exception leaves `decode` or `Framer.feed`.
Speed matters (an SMSC link carries thousands of PDUs a second): submit_sm and
deliver_sm are decoded by one precompiled regex that checks and splits all mandatory
fields at once, and encoded by one f-string; every decoder builds its dataclass
positionally; a dict per command id dispatches. Encoding validates what decoding would
reject, so whatever `encode` returns decodes back to an equal PDU.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from typing import Final, NoReturn, TypeVar

from smsgw.smpp.constants import (
    HEADER_LENGTH,
    SHORT_MESSAGE_MAX,
)
from smsgw.smpp.errors import (
    BindFailed,
    InvalidCommandId,
    InvalidCommandLength,
    InvalidDestinationAddress,
    InvalidDestinationFlag,
    InvalidDistributionListName,
    InvalidMessageId,
    InvalidMessageLength,
    InvalidNumberOfDestinations,
    InvalidParameterLength,
    InvalidParameterValue,
    InvalidPassword,
    InvalidScheduledDeliveryTime,
    InvalidServiceType,
    InvalidSourceAddress,
    InvalidSystemId,
    InvalidSystemType,
    InvalidValidityPeriod,
    SmppError,
)
from smsgw.smpp.pdu import (
    BODY_OMITTED_ON_ERROR,
    PDU_CLASSES,
    AlertNotification,
    BindReceiver,
    BindReceiverResp,
    BindTransceiver,
    BindTransceiverResp,
    BindTransmitter,
    BindTransmitterResp,
    CancelSm,
    CancelSmResp,
    DataSm,
    DataSmResp,
    DeliverSm,
    DeliverSmResp,
    DistributionList,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    Outbind,
    Pdu,
    QuerySm,
    QuerySmResp,
    ReplaceSm,
    ReplaceSmResp,
    SmeAddress,
    SubmitMulti,
    SubmitMultiResp,
    SubmitSm,
    SubmitSmResp,
    Unbind,
    UnbindResp,
    UnsuccessSme,
    _Bind,
    _BindResp,
    _MessageIdResp,
    _ShortMessage,
)
from smsgw.smpp.tlv import TLV_HEADER_OF, decode_tlvs, encode_tlvs, tlv_header

DEFAULT_MAX_PDU_SIZE: Final = 64 * 1024

_HEADER = struct.Struct(">IIII")
_pack_header = _HEADER.pack
_unpack_header = _HEADER.unpack_from
_U32 = struct.Struct(">I")
_tlv_header_of = TLV_HEADER_OF.get

# Maximum sizes of C-octet strings, NUL included (SMPP 3.4 section 4).
SYSTEM_ID_MAX: Final = 16
PASSWORD_MAX: Final = 9
SYSTEM_TYPE_MAX: Final = 13
ADDRESS_RANGE_MAX: Final = 41
SERVICE_TYPE_MAX: Final = 6
ADDR_MAX: Final = 21
DATA_SM_ADDR_MAX: Final = 65
MESSAGE_ID_MAX: Final = 65
TIME_LENGTH: Final = 16  # "YYMMDDhhmmsstnnp"; the field is either that or empty
NUMBER_OF_DESTS_MAX: Final = 254

P = TypeVar("P", bound=Pdu)


# --- public API -----------------------------------------------------------------------


def encode(pdu: Pdu) -> bytes:
    """The complete wire frame of `pdu`; raises an SmppError for an unencodable field."""
    encoder = _ENCODERS.get(type(pdu))
    if encoder is None:
        raise InvalidCommandId(f"no encoder for {type(pdu).__name__}")
    try:
        frame = encoder(pdu)
    except (ValueError, OverflowError, KeyError, struct.error) as error:
        # A non-latin-1 character, or an integer field outside its octet range.
        raise InvalidParameterValue(f"{type(pdu).__name__}: {error}") from None
    if len(frame) == HEADER_LENGTH and pdu.command_status and _needs_body(pdu):
        raise InvalidCommandLength(
            f"{type(pdu).__name__} with status 0x{pdu.command_status:08X} must keep its body"
        )
    return frame


# Responses that are a header and nothing more, whatever their status.
_BODYLESS: Final = frozenset(
    {GenericNack, UnbindResp, EnquireLinkResp, CancelSmResp, ReplaceSmResp}
)


def _needs_body(pdu: Pdu) -> bool:
    """A response whose body 3.4 requires even on error (requests always have theirs)."""
    kind = type(pdu)
    return pdu.command_id & 0x80000000 != 0 and kind not in BODY_OMITTED_ON_ERROR | _BODYLESS


def decode(frame: bytes) -> Pdu:
    """The PDU in one whole frame (command_length included)."""
    if type(frame) is not bytes:
        frame = bytes(frame)
    try:
        length, command_id, status, sequence = _unpack_header(frame)
        decoder, cls = _DECODERS[command_id]
    except (struct.error, KeyError):
        _reject_header(frame)
    if length != len(frame):
        _reject_header(frame)
    try:
        return decoder(cls, frame, status, sequence)
    except SmppError as error:
        error.sequence_number = sequence
        error.command_id = command_id
        raise
    except (IndexError, ValueError, struct.error):
        # A fixed-size field read past the end: the body is too short for its fields.
        truncated = InvalidCommandLength(f"body of 0x{command_id:08X} ends inside a field")
        truncated.sequence_number = sequence
        truncated.command_id = command_id
        raise truncated from None


def _reject_header(frame: bytes) -> NoReturn:
    """Raise the error for a frame whose header is short, inconsistent or unknown."""
    if len(frame) < HEADER_LENGTH:
        raise InvalidCommandLength(f"frame of {len(frame)} octets is shorter than the header")
    length, command_id, _, sequence = _unpack_header(frame)
    error: SmppError
    if length != len(frame):
        error = InvalidCommandLength(f"command_length {length} but the frame has {len(frame)}")
    else:
        error = InvalidCommandId(f"unknown command_id 0x{command_id:08X}")
    error.sequence_number = sequence
    error.command_id = command_id
    raise error


class Framer:
    """Splits a byte stream into whole frames by command_length, across any chunking.

    Once it has raised (command_length below 16 or above `max_pdu_size`) the stream
    cannot be resynchronised; it keeps raising, and the session should close.
    """

    __slots__ = ("_buffer", "_error", "max_pdu_size")

    def __init__(self, max_pdu_size: int = DEFAULT_MAX_PDU_SIZE) -> None:
        self.max_pdu_size = max_pdu_size
        self._buffer = bytearray()
        self._error: InvalidCommandLength | None = None

    @property
    def buffered(self) -> int:
        """Octets received that do not yet make a whole frame."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[bytes]:
        """Every frame completed by `data`, in order."""
        if self._error is not None:
            raise self._error
        buffer = self._buffer
        if buffer:
            buffer += data
            stream: bytes | bytearray = buffer
        else:
            stream = data
        frames: list[bytes] = []
        pos = 0
        available = len(stream)
        maximum = self.max_pdu_size
        while available - pos >= 4:
            length = int.from_bytes(stream[pos : pos + 4], "big")
            if length < HEADER_LENGTH or length > maximum:
                raise self._fail(stream, pos, length)
            if available - pos < length:
                break
            frames.append(bytes(stream[pos : pos + length]))
            pos += length
        if stream is buffer:
            del buffer[:pos]
        else:
            buffer += stream[pos:]
        return frames

    def _fail(self, stream: bytes | bytearray, pos: int, length: int) -> InvalidCommandLength:
        error = InvalidCommandLength(
            f"command_length {length} outside 16..{self.max_pdu_size}; stream unusable"
        )
        if len(stream) - pos >= HEADER_LENGTH:
            _, error.command_id, _, error.sequence_number = _unpack_header(stream, pos)
        self._error = error
        return error


# --- decoding helpers -----------------------------------------------------------------


def _cstring(text: str, pos: int, limit: int, error: type[SmppError], name: str) -> tuple[str, int]:
    """The C-string at `pos` (at most `limit` octets with its NUL) and the next offset."""
    end = text.find("\0", pos, pos + limit)
    if end < 0:
        _missing_nul(text, pos, limit, error, name)
    return text[pos:end], end + 1


def _missing_nul(text: str, pos: int, limit: int, error: type[SmppError], name: str) -> NoReturn:
    if len(text) - pos >= limit:
        raise error(f"{name} has no NUL within its {limit} octets")
    raise InvalidCommandLength(f"body ends inside {name}: no NUL terminator")


def _time(text: str, pos: int, error: type[SmppError], name: str) -> tuple[str, int]:
    value, pos = _cstring(text, pos, TIME_LENGTH + 1, error, name)
    if value and len(value) != TIME_LENGTH:
        raise error(f"{name} {value!r} is neither empty nor {TIME_LENGTH} characters")
    return value, pos


def _short_message(frame: bytes, pos: int) -> tuple[bytes, int]:
    """short_message after its sm_length octet at `pos`."""
    sm_length = frame[pos]
    pos += 1
    end = pos + sm_length
    if sm_length > SHORT_MESSAGE_MAX or end > len(frame):
        raise InvalidMessageLength(
            f"sm_length {sm_length} exceeds {SHORT_MESSAGE_MAX} or the {len(frame) - pos}"
            " octets left"
        )
    return frame[pos:end], end


def _no_trailing(frame: bytes, pos: int) -> None:
    if pos != len(frame):
        raise InvalidCommandLength(f"{len(frame) - pos} octets after the last field")


def _tlvs(frame: bytes, pos: int) -> dict[int, bytes]:
    return decode_tlvs(frame, pos) if pos < len(frame) else {}


# --- decoders: (class, frame, command_status, sequence_number) -> Pdu --------------------


def _decode_empty(cls: type[P], frame: bytes, status: int, sequence: int) -> P:
    _no_trailing(frame, HEADER_LENGTH)
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
    service_type, pos = _cstring(text, 16, SERVICE_TYPE_MAX, InvalidServiceType, "service_type")
    source_ton, source_npi = frame[pos], frame[pos + 1]
    source_addr, pos = _cstring(text, pos + 2, ADDR_MAX, InvalidSourceAddress, "source_addr")
    dest_ton, dest_npi = frame[pos], frame[pos + 1]
    destination_addr, pos = _cstring(
        text, pos + 2, ADDR_MAX, InvalidDestinationAddress, "destination_addr"
    )
    esm_class, protocol_id, priority_flag = frame[pos], frame[pos + 1], frame[pos + 2]
    schedule, pos = _time(text, pos + 3, InvalidScheduledDeliveryTime, "schedule_delivery_time")
    validity, pos = _time(text, pos, InvalidValidityPeriod, "validity_period")
    registered_delivery, replace_flag = frame[pos], frame[pos + 1]
    data_coding, default_msg_id = frame[pos + 2], frame[pos + 3]
    short_message, pos = _short_message(frame, pos + 4)
    return cls(
        sequence,
        status,
        service_type,
        source_ton,
        source_npi,
        source_addr,
        dest_ton,
        dest_npi,
        destination_addr,
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
        _tlvs(frame, pos),
    )


def _decode_message_id_resp(
    cls: type[_MessageIdResp], frame: bytes, status: int, sequence: int
) -> _MessageIdResp:
    if status and len(frame) == HEADER_LENGTH:
        # 3.4 leaves submit_sm_resp's body out on error; SMSCs that leave out the body
        # of deliver_sm_resp or data_sm_resp too are read the same way, leniently
        return cls(sequence, status)
    end = frame.find(0, 16, 16 + MESSAGE_ID_MAX)
    if end < 0:
        _missing_nul(frame.decode("latin-1"), 16, MESSAGE_ID_MAX, InvalidMessageId, "message_id")
    message_id = frame[16:end].decode("latin-1")
    end += 1
    return cls(sequence, status, message_id, decode_tlvs(frame, end) if end < len(frame) else {})


def _decode_bind(cls: type[_Bind], frame: bytes, status: int, sequence: int) -> _Bind:
    text = frame.decode("latin-1")
    system_id, pos = _cstring(text, 16, SYSTEM_ID_MAX, InvalidSystemId, "system_id")
    password, pos = _cstring(text, pos, PASSWORD_MAX, InvalidPassword, "password")
    system_type, pos = _cstring(text, pos, SYSTEM_TYPE_MAX, InvalidSystemType, "system_type")
    interface_version, addr_ton, addr_npi = frame[pos], frame[pos + 1], frame[pos + 2]
    address_range, pos = _cstring(text, pos + 3, ADDRESS_RANGE_MAX, BindFailed, "address_range")
    _no_trailing(frame, pos)
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


def _decode_bind_resp(cls: type[_BindResp], frame: bytes, status: int, sequence: int) -> _BindResp:
    if status and len(frame) == HEADER_LENGTH:
        return cls(sequence, status)
    text = frame.decode("latin-1")
    system_id, pos = _cstring(text, 16, SYSTEM_ID_MAX, InvalidSystemId, "system_id")
    return cls(sequence, status, system_id, _tlvs(frame, pos))


def _decode_outbind(cls: type[Outbind], frame: bytes, status: int, sequence: int) -> Outbind:
    text = frame.decode("latin-1")
    system_id, pos = _cstring(text, 16, SYSTEM_ID_MAX, InvalidSystemId, "system_id")
    password, pos = _cstring(text, pos, PASSWORD_MAX, InvalidPassword, "password")
    _no_trailing(frame, pos)
    return cls(sequence, status, system_id, password)


def _decode_data_sm(cls: type[DataSm], frame: bytes, status: int, sequence: int) -> DataSm:
    text = frame.decode("latin-1")
    service_type, pos = _cstring(text, 16, SERVICE_TYPE_MAX, InvalidServiceType, "service_type")
    source_ton, source_npi = frame[pos], frame[pos + 1]
    source_addr, pos = _cstring(
        text, pos + 2, DATA_SM_ADDR_MAX, InvalidSourceAddress, "source_addr"
    )
    dest_ton, dest_npi = frame[pos], frame[pos + 1]
    destination_addr, pos = _cstring(
        text, pos + 2, DATA_SM_ADDR_MAX, InvalidDestinationAddress, "destination_addr"
    )
    esm_class, registered_delivery, data_coding = frame[pos], frame[pos + 1], frame[pos + 2]
    return cls(
        sequence,
        status,
        service_type,
        source_ton,
        source_npi,
        source_addr,
        dest_ton,
        dest_npi,
        destination_addr,
        esm_class,
        registered_delivery,
        data_coding,
        _tlvs(frame, pos + 3),
    )


def _decode_submit_multi(
    cls: type[SubmitMulti], frame: bytes, status: int, sequence: int
) -> SubmitMulti:
    text = frame.decode("latin-1")
    service_type, pos = _cstring(text, 16, SERVICE_TYPE_MAX, InvalidServiceType, "service_type")
    source_ton, source_npi = frame[pos], frame[pos + 1]
    source_addr, pos = _cstring(text, pos + 2, ADDR_MAX, InvalidSourceAddress, "source_addr")
    number_of_dests = frame[pos]
    if not 1 <= number_of_dests <= NUMBER_OF_DESTS_MAX:
        raise InvalidNumberOfDestinations(f"number_of_dests {number_of_dests}")
    pos += 1
    dest_addresses: list[SmeAddress | DistributionList] = []
    for _ in range(number_of_dests):
        dest_flag = frame[pos]
        if dest_flag == 1:
            ton, npi = frame[pos + 1], frame[pos + 2]
            addr, pos = _cstring(
                text, pos + 3, ADDR_MAX, InvalidDestinationAddress, "destination_addr"
            )
            dest_addresses.append(SmeAddress(ton, npi, addr))
        elif dest_flag == 2:
            name, pos = _cstring(text, pos + 1, ADDR_MAX, InvalidDistributionListName, "dl_name")
            dest_addresses.append(DistributionList(name))
        else:
            raise InvalidDestinationFlag(f"dest_flag {dest_flag}, expected 1 or 2")
    esm_class, protocol_id, priority_flag = frame[pos], frame[pos + 1], frame[pos + 2]
    schedule, pos = _time(text, pos + 3, InvalidScheduledDeliveryTime, "schedule_delivery_time")
    validity, pos = _time(text, pos, InvalidValidityPeriod, "validity_period")
    registered_delivery, replace_flag = frame[pos], frame[pos + 1]
    data_coding, default_msg_id = frame[pos + 2], frame[pos + 3]
    short_message, pos = _short_message(frame, pos + 4)
    return cls(
        sequence,
        status,
        service_type,
        source_ton,
        source_npi,
        source_addr,
        dest_addresses,
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
        _tlvs(frame, pos),
    )


def _decode_submit_multi_resp(
    cls: type[SubmitMultiResp], frame: bytes, status: int, sequence: int
) -> SubmitMultiResp:
    if status and len(frame) == HEADER_LENGTH:
        return cls(sequence, status)
    text = frame.decode("latin-1")
    message_id, pos = _cstring(text, 16, MESSAGE_ID_MAX, InvalidMessageId, "message_id")
    count = frame[pos]
    pos += 1
    unsuccess: list[UnsuccessSme] = []
    for _ in range(count):
        ton, npi = frame[pos], frame[pos + 1]
        addr, pos = _cstring(text, pos + 2, ADDR_MAX, InvalidDestinationAddress, "destination_addr")
        (error_status_code,) = _U32.unpack_from(frame, pos)
        pos += 4
        unsuccess.append(UnsuccessSme(ton, npi, addr, error_status_code))
    _no_trailing(frame, pos)
    return cls(sequence, status, message_id, unsuccess)


def _decode_query_sm(cls: type[QuerySm], frame: bytes, status: int, sequence: int) -> QuerySm:
    text = frame.decode("latin-1")
    message_id, pos = _cstring(text, 16, MESSAGE_ID_MAX, InvalidMessageId, "message_id")
    ton, npi = frame[pos], frame[pos + 1]
    source_addr, pos = _cstring(text, pos + 2, ADDR_MAX, InvalidSourceAddress, "source_addr")
    _no_trailing(frame, pos)
    return cls(sequence, status, message_id, ton, npi, source_addr)


def _decode_query_sm_resp(
    cls: type[QuerySmResp], frame: bytes, status: int, sequence: int
) -> QuerySmResp:
    if status and len(frame) == HEADER_LENGTH:
        return cls(sequence, status)
    text = frame.decode("latin-1")
    message_id, pos = _cstring(text, 16, MESSAGE_ID_MAX, InvalidMessageId, "message_id")
    final_date, pos = _time(text, pos, InvalidParameterLength, "final_date")
    message_state, error_code = frame[pos], frame[pos + 1]
    _no_trailing(frame, pos + 2)
    return cls(sequence, status, message_id, final_date, message_state, error_code)


def _decode_cancel_sm(cls: type[CancelSm], frame: bytes, status: int, sequence: int) -> CancelSm:
    text = frame.decode("latin-1")
    service_type, pos = _cstring(text, 16, SERVICE_TYPE_MAX, InvalidServiceType, "service_type")
    message_id, pos = _cstring(text, pos, MESSAGE_ID_MAX, InvalidMessageId, "message_id")
    source_ton, source_npi = frame[pos], frame[pos + 1]
    source_addr, pos = _cstring(text, pos + 2, ADDR_MAX, InvalidSourceAddress, "source_addr")
    dest_ton, dest_npi = frame[pos], frame[pos + 1]
    destination_addr, pos = _cstring(
        text, pos + 2, ADDR_MAX, InvalidDestinationAddress, "destination_addr"
    )
    _no_trailing(frame, pos)
    return cls(
        sequence,
        status,
        service_type,
        message_id,
        source_ton,
        source_npi,
        source_addr,
        dest_ton,
        dest_npi,
        destination_addr,
    )


def _decode_replace_sm(cls: type[ReplaceSm], frame: bytes, status: int, sequence: int) -> ReplaceSm:
    text = frame.decode("latin-1")
    message_id, pos = _cstring(text, 16, MESSAGE_ID_MAX, InvalidMessageId, "message_id")
    ton, npi = frame[pos], frame[pos + 1]
    source_addr, pos = _cstring(text, pos + 2, ADDR_MAX, InvalidSourceAddress, "source_addr")
    schedule, pos = _time(text, pos, InvalidScheduledDeliveryTime, "schedule_delivery_time")
    validity, pos = _time(text, pos, InvalidValidityPeriod, "validity_period")
    registered_delivery, default_msg_id = frame[pos], frame[pos + 1]
    short_message, pos = _short_message(frame, pos + 2)
    _no_trailing(frame, pos)
    return cls(
        sequence,
        status,
        message_id,
        ton,
        npi,
        source_addr,
        schedule,
        validity,
        registered_delivery,
        default_msg_id,
        short_message,
    )


def _decode_alert_notification(
    cls: type[AlertNotification], frame: bytes, status: int, sequence: int
) -> AlertNotification:
    text = frame.decode("latin-1")
    source_ton, source_npi = frame[16], frame[17]
    source_addr, pos = _cstring(text, 18, DATA_SM_ADDR_MAX, InvalidSourceAddress, "source_addr")
    esme_ton, esme_npi = frame[pos], frame[pos + 1]
    esme_addr, pos = _cstring(text, pos + 2, DATA_SM_ADDR_MAX, InvalidParameterLength, "esme_addr")
    return cls(
        sequence,
        status,
        source_ton,
        source_npi,
        source_addr,
        esme_ton,
        esme_npi,
        esme_addr,
        _tlvs(frame, pos),
    )


_Decoder = Callable[[type[Pdu], bytes, int, int], Pdu]


def _decoders() -> dict[int, tuple[_Decoder, type[Pdu]]]:
    by_class: dict[type[Pdu], Callable[..., Pdu]] = {
        GenericNack: _decode_empty,
        Unbind: _decode_empty,
        UnbindResp: _decode_empty,
        EnquireLink: _decode_empty,
        EnquireLinkResp: _decode_empty,
        CancelSmResp: _decode_empty,
        ReplaceSmResp: _decode_empty,
        BindTransmitter: _decode_bind,
        BindReceiver: _decode_bind,
        BindTransceiver: _decode_bind,
        BindTransmitterResp: _decode_bind_resp,
        BindReceiverResp: _decode_bind_resp,
        BindTransceiverResp: _decode_bind_resp,
        Outbind: _decode_outbind,
        SubmitSm: _decode_short_message,
        DeliverSm: _decode_short_message,
        SubmitSmResp: _decode_message_id_resp,
        DeliverSmResp: _decode_message_id_resp,
        DataSmResp: _decode_message_id_resp,
        DataSm: _decode_data_sm,
        SubmitMulti: _decode_submit_multi,
        SubmitMultiResp: _decode_submit_multi_resp,
        QuerySm: _decode_query_sm,
        QuerySmResp: _decode_query_sm_resp,
        CancelSm: _decode_cancel_sm,
        ReplaceSm: _decode_replace_sm,
        AlertNotification: _decode_alert_notification,
    }
    assert set(by_class) == set(PDU_CLASSES.values())
    return {cls.command_id: (decoder, cls) for cls, decoder in by_class.items()}


_DECODERS: Final = _decoders()


# --- encoding helpers -----------------------------------------------------------------


def _check(value: str, limit: int, error: type[SmppError], name: str) -> None:
    """Raise `error` when `value` cannot be a C-string of at most `limit` octets."""
    if len(value) >= limit:
        raise error(f"{name} is {len(value)} characters, at most {limit - 1} allowed")
    if "\0" in value:
        raise error(f"{name} contains NUL")


def _check_time(value: str, error: type[SmppError], name: str) -> None:
    if value and len(value) != TIME_LENGTH:
        raise error(f"{name} {value!r} is neither empty nor {TIME_LENGTH} characters")
    _check(value, TIME_LENGTH + 1, error, name)


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
        _check(service_type, SERVICE_TYPE_MAX, InvalidServiceType, "service_type")
        _check(source_addr, ADDR_MAX, InvalidSourceAddress, "source_addr")
        _check(destination_addr, ADDR_MAX, InvalidDestinationAddress, "destination_addr")
        _check_time(schedule, InvalidScheduledDeliveryTime, "schedule_delivery_time")
        _check_time(validity, InvalidValidityPeriod, "validity_period")
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
            body += (_tlv_header_of((tag, len(value))) or tlv_header(tag, len(value))) + value
    return (
        _pack_header(
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
        _check(message_id, MESSAGE_ID_MAX, InvalidMessageId, "message_id")
    if pdu.tlvs:
        return message_id.encode("latin-1") + b"\0" + encode_tlvs(pdu.tlvs)
    return message_id.encode("latin-1") + b"\0"


def _encode_bind(pdu: _Bind) -> bytes:
    _check(pdu.system_id, SYSTEM_ID_MAX, InvalidSystemId, "system_id")
    _check(pdu.password, PASSWORD_MAX, InvalidPassword, "password")
    _check(pdu.system_type, SYSTEM_TYPE_MAX, InvalidSystemType, "system_type")
    _check(pdu.address_range, ADDRESS_RANGE_MAX, BindFailed, "address_range")
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
    _check(pdu.system_id, SYSTEM_ID_MAX, InvalidSystemId, "system_id")
    return pdu.system_id.encode("latin-1") + b"\0" + _tlv_bytes(pdu.tlvs)


def _encode_outbind(pdu: Outbind) -> bytes:
    _check(pdu.system_id, SYSTEM_ID_MAX, InvalidSystemId, "system_id")
    _check(pdu.password, PASSWORD_MAX, InvalidPassword, "password")
    return _latin1("%s\0%s\0", pdu.system_id, pdu.password)


def _encode_data_sm(pdu: DataSm) -> bytes:
    _check(pdu.service_type, SERVICE_TYPE_MAX, InvalidServiceType, "service_type")
    _check(pdu.source_addr, DATA_SM_ADDR_MAX, InvalidSourceAddress, "source_addr")
    _check(pdu.destination_addr, DATA_SM_ADDR_MAX, InvalidDestinationAddress, "destination_addr")
    fields = _latin1(
        "%s\0%c%c%s\0%c%c%s\0%c%c%c",
        pdu.service_type,
        pdu.source_addr_ton,
        pdu.source_addr_npi,
        pdu.source_addr,
        pdu.dest_addr_ton,
        pdu.dest_addr_npi,
        pdu.destination_addr,
        pdu.esm_class,
        pdu.registered_delivery,
        pdu.data_coding,
    )
    return fields + _tlv_bytes(pdu.tlvs)


def _encode_dest_address(dest: SmeAddress | DistributionList) -> bytes:
    if isinstance(dest, SmeAddress):
        _check(dest.destination_addr, ADDR_MAX, InvalidDestinationAddress, "destination_addr")
        return _latin1("\1%c%c%s\0", dest.dest_addr_ton, dest.dest_addr_npi, dest.destination_addr)
    _check(dest.dl_name, ADDR_MAX, InvalidDistributionListName, "dl_name")
    return _latin1("\2%s\0", dest.dl_name)


def _encode_submit_multi(pdu: SubmitMulti) -> bytes:
    _check(pdu.service_type, SERVICE_TYPE_MAX, InvalidServiceType, "service_type")
    _check(pdu.source_addr, ADDR_MAX, InvalidSourceAddress, "source_addr")
    if not 1 <= len(pdu.dest_addresses) <= NUMBER_OF_DESTS_MAX:
        raise InvalidNumberOfDestinations(
            f"{len(pdu.dest_addresses)} destinations, 1..{NUMBER_OF_DESTS_MAX} allowed"
        )
    _check_time(pdu.schedule_delivery_time, InvalidScheduledDeliveryTime, "schedule_delivery_time")
    _check_time(pdu.validity_period, InvalidValidityPeriod, "validity_period")
    _check_short_message(pdu.short_message)
    head = _latin1(
        "%s\0%c%c%s\0%c",
        pdu.service_type,
        pdu.source_addr_ton,
        pdu.source_addr_npi,
        pdu.source_addr,
        len(pdu.dest_addresses),
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
    _check(sme.destination_addr, ADDR_MAX, InvalidDestinationAddress, "destination_addr")
    addr = _latin1("%c%c%s\0", sme.dest_addr_ton, sme.dest_addr_npi, sme.destination_addr)
    return addr + _U32.pack(sme.error_status_code)


def _encode_submit_multi_resp(pdu: SubmitMultiResp) -> bytes:
    _check(pdu.message_id, MESSAGE_ID_MAX, InvalidMessageId, "message_id")
    if len(pdu.unsuccess_smes) > 0xFF:
        raise InvalidParameterValue(f"{len(pdu.unsuccess_smes)} unsuccess_smes, at most 255")
    head = _latin1("%s\0%c", pdu.message_id, len(pdu.unsuccess_smes))
    return head + b"".join(_encode_unsuccess_sme(sme) for sme in pdu.unsuccess_smes)


def _encode_query_sm(pdu: QuerySm) -> bytes:
    _check(pdu.message_id, MESSAGE_ID_MAX, InvalidMessageId, "message_id")
    _check(pdu.source_addr, ADDR_MAX, InvalidSourceAddress, "source_addr")
    return _latin1(
        "%s\0%c%c%s\0", pdu.message_id, pdu.source_addr_ton, pdu.source_addr_npi, pdu.source_addr
    )


def _encode_query_sm_resp(pdu: QuerySmResp) -> bytes:
    _check(pdu.message_id, MESSAGE_ID_MAX, InvalidMessageId, "message_id")
    _check_time(pdu.final_date, InvalidParameterLength, "final_date")
    return _latin1(
        "%s\0%s\0%c%c", pdu.message_id, pdu.final_date, pdu.message_state, pdu.error_code
    )


def _encode_cancel_sm(pdu: CancelSm) -> bytes:
    _check(pdu.service_type, SERVICE_TYPE_MAX, InvalidServiceType, "service_type")
    _check(pdu.message_id, MESSAGE_ID_MAX, InvalidMessageId, "message_id")
    _check(pdu.source_addr, ADDR_MAX, InvalidSourceAddress, "source_addr")
    _check(pdu.destination_addr, ADDR_MAX, InvalidDestinationAddress, "destination_addr")
    return _latin1(
        "%s\0%s\0%c%c%s\0%c%c%s\0",
        pdu.service_type,
        pdu.message_id,
        pdu.source_addr_ton,
        pdu.source_addr_npi,
        pdu.source_addr,
        pdu.dest_addr_ton,
        pdu.dest_addr_npi,
        pdu.destination_addr,
    )


def _encode_replace_sm(pdu: ReplaceSm) -> bytes:
    _check(pdu.message_id, MESSAGE_ID_MAX, InvalidMessageId, "message_id")
    _check(pdu.source_addr, ADDR_MAX, InvalidSourceAddress, "source_addr")
    _check_time(pdu.schedule_delivery_time, InvalidScheduledDeliveryTime, "schedule_delivery_time")
    _check_time(pdu.validity_period, InvalidValidityPeriod, "validity_period")
    _check_short_message(pdu.short_message)
    fields = _latin1(
        "%s\0%c%c%s\0%s\0%s\0%c%c%c",
        pdu.message_id,
        pdu.source_addr_ton,
        pdu.source_addr_npi,
        pdu.source_addr,
        pdu.schedule_delivery_time,
        pdu.validity_period,
        pdu.registered_delivery,
        pdu.sm_default_msg_id,
        len(pdu.short_message),
    )
    return fields + pdu.short_message


def _encode_alert_notification(pdu: AlertNotification) -> bytes:
    _check(pdu.source_addr, DATA_SM_ADDR_MAX, InvalidSourceAddress, "source_addr")
    _check(pdu.esme_addr, DATA_SM_ADDR_MAX, InvalidParameterLength, "esme_addr")
    fields = _latin1(
        "%c%c%s\0%c%c%s\0",
        pdu.source_addr_ton,
        pdu.source_addr_npi,
        pdu.source_addr,
        pdu.esme_addr_ton,
        pdu.esme_addr_npi,
        pdu.esme_addr,
    )
    return fields + _tlv_bytes(pdu.tlvs)


def _latin1(template: str, *values: str | int) -> bytes:
    """`template % values` as latin-1: `%c` turns an int 0..255 into one octet."""
    return (template % values).encode("latin-1")


def _framed(body_encoder: Callable[[P], bytes]) -> Callable[[P], bytes]:
    """A frame encoder from a body encoder: prefixes the header."""

    def encode_frame(pdu: P) -> bytes:
        body = body_encoder(pdu)
        return (
            _pack_header(
                HEADER_LENGTH + len(body), pdu.command_id, pdu.command_status, pdu.sequence_number
            )
            + body
        )

    return encode_frame


def _encoders() -> dict[type[Pdu], Callable[[Pdu], bytes]]:
    by_class: dict[type[Pdu], Callable[..., bytes]] = {
        GenericNack: _encode_empty,
        Unbind: _encode_empty,
        UnbindResp: _encode_empty,
        EnquireLink: _encode_empty,
        EnquireLinkResp: _encode_empty,
        CancelSmResp: _encode_empty,
        ReplaceSmResp: _encode_empty,
        BindTransmitter: _encode_bind,
        BindReceiver: _encode_bind,
        BindTransceiver: _encode_bind,
        BindTransmitterResp: _encode_bind_resp,
        BindReceiverResp: _encode_bind_resp,
        BindTransceiverResp: _encode_bind_resp,
        Outbind: _encode_outbind,
        SubmitSm: _encode_short_message,
        DeliverSm: _encode_short_message,
        SubmitSmResp: _encode_message_id_resp,
        DeliverSmResp: _encode_message_id_resp,
        DataSmResp: _encode_message_id_resp,
        DataSm: _encode_data_sm,
        SubmitMulti: _encode_submit_multi,
        SubmitMultiResp: _encode_submit_multi_resp,
        QuerySm: _encode_query_sm,
        QuerySmResp: _encode_query_sm_resp,
        CancelSm: _encode_cancel_sm,
        ReplaceSm: _encode_replace_sm,
        AlertNotification: _encode_alert_notification,
    }
    assert set(by_class) == set(PDU_CLASSES.values())
    # submit_sm and deliver_sm are hot: their encoder writes the header itself.
    return {
        cls: encoder if encoder is _encode_short_message else _framed(encoder)
        for cls, encoder in by_class.items()
    }


_ENCODERS: Final = _encoders()
