"""Virtual phones: a number, its operator, a balance, an inbox and a way of answering.

Plain objects with no I/O, shared by the simulated operators (which debit them and text
them their confirmation requests) and by tests, scenarios and the web phone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar

from smsgw.domain.money import Money


class ConfirmationPolicy(StrEnum):
    """How the phone's owner answers an operator's "confirm the debit" text."""

    CONFIRM = "confirm"  # replies 1
    DECLINE = "decline"  # replies 0
    IGNORE = "ignore"  # never replies: the charge stays pending until someone answers


CONFIRM_REPLY = "1"
DECLINE_REPLY = "0"


class PhoneError(Exception):
    """A phone cannot do what was asked; `reason` is the operator's word for it."""

    reason: ClassVar[str] = "failed"


class InsufficientFundsError(PhoneError):
    reason = "insufficient_funds"


class UnknownPhoneError(PhoneError):
    reason = "unknown_subscriber"


class BarredPhoneError(PhoneError):
    reason = "subscriber_barred"


@dataclass(frozen=True, slots=True)
class ReceivedText:
    sender: str
    text: str


@dataclass(slots=True)
class VirtualPhone:
    """One subscriber. `answer_delay` (seconds) is how long the owner takes to reply."""

    msisdn: str
    operator_id: str
    balance: Money
    policy: ConfirmationPolicy = ConfirmationPolicy.CONFIRM
    answer_delay: float = 0.0
    inbox: list[ReceivedText] = field(default_factory=list)
    barred: bool = False  # the operator bars payments from this number

    def __post_init__(self) -> None:
        if not (self.msisdn.isascii() and self.msisdn.isdigit()):
            raise ValueError(f"a phone number is international digits, got {self.msisdn!r}")
        if self.answer_delay < 0:
            raise ValueError("answer_delay must not be negative")

    def receive(self, sender: str, text: str) -> None:
        self.inbox.append(ReceivedText(sender, text))

    def texts_from(self, sender: str) -> list[str]:
        return [message.text for message in self.inbox if message.sender == sender]

    def reply_to_confirmation(self) -> str | None:
        """What the owner texts back by policy: "1", "0", or nothing at all."""
        if self.policy is ConfirmationPolicy.CONFIRM:
            return CONFIRM_REPLY
        if self.policy is ConfirmationPolicy.DECLINE:
            return DECLINE_REPLY
        return None

    def debit(self, amount: Money, must_remain: Money | None = None) -> None:
        """Take `amount` off the balance, all or nothing. `must_remain` is what the
        operator keeps on the phone whatever is paid (Beeline: 10 RUB): a debit that
        would leave less fails as insufficient funds, as the operator reports it."""
        if not amount.is_positive:
            raise ValueError(f"a debit must be positive, got {amount}")
        if self.barred:
            raise BarredPhoneError(f"payments from {self.msisdn} are barred")
        floor = must_remain if must_remain is not None else Money.zero(amount.currency)
        if self.balance - amount < floor:
            raise InsufficientFundsError(
                f"balance {self.balance.minor} - {amount.minor} < {floor.minor} to remain"
            )
        self.balance -= amount

    def top_up(self, amount: Money) -> None:
        if not amount.is_positive:
            raise ValueError(f"a top-up must be positive, got {amount}")
        self.balance += amount


class PhoneBook:
    """Every virtual phone by number."""

    def __init__(self, phones: Iterable[VirtualPhone] = ()) -> None:
        self._phones: dict[str, VirtualPhone] = {}
        for phone in phones:
            self.add(phone)

    def add(self, phone: VirtualPhone) -> VirtualPhone:
        if phone.msisdn in self._phones:
            raise ValueError(f"phone {phone.msisdn} exists already")
        self._phones[phone.msisdn] = phone
        return phone

    def get(self, msisdn: str) -> VirtualPhone | None:
        return self._phones.get(msisdn)

    def require(self, msisdn: str) -> VirtualPhone:
        phone = self._phones.get(msisdn)
        if phone is None:
            raise UnknownPhoneError(msisdn)
        return phone

    def of_operator(self, operator_id: str) -> list[VirtualPhone]:
        return [phone for phone in self._phones.values() if phone.operator_id == operator_id]

    def __iter__(self) -> Iterator[VirtualPhone]:
        return iter(self._phones.values())

    def __len__(self) -> int:
        return len(self._phones)
