"""The ledger in storage: the same rules as domain.ledger.Ledger, balances kept beside it."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from dataclasses import replace
from functools import partial

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smsgw.domain.ledger import (
    Account,
    ConflictingPostingError,
    InsufficientBalanceError,
    Ledger,
    LedgerError,
    Transaction,
    charge_confirmed,
    session_paid,
    session_refund,
)
from smsgw.domain.money import Money
from smsgw.language import Language
from smsgw.service.store_port import Store, Tx
from tests.storage.backends import Backend
from tests.storage.builders import PHONE, T0, at, rub


def charge_tx(ref: str, minor: int, *, tx_id: str | None = None, phone: str = PHONE) -> Transaction:
    return charge_confirmed(
        transaction_id=tx_id or f"charge-{ref}",
        charge_id=ref,
        phone=phone,
        operator_id="beeline",
        amount=rub(minor),
        at=T0,
    )


def paid_tx(ref: str, minor: int, *, phone: str = PHONE) -> Transaction:
    return session_paid(
        transaction_id=f"paid-{ref}",
        session_id=ref,
        phone=phone,
        zone="1001",
        amount=rub(minor),
        at=T0,
    )


async def balance(store: Store, account: Account) -> Money:
    return await store.transact(lambda tx: tx.balance(account))


async def test_posting_moves_the_money(store: Store) -> None:
    await store.transact(lambda tx: tx.post(charge_tx("c1", 10000)))
    await store.transact(lambda tx: tx.post(paid_tx("s1", 6000)))

    assert await balance(store, Account.phone(PHONE, "RUB")) == rub(4000)
    assert await balance(store, Account.revenue("1001", "RUB")) == rub(6000)
    assert await balance(store, Account.operator("beeline", "RUB")) == rub(-10000)
    assert await balance(store, Account.phone("nobody", "KZT")) == Money(0, "KZT")


async def test_a_repeated_posting_returns_the_first_and_moves_nothing(store: Store) -> None:
    first = await store.transact(lambda tx: tx.post(charge_tx("c1", 10000)))
    rebuilt = replace(charge_tx("c1", 10000, tx_id="charge-c1-retry"), at=at(5))

    again = await store.transact(lambda tx: tx.post(rebuilt))
    same_id = await store.transact(lambda tx: tx.post(charge_tx("c1", 10000)))

    assert again == first == same_id
    assert await balance(store, Account.phone(PHONE, "RUB")) == rub(10000)


async def test_a_conflicting_posting_is_refused(store: Store) -> None:
    await store.transact(lambda tx: tx.post(charge_tx("c1", 10000)))

    with pytest.raises(ConflictingPostingError):  # same reference, other amount
        await store.transact(lambda tx: tx.post(charge_tx("c1", 9999, tx_id="other")))
    with pytest.raises(ConflictingPostingError):  # same id, other reference
        await store.transact(lambda tx: tx.post(charge_tx("c2", 10000, tx_id="charge-c1")))
    assert await balance(store, Account.phone(PHONE, "RUB")) == rub(10000)


async def test_the_id_is_looked_up_before_the_reference_as_in_the_domain_ledger(
    store: Store,
) -> None:
    first, second = charge_tx("c1", 100, tx_id="t1"), charge_tx("c2", 100, tx_id="t2")
    await store.transact(lambda tx: tx.post(first))
    await store.transact(lambda tx: tx.post(second))
    # repeats `second`'s movement, but under `first`'s id: the id wins, and conflicts
    clash = charge_tx("c2", 100, tx_id="t1")
    book = Ledger.replay([first, second])

    with pytest.raises(ConflictingPostingError):
        book.post(clash)
    with pytest.raises(ConflictingPostingError):
        await store.transact(lambda tx: tx.post(clash))


async def test_a_phone_account_never_goes_below_zero(store: Store) -> None:
    await store.transact(lambda tx: tx.post(charge_tx("c1", 5000)))

    with pytest.raises(InsufficientBalanceError) as refused:
        await store.transact(lambda tx: tx.post(paid_tx("s1", 5001)))

    assert refused.value.facts == {
        "account": f"phone:{PHONE}:RUB",
        "balance": rub(5000),
        "amount": rub(-5001),
    }
    assert await balance(store, Account.phone(PHONE, "RUB")) == rub(5000)


async def test_a_refused_posting_leaves_no_trace_when_the_unit_goes_on(store: Store) -> None:
    async def pay_or_note(tx: Tx) -> str:
        try:
            await tx.post(paid_tx("s1", 6000))
        except InsufficientBalanceError:
            await tx.set_language(PHONE, Language.EN)
            return "refused"
        return "paid"

    assert await store.transact(pay_or_note) == "refused"
    # the refused movement was not stored half-way: once funded it posts for real
    await store.transact(lambda tx: tx.post(charge_tx("c1", 6000)))
    posted = await store.transact(lambda tx: tx.post(paid_tx("s1", 6000)))
    assert posted == paid_tx("s1", 6000)
    assert await balance(store, Account.phone(PHONE, "RUB")) == rub(0)


async def _assert_balances_match_entries(backend: Backend) -> None:
    raw = await backend.raw()
    try:
        kept = dict(await raw.rows("SELECT account, balance_minor FROM balances"))
        derived = dict(
            await raw.rows("SELECT account, sum(amount_minor) FROM ledger_entries GROUP BY account")
        )
        totals = await raw.rows(
            "SELECT currency, sum(balance_minor) FROM balances GROUP BY currency"
        )
    finally:
        await raw.close()
    assert {k: int(v) for k, v in kept.items()} == {k: int(v) for k, v in derived.items()}
    assert all(int(total) == 0 for _, total in totals)


# --- the property: storage agrees with the in-memory ledger, whatever the sequence ------

_KINDS = ("charge", "paid", "refund")
operations = st.lists(
    st.tuples(
        st.sampled_from(_KINDS),
        st.integers(0, 3),  # reference: repeats make repeats and conflicts
        st.integers(0, 5),  # transaction id: repeats make id conflicts
        st.integers(1, 3),  # phone
        st.sampled_from([100, 250, 1000]),
    ),
    max_size=12,
)


def _movement(prefix: str, kind: str, ref: int, tx_id: int, phone: int, minor: int) -> Transaction:
    names = {
        "transaction_id": f"{prefix}-t{tx_id}",
        "phone": f"{prefix}-p{phone}",
    }
    if kind == "charge":
        return charge_confirmed(
            **names, charge_id=f"{prefix}-r{ref}", operator_id="beeline", amount=rub(minor), at=T0
        )
    build = session_paid if kind == "paid" else session_refund
    return build(**names, session_id=f"{prefix}-r{ref}", zone="1001", amount=rub(minor), at=T0)


async def _outcome(post: Awaitable[Transaction]) -> str:
    try:
        result = await post
    except LedgerError as exc:
        return type(exc).__name__
    return result.id


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(ops=operations)
async def test_storage_agrees_with_the_in_memory_ledger(
    store: Store, backend: Backend, ops: list[tuple[str, int, int, int, int]]
) -> None:
    prefix = uuid.uuid4().hex[:8]  # the store outlives examples: keep each one apart
    book = Ledger()
    for kind, ref, tx_id, phone, minor in ops:
        movement = _movement(prefix, kind, ref, tx_id, phone, minor)
        expected = await _outcome(_post_in_memory(book, movement))
        got = await _outcome(store.transact(partial(_post, movement)))
        assert got == expected
    for account in book.accounts():
        if account.owner.startswith(prefix):
            assert await balance(store, account) == book.balance(account)
    await _assert_balances_match_entries(backend)


async def _post(movement: Transaction, tx: Tx) -> Transaction:
    return await tx.post(movement)


async def _post_in_memory(book: Ledger, movement: Transaction) -> Transaction:
    return book.post(movement)
