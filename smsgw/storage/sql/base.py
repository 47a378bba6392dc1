"""The base of every shared repository mixin: the unit's runner and its dialect."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from smsgw.storage.errors import TxClosedError
from smsgw.storage.rows import Row
from smsgw.storage.sql.dialect import Dialect, SqlRunner

Connection = TypeVar("Connection")


class UnitConnection(Generic[Connection]):
    """A backend's connection as one unit of work holds it: usable until the unit ends."""

    def __init__(self, connection: Connection) -> None:
        self._connection: Connection | None = connection

    def close(self) -> None:
        self._connection = None

    def live(self) -> Connection:
        if self._connection is None:
            raise TxClosedError("this Tx belongs to a unit of work that has ended")
        return self._connection


class SqlTx:
    """One unit of work over a `SqlRunner`; the mixins add the `Tx` methods."""

    def __init__(self, db: SqlRunner) -> None:
        self._db = db

    @property
    def _dialect(self) -> Dialect:
        return self._db.dialect

    def close(self) -> None:
        self._db.close()

    def _time(self, moment: datetime) -> object:
        return self._dialect.time(moment)

    def _read_time(self, value: Any) -> datetime:
        return self._dialect.read_time(value)

    async def _execute(self, sql: str, *params: object) -> int:
        return await self._db.execute(sql, params)

    async def _one(self, sql: str, *params: object) -> Row | None:
        return await self._db.one(sql, params)

    async def _all(self, sql: str, *params: object) -> list[Row]:
        return await self._db.all(sql, params)

    async def schema_version(self) -> int:
        """The highest applied migration (the store's readiness probe reads it)."""
        row = await self._one("SELECT max(version) AS version FROM schema_version")
        return 0 if row is None or row["version"] is None else int(row["version"])
