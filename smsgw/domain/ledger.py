"""A double-entry ledger of the parking money: immutable entries, balances derived.

Accounts
    phone:<msisdn>       a driver's parking account (created by its first entry)
    operator:<id>        clearing with one mobile operator: what it collected for us
    revenue:<zone>       parking revenue of one zone

Sign convention: an account's balance is what the gateway holds *for* the account's
owner. The phone's parking account is therefore positive (the driver's money, as the
driver sees it), revenue is positive (the city's money), and an operator's clearing
account is negative: the operator has taken the money from its subscribers and owes it
to us. Every transaction sums to zero per currency, so the sum over all accounts is
always zero and no money is created or lost.

Money moves
    charge_confirmed   operator clearing -> phone          (ref: charge id)
    session_paid       phone -> zone revenue               (ref: session id)
    session_extended   phone -> zone revenue               (ref: extension id)
    session_refund     zone revenue -> phone               (ref: session id)

Each (kind, reference) moves money at most once: posting the same transaction again
returns the one already posted, so a retried or replayed charge cannot pay twice.
Ids and times are supplied by the caller (the storage layer persists entries as they
are), so nothing here reads a clock or makes up an id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from smsgw.domain.errors import DomainError
from smsgw.domain.money import Money

MIN_ENTRIES = 2


class LedgerError(DomainError):
    """A posting the ledger refuses: a caller bug or a lost race, never the driver's fault,
    so the subscriber hears the temporary-error reply and the unit of work rolls back."""

    reply_key = "error.temporary"


class UnbalancedTransactionError(LedgerError):
    """Entries that do not sum to zero per currency, or fewer than two of them."""


class ConflictingPostingError(LedgerError):
    """A transaction reusing an id or a (kind, reference) with different entries."""


class InsufficientBalanceError(LedgerError):
    """A transaction that would take a phone's parking account below zero."""


class AccountKind(StrEnum):
    PHONE = "phone"
    OPERATOR = "operator"
    REVENUE = "revenue"


class TransactionKind(StrEnum):
    CHARGE_CONFIRMED = "charge_confirmed"
    SESSION_PAID = "session_paid"
    SESSION_EXTENDED = "session_extended"
    SESSION_REFUND = "session_refund"


@dataclass(frozen=True, slots=True)
class Account:
    kind: AccountKind
    owner: str
    currency: str

    def __post_init__(self) -> None:
        if not self.owner:
            raise ValueError("an account needs an owner (msisdn, operator id or zone)")
        Money.zero(self.currency)  # validates the currency code

    @classmethod
    def phone(cls, msisdn: str, currency: str) -> Account:
        return cls(AccountKind.PHONE, msisdn, currency)

    @classmethod
    def operator(cls, operator_id: str, currency: str) -> Account:
        return cls(AccountKind.OPERATOR, operator_id, currency)

    @classmethod
    def revenue(cls, zone: str, currency: str) -> Account:
        return cls(AccountKind.REVENUE, zone, currency)

    @property
    def key(self) -> str:
        """A stable text form for storage: `phone:79001234567:RUB`."""
        return f"{self.kind}:{self.owner}:{self.currency}"

    @classmethod
    def from_key(cls, key: str) -> Account:
        kind, _, rest = key.partition(":")
        owner, _, currency = rest.rpartition(":")
        return cls(AccountKind(kind), owner, currency)


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of a transaction: a signed amount on one account."""

    account: Account
    amount: Money

    def __post_init__(self) -> None:
        if self.amount.currency != self.account.currency:
            raise UnbalancedTransactionError(account=self.account.key, amount=self.amount)
        if self.amount.is_zero:
            raise UnbalancedTransactionError(account=self.account.key, amount=self.amount)


@dataclass(frozen=True, slots=True)
class Transaction:
    id: str
    kind: TransactionKind
    reference: str
    entries: tuple[Entry, ...]
    at: datetime

    def __post_init__(self) -> None:
        if not self.id or not self.reference:
            raise ValueError("a transaction needs an id and a reference")
        if self.at.tzinfo is None:
            raise ValueError("transaction time must be timezone-aware")
        if len(self.entries) < MIN_ENTRIES:
            raise UnbalancedTransactionError(transaction=self.id, entries=len(self.entries))
        for currency, total in sum_by_currency(self.entries).items():
            if total != 0:
                raise UnbalancedTransactionError(transaction=self.id, sum=Money(total, currency))

    def same_movement(self, other: Transaction) -> bool:
        """True when both move the same money for the same reason (ids and times aside):
        a rebuilt retry of a posting, which must not move the money again."""
        return (
            self.kind == other.kind
            and self.reference == other.reference
            and Counter(self.entries) == Counter(other.entries)
        )


def sum_by_currency(entries: Iterable[Entry]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for entry in entries:
        currency = entry.amount.currency
        totals[currency] = totals.get(currency, 0) + entry.amount.minor
    return totals


# --- the rules of posting: this in-memory ledger and the SQL units of work
# (smsgw/storage/sqlite_tx.py, postgres_tx.py) apply the same ones -------------------


def repeat_of(existing: Transaction, transaction: Transaction) -> Transaction:
    """The posted transaction when `transaction` repeats it; raise when it conflicts."""
    if not existing.same_movement(transaction):
        raise ConflictingPostingError(
            transaction=transaction.id,
            existing=existing.id,
            kind=str(transaction.kind),
            reference=transaction.reference,
        )
    return existing


def balance_changes(transaction: Transaction) -> dict[Account, int]:
    """The net change per account, in a stable order (by key) so that row locks are always
    taken in the same order and two units cannot deadlock on them."""
    changes: dict[Account, int] = {}
    for entry in transaction.entries:
        changes[entry.account] = changes.get(entry.account, 0) + entry.amount.minor
    return {account: changes[account] for account in sorted(changes, key=lambda a: a.key)}


def refuse_overdraft(changes: Mapping[Account, int], balances: Mapping[str, int]) -> None:
    """A phone's parking account never goes below zero; `balances` by account key."""
    for account, change in changes.items():
        before = balances.get(account.key, 0)
        if account.kind is AccountKind.PHONE and before + change < 0:
            raise InsufficientBalanceError(
                account=account.key,
                balance=Money(before, account.currency),
                amount=Money(change, account.currency),
            )


class Ledger:
    """The in-memory ledger: an append-only list of transactions and derived balances."""

    def __init__(self) -> None:
        self._transactions: list[Transaction] = []
        self._by_id: dict[str, Transaction] = {}
        self._by_reference: dict[tuple[TransactionKind, str], Transaction] = {}
        self._balances: dict[Account, int] = {}

    @classmethod
    def replay(cls, transactions: Iterable[Transaction]) -> Ledger:
        """Rebuild a ledger from stored transactions, checking each as it is posted."""
        ledger = cls()
        for transaction in transactions:
            ledger.post(transaction)
        return ledger

    def post(self, transaction: Transaction) -> Transaction:
        """Post `transaction`, or return the already posted one it repeats.

        Raises ConflictingPostingError when its id or (kind, reference) is taken by a different
        movement, InsufficientBalanceError when a phone account would go below zero."""
        existing = self._already_posted(transaction)
        if existing is not None:
            return existing
        self._refuse_negative_phone_balance(transaction)
        for entry in transaction.entries:
            self._balances[entry.account] = self.balance(entry.account).minor + entry.amount.minor
        self._transactions.append(transaction)
        self._by_id[transaction.id] = transaction
        self._by_reference[(transaction.kind, transaction.reference)] = transaction
        return transaction

    def _already_posted(self, transaction: Transaction) -> Transaction | None:
        for existing in (
            self._by_id.get(transaction.id),
            self._by_reference.get((transaction.kind, transaction.reference)),
        ):
            if existing is not None:
                return repeat_of(existing, transaction)
        return None

    def _refuse_negative_phone_balance(self, transaction: Transaction) -> None:
        changes = balance_changes(transaction)
        refuse_overdraft(
            changes, {account.key: self._balances.get(account, 0) for account in changes}
        )

    def balance(self, account: Account) -> Money:
        return Money(self._balances.get(account, 0), account.currency)

    def total(self) -> dict[str, Money]:
        """The sum over all accounts per currency: always zero, by construction."""
        totals: dict[str, int] = {}
        for account, minor in self._balances.items():
            totals[account.currency] = totals.get(account.currency, 0) + minor
        return {currency: Money(minor, currency) for currency, minor in totals.items()}

    def accounts(self) -> tuple[Account, ...]:
        return tuple(self._balances)

    def transactions(self) -> tuple[Transaction, ...]:
        return tuple(self._transactions)

    def find(self, kind: TransactionKind, reference: str) -> Transaction | None:
        return self._by_reference.get((kind, reference))


# --- the standard movements ----------------------------------------------------------


def charge_confirmed(
    *,
    transaction_id: str,
    charge_id: str,
    phone: str,
    operator_id: str,
    amount: Money,
    at: datetime,
) -> Transaction:
    """The operator took `amount` from the subscriber: it lands on the parking account."""
    return _move(
        transaction_id,
        TransactionKind.CHARGE_CONFIRMED,
        charge_id,
        source=Account.operator(operator_id, amount.currency),
        target=Account.phone(phone, amount.currency),
        amount=amount,
        at=at,
    )


def session_paid(
    *, transaction_id: str, session_id: str, phone: str, zone: str, amount: Money, at: datetime
) -> Transaction:
    """A new session is paid from the parking account."""
    kind = TransactionKind.SESSION_PAID
    return session_movement(kind, transaction_id, session_id, phone, zone, amount, at)


def session_extended(
    *, transaction_id: str, extension_id: str, phone: str, zone: str, amount: Money, at: datetime
) -> Transaction:
    """Extra hours of a running session, paid from the parking account. A session may be
    extended many times, so the reference is the extension's own id, not the session's."""
    kind = TransactionKind.SESSION_EXTENDED
    return session_movement(kind, transaction_id, extension_id, phone, zone, amount, at)


def session_refund(
    *, transaction_id: str, session_id: str, phone: str, zone: str, amount: Money, at: datetime
) -> Transaction:
    """The unused part of a stopped session goes back to the parking account."""
    kind = TransactionKind.SESSION_REFUND
    return session_movement(kind, transaction_id, session_id, phone, zone, amount, at)


def session_movement(
    kind: TransactionKind,
    transaction_id: str,
    reference: str,
    phone: str,
    zone: str,
    amount: Money,
    at: datetime,
) -> Transaction:
    """A session's money: paying or extending moves `amount` from the phone's parking
    account to the zone's revenue, a refund moves it back."""
    account = Account.phone(phone, amount.currency)
    revenue = Account.revenue(zone, amount.currency)
    if kind is TransactionKind.SESSION_REFUND:
        account, revenue = revenue, account
    return _move(
        transaction_id, kind, reference, source=account, target=revenue, amount=amount, at=at
    )


def _move(
    transaction_id: str,
    kind: TransactionKind,
    reference: str,
    *,
    source: Account,
    target: Account,
    amount: Money,
    at: datetime,
) -> Transaction:
    if not amount.is_positive:
        raise ValueError(f"{kind} needs a positive amount, got {amount}")
    return Transaction(
        id=transaction_id,
        kind=kind,
        reference=reference,
        entries=(Entry(source, -amount), Entry(target, amount)),
        at=at,
    )
