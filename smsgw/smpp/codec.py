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

import struct
from typing import Final, NoReturn

from smsgw.smpp.codec_fields import (
    unpack_header,
)
from smsgw.smpp.constants import (
    HEADER_LENGTH,
)
from smsgw.smpp.decoders import DECODERS as _DECODERS
from smsgw.smpp.encoders import ENCODERS as _ENCODERS
from smsgw.smpp.errors import (
    InvalidCommandId,
    InvalidCommandLength,
    InvalidParameterValue,
    SmppError,
)
from smsgw.smpp.pdu import (
    BODY_OMITTED_ON_ERROR,
    Pdu,
    _NoBody,
)

DEFAULT_MAX_PDU_SIZE: Final = 64 * 1024


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


def _needs_body(pdu: Pdu) -> bool:
    """A response whose body 3.4 requires even on error (requests always have theirs;
    a response that is a header and nothing more has none to keep)."""
    kind = type(pdu)
    return (
        pdu.command_id & 0x80000000 != 0
        and kind not in BODY_OMITTED_ON_ERROR
        and not issubclass(kind, _NoBody)
    )


def decode(frame: bytes) -> Pdu:
    """The PDU in one whole frame (command_length included)."""
    if type(frame) is not bytes:
        frame = bytes(frame)
    try:
        length, command_id, status, sequence = unpack_header(frame)
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
    length, command_id, _, sequence = unpack_header(frame)
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
            _, error.command_id, _, error.sequence_number = unpack_header(stream, pos)
        self._error = error
        return error
