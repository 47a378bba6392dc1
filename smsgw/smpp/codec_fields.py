"""What the SMPP codec's encoders and decoders share: the header's layout, the maximum
sizes of fields (SMPP 3.4 section 4) and the readers of C-octet strings, times, short
messages and TLVs."""

from __future__ import annotations

import struct
from typing import Final, NamedTuple, NoReturn, TypeVar

from smsgw.smpp.constants import (
    SHORT_MESSAGE_MAX,
)
from smsgw.smpp.errors import (
    BindFailed,
    InvalidCommandLength,
    InvalidDestinationAddress,
    InvalidDistributionListName,
    InvalidMessageId,
    InvalidMessageLength,
    InvalidParameterLength,
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
    Pdu,
)
from smsgw.smpp.tlv import TLV_HEADER_OF, decode_tlvs

HEADER = struct.Struct(">IIII")
pack_header = HEADER.pack
unpack_header = HEADER.unpack_from
U32 = struct.Struct(">I")
tlv_header_of = TLV_HEADER_OF.get

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


class CString(NamedTuple):
    """A C-octet string field: its size with the NUL, the error (its command_status)
    that reading or writing a bad value raises, and its name in the specification.
    The decoders and the encoders check a field against the same one."""

    limit: int
    error: type[SmppError]
    name: str


SYSTEM_ID: Final = CString(SYSTEM_ID_MAX, InvalidSystemId, "system_id")
PASSWORD: Final = CString(PASSWORD_MAX, InvalidPassword, "password")
SYSTEM_TYPE: Final = CString(SYSTEM_TYPE_MAX, InvalidSystemType, "system_type")
ADDRESS_RANGE: Final = CString(ADDRESS_RANGE_MAX, BindFailed, "address_range")
SERVICE_TYPE: Final = CString(SERVICE_TYPE_MAX, InvalidServiceType, "service_type")
SOURCE_ADDR: Final = CString(ADDR_MAX, InvalidSourceAddress, "source_addr")
DESTINATION_ADDR: Final = CString(ADDR_MAX, InvalidDestinationAddress, "destination_addr")
DL_NAME: Final = CString(ADDR_MAX, InvalidDistributionListName, "dl_name")
MESSAGE_ID: Final = CString(MESSAGE_ID_MAX, InvalidMessageId, "message_id")
# data_sm and alert_notification carry addresses of up to 64 characters.
WIDE_SOURCE_ADDR: Final = CString(DATA_SM_ADDR_MAX, InvalidSourceAddress, "source_addr")
WIDE_DESTINATION_ADDR: Final = CString(
    DATA_SM_ADDR_MAX, InvalidDestinationAddress, "destination_addr"
)
ESME_ADDR: Final = CString(DATA_SM_ADDR_MAX, InvalidParameterLength, "esme_addr")
# Times are empty or exactly TIME_LENGTH characters.
SCHEDULE_DELIVERY_TIME: Final = CString(
    TIME_LENGTH + 1, InvalidScheduledDeliveryTime, "schedule_delivery_time"
)
VALIDITY_PERIOD: Final = CString(TIME_LENGTH + 1, InvalidValidityPeriod, "validity_period")
FINAL_DATE: Final = CString(TIME_LENGTH + 1, InvalidParameterLength, "final_date")


# --- decoding helpers -----------------------------------------------------------------


def cstring(text: str, pos: int, field: CString) -> tuple[str, int]:
    """The C-string at `pos` (at most `field.limit` octets with its NUL) and the next offset."""
    end = text.find("\0", pos, pos + field.limit)
    if end < 0:
        missing_nul(text, pos, field)
    return text[pos:end], end + 1


def missing_nul(text: str, pos: int, field: CString) -> NoReturn:
    limit, error, name = field
    if len(text) - pos >= limit:
        raise error(f"{name} has no NUL within its {limit} octets")
    raise InvalidCommandLength(f"body ends inside {name}: no NUL terminator")


def time_field(text: str, pos: int, field: CString) -> tuple[str, int]:
    value, pos = cstring(text, pos, field)
    if value and len(value) != TIME_LENGTH:
        raise field.error(f"{field.name} {value!r} is neither empty nor {TIME_LENGTH} characters")
    return value, pos


def short_message_field(frame: bytes, pos: int) -> tuple[bytes, int]:
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


def no_trailing(frame: bytes, pos: int) -> None:
    if pos != len(frame):
        raise InvalidCommandLength(f"{len(frame) - pos} octets after the last field")


def tlvs_field(frame: bytes, pos: int) -> dict[int, bytes]:
    return decode_tlvs(frame, pos) if pos < len(frame) else {}
