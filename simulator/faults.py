"""Faults on demand for the simulated SMSC: what to do wrong, and when.

`Faults` is the plain, settable description (JSON in and out for the control API and
scenario files). `FaultInjector` holds one `Faults` and decides, PDU by PDU, how the
SMSC misbehaves: it is pure (time comes in as `now`, randomness from a seed), so the
SMSC's asyncio code only carries its decisions out and tests drive it directly.

- submit_sm: answered with ESME_RTHROTTLED or ESME_RMSGQFUL (the next N, or a share of
  them), a generic_nack, no answer at all, a dropped connection, or a late answer;
  a window (submit_sm outstanding per bind) and a throughput cap (submit_sm per second
  per bind) the SMSC enforces with ESME_RTHROTTLED;
- binds refused (ESME_RBINDFAIL, or ESME_RINVPASWD as for bad credentials);
- MO: each deliver_sm sent again N times, or cut into UDH parts sent out of order;
- delivery receipts for what the gateway submits, with an outcome and a delay, and
  as real SMSCs send them: before the submit_sm_resp, only on a bind_receiver, with the
  id in the other base (hex / decimal), plus receipts for ids never issued;
- a link that closes TCP instead of answering unbind, and one that sends enquire_link
  itself at its own period.
- hostile MO: from a sender that is no phone, to a number that is not the gateway's, a
  flood of deliver_sm written at once (as far as the SMSC's window allows), large
  message_payload.

Counts are spent as they fire, so reading `Faults` back says what is left. A share is
deterministic: with share p, exactly floor(n * p) of n submits are hit (error diffusion),
so a test or a benchmark sees the same run every time.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

from smsgw.smpp.constants import CommandStatus, MessageState
from smsgw.smpp.pacing import TokenBucket

PART_ORDERS: Final = ("in_order", "reversed", "shuffled")
# The receipt "stat" words (SMPP 3.4 appendix B) and the message_state each stands for.
RECEIPT_STATES: Final[Mapping[str, MessageState]] = {
    "DELIVRD": MessageState.DELIVERED,
    "UNDELIV": MessageState.UNDELIVERABLE,
    "EXPIRED": MessageState.EXPIRED,
    "REJECTD": MessageState.REJECTED,
}
RECEIPT_BINDS: Final = ("any", "receiver")
MAX_COUNT: Final = 1_000_000
MAX_DELAY_MS: Final = 600_000
MAX_MO_PARTS: Final = 255
MAX_MO_FLOOD: Final = 100_000
MAX_PAYLOAD_BYTES: Final = 65_000  # message_payload's length is 16 bits
MAX_ADDRESS_LENGTH: Final = 20  # source_addr / destination_addr are C-Octet Strings of 21
# A share is compared with a little slack so that 3 × (1/3) fires on the third submit.
_SHARE_EPSILON: Final = 1e-9


class FaultsError(ValueError):
    """A fault setting is wrong; the message starts with its key (``faults.<name>``)."""

    error_code = "bad_faults"


@dataclass(slots=True)
class Faults:
    """What the simulated SMSC does wrong. The defaults: nothing."""

    # only the binds and MOs of this operator are affected (None: every operator)
    operator: str | None = None
    # --- submit_sm ---
    throttle_count: int = 0  # the next N submit_sm get ESME_RTHROTTLED
    throttle_share: float = 0.0  # this share of submit_sm gets ESME_RTHROTTLED
    queue_full_count: int = 0  # ... ESME_RMSGQFUL
    queue_full_share: float = 0.0
    nack_count: int = 0  # the next N submit_sm get a generic_nack ...
    nack_status: int = CommandStatus.ESME_RSYSERR  # ... with this command_status
    no_response_count: int = 0  # the next N submit_sm are never answered
    drop_on_submit_count: int = 0  # the next N submit_sm close the connection instead
    submit_delay_ms: int = 0  # every submit_sm answer is this late
    window: int | None = None  # submit_sm outstanding per bind beyond this: throttled
    submits_per_second: float | None = None  # per bind, beyond this: throttled
    # --- binds ---
    refuse_binds: int = 0  # the next N binds are refused ...
    refuse_bind_status: int = CommandStatus.ESME_RBINDFAIL  # ... with this status
    # --- MO (deliver_sm) ---
    mo_duplicates: int = 0  # every MO is delivered this many extra times
    mo_parts: int = 0  # every MO is cut into this many UDH parts (0 or 1: as it fits)
    mo_parts_order: str = "in_order"  # in_order | reversed | shuffled
    mo_parts_ref16: bool = False  # 16-bit concatenation references instead of 8-bit
    seed: int = 0  # of the shuffles
    # --- delivery receipts for submitted messages ---
    receipts: bool = False
    receipt_stat: str = "DELIVRD"  # DELIVRD | UNDELIV | EXPIRED | REJECTD
    receipt_delay_ms: int = 0
    # --- receipts and link habits of real SMSCs ---
    # the receipt goes out, and is answered, before the submit_sm_resp it belongs to
    receipt_before_resp: bool = False
    receipt_bind: str = "any"  # any | receiver: receipts only on a bind_receiver
    message_id_format: str = "hex"  # hex | decimal: the ids submit_sm_resp gives
    receipt_id_format: str = "same"  # same | hex | decimal: the id as receipts write it
    unknown_receipts: int = 0  # the next N submits also bring a receipt for an unknown id
    close_on_unbind: bool = False  # an unbind is answered by closing the connection
    enquire_link_ms: int = 0  # the SMSC sends enquire_link this often on a new bind (0: no)
    # --- hostile MO (deliver_sm the gateway must refuse or hold back) ---
    mo_bad_sender: str | None = None  # every MO comes from this address instead
    mo_bad_receiver: str | None = None  # every MO goes to this number instead
    mo_flood: int = 0  # every MO goes out this many times at once, not waiting for answers
    mo_payload_bytes: int = 0  # every MO is padded to this many octets in message_payload

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Faults:
        """Faults from JSON/TOML; statuses by name ("ESME_RBINDFAIL") or number."""
        known = {f.name for f in dataclasses.fields(cls)}
        for name in data:
            if name not in known:
                raise FaultsError(
                    f"faults.{name}: unknown fault; known: {', '.join(sorted(known))}"
                )
        faults = cls()
        for name, value in data.items():
            setattr(faults, name, _PARSERS[name](name, value))
        return faults

    def updated(self, data: Mapping[str, Any]) -> Faults:
        """A copy with the fields in `data` changed (the others kept)."""
        merged = {**self.to_dict(), **data}
        return Faults.from_mapping(merged)

    def to_dict(self) -> dict[str, Any]:
        result = dataclasses.asdict(self)
        for name in ("nack_status", "refuse_bind_status"):
            result[name] = _status_name(result[name])
        return result

    def applies_to(self, operator: str | None) -> bool:
        return self.operator is None or self.operator == operator

    @property
    def receipt_state(self) -> MessageState:
        return RECEIPT_STATES[self.receipt_stat]


class SubmitAction(Enum):
    ANSWER = "answer"  # the normal answer (after `delay`)
    REFUSE = "refuse"  # a submit_sm_resp with `status`
    NACK = "nack"  # a generic_nack with `status`
    NO_RESPONSE = "no_response"  # never answered
    DROP = "drop"  # the connection is closed instead


@dataclass(frozen=True, slots=True)
class SubmitDecision:
    action: SubmitAction
    status: int = CommandStatus.ESME_ROK
    delay: float = 0.0  # seconds before the answer (or the refusal) goes out


ANSWER: Final = SubmitDecision(SubmitAction.ANSWER)


class BindLimiter:
    """One bind's window and throughput as the SMSC enforces them."""

    def __init__(self) -> None:
        self.outstanding = 0
        self._bucket: TokenBucket | None = None
        self._rate: float | None = None

    def admits(self, faults: Faults, now: float) -> bool:
        if faults.window is not None and self.outstanding >= faults.window:
            return False
        rate = faults.submits_per_second
        if rate is None:
            return True
        if self._bucket is None or self._rate != rate:
            # a second's worth of burst: "N per second" allows N at once, then N a second
            self._bucket = TokenBucket(rate, max(1.0, rate), now)
            self._rate = rate
        if self._bucket.delay_until_available(1, now) > 0:
            return False
        self._bucket.take(1, now)
        return True


class FaultInjector:
    """Decides each PDU's fate from the current `Faults` (see the module docstring)."""

    def __init__(
        self, faults: Faults | None = None, *, on_change: Callable[[Faults], None] | None = None
    ) -> None:
        self._faults = faults or Faults()
        self.on_change = on_change
        self._credit: dict[str, float] = {}
        self._shuffles = 0

    @property
    def faults(self) -> Faults:
        return self._faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self._faults = faults
        self._credit.clear()
        self._shuffles = 0
        if self.on_change is not None:
            self.on_change(faults)

    def clear(self) -> None:
        self.faults = Faults()

    # --- submit_sm -----------------------------------------------------------------------

    def on_submit(self, operator: str | None, limiter: BindLimiter, now: float) -> SubmitDecision:
        faults = self._faults
        if not faults.applies_to(operator):
            return ANSWER
        delay = faults.submit_delay_ms / 1000
        if self._spend("drop_on_submit_count"):
            return SubmitDecision(SubmitAction.DROP)
        if self._spend("no_response_count"):
            return SubmitDecision(SubmitAction.NO_RESPONSE)
        if self._spend("nack_count"):
            return SubmitDecision(SubmitAction.NACK, faults.nack_status, delay)
        refusal = self._refusal(faults, limiter, now)
        if refusal is not None:
            return SubmitDecision(SubmitAction.REFUSE, refusal, delay)
        return SubmitDecision(SubmitAction.ANSWER, delay=delay)

    def _refusal(self, faults: Faults, limiter: BindLimiter, now: float) -> int | None:
        if self._spend("throttle_count"):
            return CommandStatus.ESME_RTHROTTLED
        if self._spend("queue_full_count"):
            return CommandStatus.ESME_RMSGQFUL
        throttled = self._share_fires("throttle_share", faults.throttle_share)
        queue_full = self._share_fires("queue_full_share", faults.queue_full_share)
        if throttled:
            return CommandStatus.ESME_RTHROTTLED
        if queue_full:
            return CommandStatus.ESME_RMSGQFUL
        if not limiter.admits(faults, now):
            return CommandStatus.ESME_RTHROTTLED
        return None

    # --- binds ---------------------------------------------------------------------------

    def on_bind(self, operator: str | None) -> int:
        """The status to refuse this bind with, or ESME_ROK to let it through."""
        if self._faults.applies_to(operator) and self._spend("refuse_binds"):
            return self._faults.refuse_bind_status
        return CommandStatus.ESME_ROK

    # --- MO ------------------------------------------------------------------------------

    def mo_copies(self, operator: str) -> int:
        """How many times each MO goes out (1 without a duplicate fault)."""
        faults = self._faults
        return 1 + (faults.mo_duplicates if faults.applies_to(operator) else 0)

    def mo_part_count(self, operator: str) -> int:
        faults = self._faults
        return faults.mo_parts if faults.applies_to(operator) else 0

    def part_order(self, operator: str, count: int) -> list[int]:
        """The order (0-based indexes) in which `count` parts are sent."""
        faults = self._faults
        order = list(range(count))
        if not faults.applies_to(operator) or count < 2:
            return order
        if faults.mo_parts_order == "reversed":
            return order[::-1]
        if faults.mo_parts_order == "shuffled":
            self._shuffles += 1
            random.Random(faults.seed * 1_000_003 + self._shuffles).shuffle(order)
            if order == sorted(order):
                order = order[1:] + order[:1]  # "out of order" must never be in order
        return order

    # --- receipts ------------------------------------------------------------------------

    def mo_addresses(self, operator: str, source: str, destination: str) -> tuple[str, str]:
        """The (source, destination) an MO goes out with: a phone's, unless faulted."""
        faults = self._faults
        if not faults.applies_to(operator):
            return source, destination
        bad_sender, bad_receiver = faults.mo_bad_sender, faults.mo_bad_receiver
        return (
            source if bad_sender is None else bad_sender,
            destination if bad_receiver is None else bad_receiver,
        )

    def mo_flood(self, operator: str) -> int:
        """How many copies of each MO are written at once (0: one at a time)."""
        faults = self._faults
        return faults.mo_flood if faults.applies_to(operator) else 0

    def mo_payload_bytes(self, operator: str) -> int:
        faults = self._faults
        return faults.mo_payload_bytes if faults.applies_to(operator) else 0

    def receipt_for(self, operator: str, registered_delivery: int) -> tuple[str, float] | None:
        """(stat, delay in seconds) of the receipt to send for a submit, or None."""
        faults = self._faults
        if not faults.receipts or not faults.applies_to(operator):
            return None
        wanted = registered_delivery & 0x03
        delivered = faults.receipt_state is MessageState.DELIVERED
        if wanted == 1 or (wanted == 2 and not delivered):
            return faults.receipt_stat, faults.receipt_delay_ms / 1000
        return None

    def unknown_receipt(self, operator: str) -> bool:
        """Whether this submit also brings a receipt for an id the SMSC never issued."""
        return self._faults.applies_to(operator) and self._spend("unknown_receipts")

    # --- internals -----------------------------------------------------------------------

    def _spend(self, name: str) -> bool:
        left: int = getattr(self._faults, name)
        if left <= 0:
            return False
        setattr(self._faults, name, left - 1)
        return True

    def _share_fires(self, name: str, share: float) -> bool:
        if share <= 0:
            return False
        credit = self._credit.get(name, 0.0) + share
        fires = credit >= 1.0 - _SHARE_EPSILON
        self._credit[name] = credit - 1.0 if fires else credit
        return fires


# --- parsing -----------------------------------------------------------------------------


def _count(name: str, value: Any) -> int:
    return _int_in(name, value, 0, MAX_COUNT)


def _int_in(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise FaultsError(f"faults.{name}: must be a whole number {low}..{high}, got {value!r}")
    return value


def _share(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise FaultsError(f"faults.{name}: must be a number 0..1, got {value!r}")
    return float(value)


def _optional_window(name: str, value: Any) -> int | None:
    return None if value is None else _int_in(name, value, 1, 100_000)


def _optional_rate(name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1e6:
        raise FaultsError(f"faults.{name}: must be a number above 0 (up to 1e6), got {value!r}")
    return float(value)


def _status(name: str, value: Any) -> int:
    if isinstance(value, str):
        try:
            return int(CommandStatus[value.upper()])
        except KeyError:
            raise FaultsError(f"faults.{name}: unknown command_status {value!r}") from None
    return _int_in(name, value, 0, 0xFFFFFFFF)


def _error_status(name: str, value: Any) -> int:
    status = _status(name, value)
    if status == CommandStatus.ESME_ROK:
        raise FaultsError(f"faults.{name}: must be an error status, not ESME_ROK")
    return status


def _status_name(status: int) -> str | int:
    try:
        return CommandStatus(status).name
    except ValueError:
        return status


def _operator(name: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise FaultsError(f"faults.{name}: must be an operator id or null, got {value!r}")
    return value


def _optional_address(name: str, value: Any) -> str | None:
    # any string, even empty or hostile: the point is to send what a phone never would
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_ADDRESS_LENGTH:
        raise FaultsError(
            f"faults.{name}: must be a string of at most {MAX_ADDRESS_LENGTH} characters"
            f" or null, got {value!r}"
        )
    return value


def _choice(choices: tuple[str, ...]) -> Callable[[str, Any], str]:
    def parse(name: str, value: Any) -> str:
        if value not in choices:
            raise FaultsError(f"faults.{name}: must be one of {', '.join(choices)}, got {value!r}")
        return str(value)

    return parse


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise FaultsError(f"faults.{name}: must be true or false, got {value!r}")
    return value


_PARSERS: Final[Mapping[str, Callable[[str, Any], Any]]] = {
    "operator": _operator,
    "throttle_count": _count,
    "throttle_share": _share,
    "queue_full_count": _count,
    "queue_full_share": _share,
    "nack_count": _count,
    "nack_status": _status,
    "no_response_count": _count,
    "drop_on_submit_count": _count,
    "submit_delay_ms": lambda name, value: _int_in(name, value, 0, MAX_DELAY_MS),
    "window": _optional_window,
    "submits_per_second": _optional_rate,
    "refuse_binds": _count,
    "refuse_bind_status": _error_status,
    "mo_duplicates": lambda name, value: _int_in(name, value, 0, 100),
    "mo_parts": lambda name, value: _int_in(name, value, 0, MAX_MO_PARTS),
    "mo_parts_order": _choice(PART_ORDERS),
    "mo_parts_ref16": _flag,
    "seed": lambda name, value: _int_in(name, value, 0, 2**63 - 1),
    "receipts": _flag,
    "receipt_stat": _choice(tuple(RECEIPT_STATES)),
    "receipt_delay_ms": lambda name, value: _int_in(name, value, 0, MAX_DELAY_MS),
    "receipt_before_resp": _flag,
    "receipt_bind": _choice(RECEIPT_BINDS),
    "message_id_format": _choice(("hex", "decimal")),
    "receipt_id_format": _choice(("same", "hex", "decimal")),
    "unknown_receipts": _count,
    "close_on_unbind": _flag,
    "enquire_link_ms": lambda name, value: _int_in(name, value, 0, MAX_DELAY_MS),
    "mo_bad_sender": lambda name, value: _optional_address(name, value),
    "mo_bad_receiver": lambda name, value: _optional_address(name, value),
    "mo_flood": lambda name, value: _int_in(name, value, 0, MAX_MO_FLOOD),
    "mo_payload_bytes": lambda name, value: _int_in(name, value, 0, MAX_PAYLOAD_BYTES),
}
