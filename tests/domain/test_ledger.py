from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsgw.domain.errors import DomainError
from smsgw.domain.ledger import (
    Account,
    AccountKind,
    ConflictingPostingError,
    Entry,
    InsufficientBalanceError,
    Ledger,
    Transaction,
    TransactionKind,
    UnbalancedTransactionError,
    charge_confirmed,
    session_extended,
    session_paid,
    session_refund,
)
from smsgw.domain.money import Money

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
PHONE = "79031234567"


def rub(minor: int) -> Money:
    return Money(minor, "RUB")


def charge(ref: str, minor: int, phone: str = PHONE, tx_id: str | None = None) -> Transaction:
    return charge_confirmed(
        transaction_id=tx_id or f"tx-{ref}",
        charge_id=ref,
        phone=phone,
        operator_id="beeline",
        amount=rub(minor),
        at=T0,
    )


def paid(ref: str, minor: int, phone: str = PHONE, zone: str = "3601") -> Transaction:
    return session_paid(
        transaction_id=f"tx-pay-{ref}",
        session_id=ref,
        phone=phone,
        zone=zone,
        amount=rub(minor),
        at=T0,
    )


# --- transactions -------------------------------------------------------------------


def test_a_charge_moves_money_from_operator_clearing_to_the_phone() -> None:
    ledger = Ledger()
    ledger.post(charge("c1", 12_050))
    assert ledger.balance(Account.phone(PHONE, "RUB")) == rub(12_050)
    assert ledger.balance(Account.operator("beeline", "RUB")) == rub(-12_050)
    assert ledger.total() == {"RUB": rub(0)}


def test_paying_extending_and_refunding_move_between_phone_and_zone_revenue() -> None:
    ledger = Ledger()
    ledger.post(charge("c1", 10_000))
    ledger.post(paid("s1", 6_000))
    ledger.post(
        session_extended(
            transaction_id="tx-ext",
            extension_id="s1+1",
            phone=PHONE,
            zone="3601",
            amount=rub(3_000),
            at=T0,
        )
    )
    ledger.post(
        session_refund(
            transaction_id="tx-ref",
            session_id="s1",
            phone=PHONE,
            zone="3601",
            amount=rub(2_500),
            at=T0,
        )
    )
    assert ledger.balance(Account.phone(PHONE, "RUB")) == rub(3_500)
    assert ledger.balance(Account.revenue("3601", "RUB")) == rub(6_500)
    assert ledger.total() == {"RUB": rub(0)}


def test_an_unbalanced_transaction_cannot_be_built() -> None:
    entries = (
        Entry(Account.phone(PHONE, "RUB"), rub(100)),
        Entry(Account.operator("mts", "RUB"), rub(-99)),
    )
    with pytest.raises(UnbalancedTransactionError):
        Transaction("t", TransactionKind.CHARGE_CONFIRMED, "c", entries, T0)


def test_balance_is_checked_per_currency() -> None:
    entries = (
        Entry(Account.phone(PHONE, "RUB"), rub(100)),
        Entry(Account.operator("kcell", "KZT"), Money(-100, "KZT")),
    )
    with pytest.raises(UnbalancedTransactionError):
        Transaction("t", TransactionKind.CHARGE_CONFIRMED, "c", entries, T0)


def test_a_transaction_needs_two_entries_and_an_aware_time() -> None:
    one = (Entry(Account.phone(PHONE, "RUB"), rub(100)),)
    with pytest.raises(UnbalancedTransactionError):
        Transaction("t", TransactionKind.CHARGE_CONFIRMED, "c", one, T0)
    with pytest.raises(ValueError, match="aware"):
        replace(charge("c", 100), at=datetime(2024, 1, 1))


def test_an_entry_must_be_in_its_accounts_currency_and_not_zero() -> None:
    with pytest.raises(UnbalancedTransactionError):
        Entry(Account.phone(PHONE, "RUB"), Money(100, "KZT"))
    with pytest.raises(UnbalancedTransactionError):
        Entry(Account.phone(PHONE, "RUB"), rub(0))


def test_movements_need_a_positive_amount() -> None:
    with pytest.raises(ValueError, match="positive"):
        charge("c", 0)


# --- idempotency --------------------------------------------------------------------


def test_posting_the_same_transaction_twice_moves_money_once() -> None:
    ledger = Ledger()
    first = ledger.post(charge("c1", 500))
    again = ledger.post(charge("c1", 500))
    assert again is first
    assert ledger.balance(Account.phone(PHONE, "RUB")) == rub(500)
    assert len(ledger.transactions()) == 1


def test_a_rebuilt_retry_with_a_new_id_returns_the_first_posting() -> None:
    ledger = Ledger()
    first = ledger.post(charge("c1", 500, tx_id="attempt-1"))
    retry = ledger.post(charge("c1", 500, tx_id="attempt-2"))
    assert retry is first
    assert ledger.balance(Account.phone(PHONE, "RUB")) == rub(500)


def test_the_same_reference_with_other_money_is_refused() -> None:
    ledger = Ledger()
    ledger.post(charge("c1", 500))
    with pytest.raises(ConflictingPostingError):
        ledger.post(charge("c1", 600, tx_id="other"))
    assert ledger.balance(Account.phone(PHONE, "RUB")) == rub(500)


def test_a_reused_transaction_id_for_another_movement_is_refused() -> None:
    ledger = Ledger()
    ledger.post(charge("c1", 500, tx_id="same"))
    with pytest.raises(ConflictingPostingError):
        ledger.post(charge("c2", 500, tx_id="same"))


def test_the_same_reference_under_another_kind_is_a_different_movement() -> None:
    ledger = Ledger()
    ledger.post(charge("x", 500))
    ledger.post(paid("x", 200))
    assert ledger.balance(Account.phone(PHONE, "RUB")) == rub(300)


# --- the phone's account never goes negative ----------------------------------------


def test_paying_more_than_the_parking_account_holds_is_refused() -> None:
    ledger = Ledger()
    ledger.post(charge("c1", 500))
    with pytest.raises(InsufficientBalanceError) as refused:
        ledger.post(paid("s1", 501))
    assert isinstance(refused.value, DomainError)
    assert refused.value.reply_key == "error.temporary"
    assert refused.value.facts["balance"] == rub(500)
    assert ledger.balance(Account.phone(PHONE, "RUB")) == rub(500)
    assert ledger.find(TransactionKind.SESSION_PAID, "s1") is None


def test_paying_exactly_the_balance_leaves_zero() -> None:
    ledger = Ledger()
    ledger.post(charge("c1", 500))
    ledger.post(paid("s1", 500))
    assert ledger.balance(Account.phone(PHONE, "RUB")) == rub(0)


# --- accounts -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "account",
    [
        Account.phone("79031234567", "RUB"),
        Account.operator("kcell", "KZT"),
        Account.revenue("zone:1001", "KZT"),
    ],
)
def test_an_account_key_round_trips(account: Account) -> None:
    assert Account.from_key(account.key) == account


def test_an_unknown_account_has_a_zero_balance_in_its_currency() -> None:
    assert Ledger().balance(Account.phone("77011234567", "KZT")) == Money(0, "KZT")


def test_replay_rebuilds_the_same_balances() -> None:
    ledger = Ledger()
    for tx in (charge("c1", 1_000), paid("s1", 400), charge("c2", 50)):
        ledger.post(tx)
    rebuilt = Ledger.replay(ledger.transactions())
    for account in ledger.accounts():
        assert rebuilt.balance(account) == ledger.balance(account)


# --- property: any sequence of charges, payments, refunds and retries -----------------

PHONES = ("79030000001", "79160000002", "79260000003")
ZONES = ("3601", "3602")
OPERATORS = ("beeline", "mts")

amounts = st.integers(min_value=1, max_value=2_000_000)
operations = st.one_of(
    st.tuples(st.just("charge"), st.sampled_from(PHONES), st.sampled_from(OPERATORS), amounts),
    st.tuples(st.just("pay"), st.sampled_from(PHONES), st.sampled_from(ZONES), amounts),
    st.tuples(st.just("refund"), st.integers(min_value=0), amounts),
    st.tuples(st.just("repost"), st.integers(min_value=0), st.booleans()),
)


@dataclass
class Model:
    """Balances kept by hand, beside the ledger, to compare with what it derives."""

    balances: dict[Account, int] = field(default_factory=dict)
    sessions: list[tuple[str, str, str, int]] = field(default_factory=list)
    refunded: set[str] = field(default_factory=set)
    counter: int = 0

    def add(self, account: Account, minor: int) -> None:
        self.balances[account] = self.balances.get(account, 0) + minor

    def next_id(self) -> str:
        self.counter += 1
        return f"id{self.counter}"


def run(ledger: Ledger, model: Model, op: tuple[object, ...]) -> None:
    match op:
        case ("charge", str(phone), str(operator), int(minor)):
            ref = model.next_id()
            ledger.post(
                charge_confirmed(
                    transaction_id=f"tx-{ref}",
                    charge_id=ref,
                    phone=phone,
                    operator_id=operator,
                    amount=rub(minor),
                    at=T0 + timedelta(seconds=model.counter),
                )
            )
            model.add(Account.phone(phone, "RUB"), minor)
            model.add(Account.operator(operator, "RUB"), -minor)
        case ("pay", str(phone), str(zone), int(minor)):
            session = model.next_id()
            tx = paid(session, minor, phone=phone, zone=zone)
            if model.balances.get(Account.phone(phone, "RUB"), 0) < minor:
                with pytest.raises(InsufficientBalanceError):
                    ledger.post(tx)
                return
            ledger.post(tx)
            model.add(Account.phone(phone, "RUB"), -minor)
            model.add(Account.revenue(zone, "RUB"), minor)
            model.sessions.append((session, phone, zone, minor))
        case ("refund", int(pick), int(minor)):
            open_sessions = [s for s in model.sessions if s[0] not in model.refunded]
            if not open_sessions:
                return
            session, phone, zone, was_paid = open_sessions[pick % len(open_sessions)]
            back = min(minor, was_paid)
            ledger.post(
                session_refund(
                    transaction_id=f"tx-refund-{session}",
                    session_id=session,
                    phone=phone,
                    zone=zone,
                    amount=rub(back),
                    at=T0,
                )
            )
            model.refunded.add(session)
            model.add(Account.phone(phone, "RUB"), back)
            model.add(Account.revenue(zone, "RUB"), -back)
        case ("repost", int(pick), bool(fresh_id)):
            posted = ledger.transactions()
            if not posted:
                return
            original = posted[pick % len(posted)]
            retry = replace(original, id=model.next_id()) if fresh_id else original
            assert ledger.post(retry) is original


@settings(max_examples=200, deadline=None)
@given(st.lists(operations, max_size=40))
def test_any_sequence_keeps_the_books_balanced(ops: list[tuple[object, ...]]) -> None:
    ledger = Ledger()
    model = Model()
    for op in ops:
        run(ledger, model, op)
        assert all(total.is_zero for total in ledger.total().values())
        for account in ledger.accounts():
            if account.kind is AccountKind.PHONE:
                assert not ledger.balance(account).is_negative
    for account, minor in model.balances.items():
        assert ledger.balance(account) == rub(minor)
    derived: dict[Account, int] = {}
    for tx in ledger.transactions():
        for entry in tx.entries:
            derived[entry.account] = derived.get(entry.account, 0) + entry.amount.minor
    assert {a: rub(m) for a, m in derived.items()} == {
        a: ledger.balance(a) for a in ledger.accounts()
    }
