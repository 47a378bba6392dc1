"""The ledger rules both backends apply around their SQL, mirroring domain.ledger.Ledger.

Kept pure so the SQLite and PostgreSQL units of work cannot drift apart on what counts
as a repeat, a conflict or an overdraft.
"""

from __future__ import annotations

from collections.abc import Mapping

from smsgw.domain.ledger import (
    Account,
    AccountKind,
    ConflictingPostingError,
    InsufficientBalanceError,
    Transaction,
)
from smsgw.domain.money import Money


def repeat_of(existing: Transaction, transaction: Transaction) -> Transaction:
    """The stored transaction when `transaction` repeats it; raise when it conflicts."""
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
