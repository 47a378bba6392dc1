"""The repository methods of the `Tx` port, written once over a small SQL dialect.

Each module holds one responsibility's methods as a mixin over `SqlTx` (base.py); the
backends' transactions (sqlite_tx.py, postgres_tx.py) combine them and add only what
truly differs: how a ledger posting locks and updates balances, how an activation that
hits the one-active-per-plate index is caught, and PostgreSQL's advisory locks.
"""
