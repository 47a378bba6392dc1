"""Every shared repository mixin in one class: what both backends' transactions are.

sqlite_tx.py and postgres_tx.py subclass `SqlRepositories` and add only what differs
between them (see the package docstring).
"""

from __future__ import annotations

from smsgw.storage.sql.driver import DriverSql
from smsgw.storage.sql.history import HistorySql
from smsgw.storage.sql.inbound import InboundSql
from smsgw.storage.sql.jobs import JobsSql
from smsgw.storage.sql.outbox import OutboxSql
from smsgw.storage.sql.receipts import ReceiptsSql
from smsgw.storage.sql.retention import RetentionSql
from smsgw.storage.sql.sessions import SessionsSql
from smsgw.storage.sql.smpp_intake import SmppIntakeSql


class SqlRepositories(
    InboundSql,
    OutboxSql,
    ReceiptsSql,
    SessionsSql,
    HistorySql,
    JobsSql,
    SmppIntakeSql,
    RetentionSql,
    DriverSql,
):
    """The `Tx` methods written once over a `SqlRunner`; a backend adds the rest."""
