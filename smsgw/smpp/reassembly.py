"""MO concatenation: read UDH/SAR concatenation info and reassemble parts (sans-IO).

Parts are joined as octets, before any decoding, because a foreign SMSC may split a
UCS-2 surrogate pair or a GSM escape across parts. Time comes in as `now`; nothing here
reads a clock, so a caller that stores parts before acknowledging them can rebuild a
Reassembler after a restart by adding the stored parts again with their arrival times.

Following TS 23.040 9.2.3.24.1, a part whose concatenation info is impossible (total 0
or 1, seqnum 0 or above total) is a message by itself: `add` returns its payload at once,
so no text is ever lost.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import ClassVar, Final, Literal

from smsgw.smpp.constants import CommandStatus

IEI_CONCAT_8BIT: Final = 0x00
IEI_CONCAT_16BIT: Final = 0x08
DEFAULT_TIMEOUT: Final = 300.0
DEFAULT_MAX_OPEN: Final = 10_000
DEFAULT_MAX_BUFFERED_OCTETS: Final = 8 * 1024 * 1024


class MalformedUdhError(ValueError):
    """UDHI is set but the UDH is truncated or its IEs overrun it."""

    command_status: ClassVar[int] = CommandStatus.ESME_RINVMSGLEN


@dataclass(frozen=True, slots=True)
class ConcatInfo:
    reference: int
    total: int
    seqnum: int
    ref16: bool = False

    @property
    def is_valid(self) -> bool:
        return self.total > 1 and 1 <= self.seqnum <= self.total


@dataclass(frozen=True, slots=True)
class UserData:
    """A short_message split into concatenation info and body."""

    concat: ConcatInfo | None
    body: bytes
    udh_length: int  # octets including the UDHL octet; 0 without a UDH (for fill bits)
    udh_malformed: bool = False


def _concat_ie(iei: int, data: bytes) -> ConcatInfo | None:
    if iei == IEI_CONCAT_8BIT and len(data) == 3:
        return ConcatInfo(data[0], data[1], data[2], ref16=False)
    if iei == IEI_CONCAT_16BIT and len(data) == 4:
        return ConcatInfo((data[0] << 8) | data[1], data[2], data[3], ref16=True)
    return None  # a concatenation IE of the wrong length is ignored, as an unknown IE


def parse_udh(short_message: bytes) -> tuple[ConcatInfo | None, bytes, int]:
    """(concatenation info, body, UDH length in octets) of a short_message with UDHI set.

    Other IEs are skipped; of repeated concatenation IEs the last wins (TS 23.040).
    Raises MalformedUdhError when the UDH does not fit the message.
    """
    if not short_message:
        raise MalformedUdhError("UDHI is set but short_message is empty")
    udh_length = 1 + short_message[0]
    if udh_length > len(short_message):
        raise MalformedUdhError(
            f"UDH of {udh_length} octets in a short_message of {len(short_message)}"
        )
    concat: ConcatInfo | None = None
    position = 1
    while position < udh_length:
        if position + 2 > udh_length:
            raise MalformedUdhError(f"IE header truncated at UDH octet {position}")
        iei, length = short_message[position], short_message[position + 1]
        data_end = position + 2 + length
        if data_end > udh_length:
            raise MalformedUdhError(f"IE {iei:#04x} of {length} octets overruns the UDH")
        concat = _concat_ie(iei, short_message[position + 2 : data_end]) or concat
        position = data_end
    return concat, short_message[udh_length:], udh_length


def concat_from_sar(
    reference: int | None, total: int | None, seqnum: int | None
) -> ConcatInfo | None:
    """Concatenation info from the sar_* TLV values; None unless all three are present."""
    if reference is None or total is None or seqnum is None:
        return None
    return ConcatInfo(reference, total, seqnum, ref16=True)


def read_user_data(short_message: bytes, *, udhi: bool, sar: ConcatInfo | None = None) -> UserData:
    """Body and concatenation info of an MO; never raises.

    A malformed UDH is treated as no UDH (the whole short_message is the body), so the
    text still reaches the parser, which answers it. UDH concatenation wins over SAR.
    """
    if not udhi:
        return UserData(sar, short_message, 0)
    try:
        concat, body, udh_length = parse_udh(short_message)
    except MalformedUdhError:
        return UserData(sar, short_message, 0, udh_malformed=True)
    return UserData(concat or sar, body, udh_length)


def expiry_cutoff(now: float, timeout: float) -> float:
    """Messages whose first part came before this are past `timeout` at `now`."""
    return now - timeout


def is_expired(first_seen: float, now: float, timeout: float) -> bool:
    """True once a message first seen at `first_seen` has been open `timeout` seconds."""
    return first_seen <= expiry_cutoff(now, timeout)


@dataclass(frozen=True, slots=True)
class MessageKey:
    link_id: str
    source: str
    destination: str
    reference: int
    total: int


@dataclass(frozen=True, slots=True)
class IncompleteMessage:
    """A message dropped before all its parts came, for the caller to log or store."""

    key: MessageKey
    parts: tuple[tuple[int, bytes], ...]  # (seqnum, payload), by seqnum
    first_seen: float
    reason: Literal["expired", "evicted"]

    @property
    def missing(self) -> tuple[int, ...]:
        received = {seqnum for seqnum, _ in self.parts}
        return tuple(n for n in range(1, self.key.total + 1) if n not in received)


@dataclass(slots=True)
class ReassemblyStats:
    completed: int = 0
    duplicates: int = 0
    standalone: int = 0  # parts with impossible concatenation info, passed on alone
    expired: int = 0
    evicted: int = 0


@dataclass(slots=True)
class _OpenMessage:
    first_seen: float
    parts: dict[int, bytes] = field(default_factory=dict)
    octets: int = 0


@dataclass(frozen=True, slots=True)
class _CompletedMessage:
    completed_at: float
    part_hashes: dict[int, int]


class Reassembler:
    """Joins MO parts keyed by (link, sender, receiver, reference, total).

    Parts may come in any order; a repeated seqnum is dropped. A part redelivered after
    its message completed (its deliver_sm_resp was lost) is recognised for
    `redelivery_window` seconds by its identical payload and dropped too. Memory is
    bounded: beyond `max_open` messages or `max_buffered_octets`, the oldest open
    message is evicted; `expire` reports evicted and timed-out messages.
    """

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_open: int = DEFAULT_MAX_OPEN,
        max_buffered_octets: int = DEFAULT_MAX_BUFFERED_OCTETS,
        redelivery_window: float | None = None,
    ) -> None:
        self.timeout = timeout
        self.max_open = max_open
        self.max_buffered_octets = max_buffered_octets
        self.redelivery_window = timeout if redelivery_window is None else redelivery_window
        self.stats = ReassemblyStats()
        self._open: OrderedDict[MessageKey, _OpenMessage] = OrderedDict()
        self._completed: OrderedDict[MessageKey, _CompletedMessage] = OrderedDict()
        self._buffered_octets = 0
        self._evicted: list[IncompleteMessage] = []

    @property
    def open_count(self) -> int:
        return len(self._open)

    @property
    def buffered_octets(self) -> int:
        return self._buffered_octets

    def add(
        self,
        link_id: str,
        source: str,
        destination: str,
        reference: int,
        total: int,
        seqnum: int,
        payload: bytes,
        now: float,
    ) -> bytes | None:
        """The whole message's octets when this part completes it, else None."""
        if total <= 1 or not 1 <= seqnum <= total:
            self.stats.standalone += 1
            return payload
        key = MessageKey(link_id, source, destination, reference, total)
        if self._is_redelivered(key, seqnum, payload):
            self.stats.duplicates += 1
            return None
        message = self._open.get(key)
        if message is None:
            message = self._open_message(key, now)
        if seqnum in message.parts:
            self.stats.duplicates += 1
            return None
        message.first_seen = min(message.first_seen, now)
        message.parts[seqnum] = payload
        message.octets += len(payload)
        self._buffered_octets += len(payload)
        if len(message.parts) == total:
            return self._complete(key, now)
        self._enforce_bounds()
        return None

    def add_concat(
        self,
        link_id: str,
        source: str,
        destination: str,
        concat: ConcatInfo,
        payload: bytes,
        now: float,
    ) -> bytes | None:
        return self.add(
            link_id,
            source,
            destination,
            concat.reference,
            concat.total,
            concat.seqnum,
            payload,
            now,
        )

    def expire(self, now: float) -> list[IncompleteMessage]:
        """Drop messages open for `timeout` seconds; report them and any evicted since."""
        dropped, self._evicted = self._evicted, []
        # the same sums as `get_timer`, so a timer fired at its deadline always finds
        # its message expired (now - timeout may round below first_seen)
        for key, message in list(self._open.items()):
            if now >= message.first_seen + self.timeout:
                dropped.append(self._drop(key, "expired"))
                self.stats.expired += 1
        for key, completed in list(self._completed.items()):
            if now >= completed.completed_at + self.redelivery_window:
                del self._completed[key]
        return dropped

    def next_expiry(self) -> float | None:
        """When `expire` next has work to do: for arming the caller's timer."""
        if self._evicted:
            return float("-inf")
        deadlines = [m.first_seen + self.timeout for m in self._open.values()]
        return min(deadlines, default=None)

    def get_timer(self) -> float | None:
        """When `handle_timer` next has work: an open message's timeout, the end of a
        completed one's redelivery window, or at once (-inf) when evicted messages wait
        to be reported; None when there is nothing to expire."""
        deadlines = [m.first_seen + self.timeout for m in self._open.values()]
        deadlines += [c.completed_at + self.redelivery_window for c in self._completed.values()]
        if self._evicted:
            deadlines.append(float("-inf"))
        return min(deadlines, default=None)

    def handle_timer(self, now: float) -> list[IncompleteMessage]:
        """The timer's call: expire what is due at ``now`` (see `expire`)."""
        return self.expire(now)

    def _open_message(self, key: MessageKey, now: float) -> _OpenMessage:
        message = _OpenMessage(first_seen=now)
        self._open[key] = message
        return message

    def _complete(self, key: MessageKey, now: float) -> bytes:
        message = self._open.pop(key)
        self._buffered_octets -= message.octets
        self.stats.completed += 1
        self._completed[key] = _CompletedMessage(
            now, {seqnum: hash(payload) for seqnum, payload in message.parts.items()}
        )
        self._completed.move_to_end(key)
        while len(self._completed) > self.max_open:
            self._completed.popitem(last=False)
        return b"".join(message.parts[seqnum] for seqnum in range(1, key.total + 1))

    def _is_redelivered(self, key: MessageKey, seqnum: int, payload: bytes) -> bool:
        completed = self._completed.get(key)
        if completed is None:
            return False
        if completed.part_hashes.get(seqnum) == hash(payload):
            return True
        # A different payload means the sender reused the reference for a new message.
        del self._completed[key]
        return False

    def _enforce_bounds(self) -> None:
        while self._open and (
            len(self._open) > self.max_open or self._buffered_octets > self.max_buffered_octets
        ):
            oldest = next(iter(self._open))
            self._evicted.append(self._drop(oldest, "evicted"))
            self.stats.evicted += 1
        # reported by `expire`; a caller that never calls it must not make this grow
        del self._evicted[: max(0, len(self._evicted) - self.max_open)]

    def _drop(self, key: MessageKey, reason: Literal["expired", "evicted"]) -> IncompleteMessage:
        message = self._open.pop(key)
        self._buffered_octets -= message.octets
        return IncompleteMessage(
            key, tuple(sorted(message.parts.items())), message.first_seen, reason
        )
