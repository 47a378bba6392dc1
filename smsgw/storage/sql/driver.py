"""The driver API's rows: sign-in codes (only their HMACs), signed-in sessions, saved
plates (docs/driver-api.md)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from smsgw.service.driver_records import CodeCounts, DriverCode, DriverSession
from smsgw.storage.rows import Row
from smsgw.storage.sql.base import SqlTx

_CODE_COLUMNS = "id, msisdn, source, code_mac, created_at, expires_at, attempts, used_at"
_SESSION_COLUMNS = "id, msisdn, created_at, expires_at, revoked_at"


class DriverSql(SqlTx):
    # --- sign-in codes ---------------------------------------------------------------

    async def insert_driver_code(self, code: DriverCode, forget_before: datetime) -> None:
        await self._execute(
            "DELETE FROM driver_codes WHERE msisdn = ? AND created_at < ?",
            code.msisdn,
            self._time(forget_before),
        )
        await self._execute(
            f"INSERT INTO driver_codes ({_CODE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            code.id,
            code.msisdn,
            code.source,
            code.code_mac,
            self._time(code.created_at),
            self._time(code.expires_at),
            code.attempts,
            self._dialect.optional_time(code.used_at),
        )

    async def driver_code_counts(self, msisdn: str, source: str, since: datetime) -> CodeCounts:
        phone = await self._one(
            "SELECT count(*) AS sent, min(created_at) AS oldest, max(created_at) AS latest"
            " FROM driver_codes"
            " WHERE msisdn = ? AND created_at >= ?",
            msisdn,
            self._time(since),
        )
        by_source = await self._one(
            "SELECT count(*) AS sent, min(created_at) AS oldest FROM driver_codes"
            " WHERE source = ? AND created_at >= ?",
            source,
            self._time(since),
        )
        read = self._dialect.read_optional_time
        return CodeCounts(
            phone_since=0 if phone is None else int(phone["sent"]),
            source_since=0 if by_source is None else int(by_source["sent"]),
            phone_oldest=None if phone is None else read(phone["oldest"]),
            phone_latest=None if phone is None else read(phone["latest"]),
            source_oldest=None if by_source is None else read(by_source["oldest"]),
        )

    async def latest_driver_code(self, msisdn: str) -> DriverCode | None:
        row = await self._one(
            f"SELECT {_CODE_COLUMNS} FROM driver_codes WHERE msisdn = ?"
            " ORDER BY created_at DESC, id DESC LIMIT 1",
            msisdn,
        )
        return None if row is None else self._code(row)

    async def take_driver_code_attempt(self, code_id: str, max_attempts: int) -> bool:
        taken = await self._execute(
            "UPDATE driver_codes SET attempts = attempts + 1"
            " WHERE id = ? AND attempts < ? AND used_at IS NULL",
            code_id,
            max_attempts,
        )
        return taken == 1

    async def use_driver_code(self, code_id: str, now: datetime) -> bool:
        used = await self._execute(
            "UPDATE driver_codes SET used_at = ? WHERE id = ? AND used_at IS NULL",
            self._time(now),
            code_id,
        )
        return used == 1

    def _code(self, row: Row) -> DriverCode:
        return DriverCode(
            id=row["id"],
            msisdn=row["msisdn"],
            source=row["source"],
            code_mac=row["code_mac"],
            created_at=self._read_time(row["created_at"]),
            expires_at=self._read_time(row["expires_at"]),
            attempts=int(row["attempts"]),
            used_at=self._dialect.read_optional_time(row["used_at"]),
        )

    # --- signed-in sessions ----------------------------------------------------------

    async def insert_driver_session(self, session: DriverSession) -> None:
        await self._execute(
            "DELETE FROM driver_sessions WHERE msisdn = ? AND expires_at <= ?",
            session.msisdn,
            self._time(session.created_at),
        )
        await self._execute(
            f"INSERT INTO driver_sessions ({_SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
            session.id,
            session.msisdn,
            self._time(session.created_at),
            self._time(session.expires_at),
            self._dialect.optional_time(session.revoked_at),
        )

    async def get_driver_session(self, session_id: str) -> DriverSession | None:
        row = await self._one(
            f"SELECT {_SESSION_COLUMNS} FROM driver_sessions WHERE id = ?", session_id
        )
        if row is None:
            return None
        return DriverSession(
            id=row["id"],
            msisdn=row["msisdn"],
            created_at=self._read_time(row["created_at"]),
            expires_at=self._read_time(row["expires_at"]),
            revoked_at=self._dialect.read_optional_time(row["revoked_at"]),
        )

    async def revoke_driver_session(self, session_id: str, now: datetime) -> bool:
        revoked = await self._execute(
            "UPDATE driver_sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            self._time(now),
            session_id,
        )
        return revoked == 1

    # --- saved plates ----------------------------------------------------------------

    async def driver_vehicles(self, msisdn: str) -> Sequence[str]:
        found = await self._all(
            "SELECT plate FROM driver_vehicles WHERE msisdn = ? ORDER BY added_at, plate",
            msisdn,
        )
        return [row["plate"] for row in found]

    async def add_driver_vehicle(self, msisdn: str, plate: str, now: datetime) -> bool:
        added = await self._execute(
            "INSERT INTO driver_vehicles (msisdn, plate, added_at) VALUES (?, ?, ?)"
            " ON CONFLICT (msisdn, plate) DO NOTHING",
            msisdn,
            plate,
            self._time(now),
        )
        return added == 1

    async def remove_driver_vehicle(self, msisdn: str, plate: str) -> bool:
        removed = await self._execute(
            "DELETE FROM driver_vehicles WHERE msisdn = ? AND plate = ?", msisdn, plate
        )
        return removed == 1
