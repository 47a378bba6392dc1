"""Parking sessions (one ACTIVE per plate) and charges (one pending per phone).

A write the partial unique indexes refuse is reported as a conflict
(smsgw/service/store_port.py); the service turns it into the subscriber's refusal.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from smsgw.domain.charges import RESERVING_STATES, Charge, ChargeState
from smsgw.domain.money import Money
from smsgw.domain.parking import ParkingSession, SessionState
from smsgw.service.ports import ChargeUsage, JsonObject, StoredCharge
from smsgw.service.store_port import ActivePlateConflictError, PendingChargeConflictError
from smsgw.storage import rows
from smsgw.storage.errors import UnknownRowError
from smsgw.storage.sql.base import SqlTx
from smsgw.storage.sql.dialect import marks

# The pending states written out as the one-pending-per-phone index's WHERE clause has
# them (schema_source.py): a planner uses a partial index only for a query whose WHERE
# contains that clause as written. With the states as bound parameters SQLite searched
# the (phone, operator, requested_at) index instead, reading every charge the phone
# ever made; so did PostgreSQL's generic plan.
PENDING_CHARGE = "state IN ('requested', 'awaiting_confirmation')"
_RESERVING = tuple(sorted(RESERVING_STATES))
UPDATE_SESSION = (
    "UPDATE sessions SET phone = ?, zone = ?, plate = ?, start_at = ?, end_at = ?,"
    " prepaid_minor = ?, currency = ?, state = ?, closed_at = ? WHERE id = ?"
)


class SessionsSql(SqlTx):
    def _session_columns(self, session: ParkingSession) -> tuple[object, ...]:
        """phone … closed_at, in the column order of INSERT and UPDATE_SESSION."""
        return (
            session.phone,
            session.zone,
            session.plate,
            self._time(session.start),
            self._time(session.end),
            session.prepaid.minor,
            session.prepaid.currency,
            str(session.state),
            self._dialect.optional_time(session.closed_at),
        )

    async def insert_session(self, session: ParkingSession) -> None:
        inserted = await self._execute(
            "INSERT INTO sessions (id, phone, zone, plate, start_at, end_at, prepaid_minor,"
            " currency, state, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (plate) WHERE state = 'active' DO NOTHING",
            session.id,
            *self._session_columns(session),
        )
        if inserted == 0:
            raise ActivePlateConflictError(session.plate)

    async def update_session(self, session: ParkingSession) -> None:
        params = (*self._session_columns(session), session.id)
        if session.state is SessionState.ACTIVE:
            updated = await self._update_activating(session.plate, params)
        else:
            updated = await self._execute(UPDATE_SESSION, *params)
        if updated == 0:
            raise UnknownRowError(f"session {session.id}")

    async def _update_activating(self, plate: str, params: Sequence[object]) -> int:
        """Per backend: run UPDATE_SESSION for an ACTIVE session, raising
        ActivePlateConflictError when the one-active-per-plate index refuses it."""
        raise NotImplementedError

    async def get_session(self, session_id: str) -> ParkingSession | None:
        row = await self._one("SELECT * FROM sessions WHERE id = ?", session_id)
        return None if row is None else rows.session_from_row(row, self._read_time)

    async def running_sessions(self, msisdn: str) -> Sequence[ParkingSession]:
        found = await self._all(
            "SELECT * FROM sessions WHERE phone = ? AND state = 'active' ORDER BY end_at, id",
            msisdn,
        )
        return [rows.session_from_row(row, self._read_time) for row in found]

    async def active_session_for_plate(self, plate: str) -> ParkingSession | None:
        row = await self._one("SELECT * FROM sessions WHERE plate = ? AND state = 'active'", plate)
        return None if row is None else rows.session_from_row(row, self._read_time)

    # --- charges ---------------------------------------------------------------------

    async def insert_charge(self, charge: Charge, details: JsonObject) -> None:
        inserted = await self._execute(
            "INSERT INTO charges (id, phone, operator_id, amount_minor, currency, purpose,"
            " requested_at, deadline, state, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            f" ON CONFLICT (phone) WHERE {PENDING_CHARGE} DO NOTHING",
            charge.id,
            charge.phone,
            charge.operator_id,
            charge.amount.minor,
            charge.amount.currency,
            charge.purpose,
            self._time(charge.requested_at),
            self._time(charge.deadline),
            str(charge.state),
            rows.details_json(details),
        )
        if inserted == 0:
            raise PendingChargeConflictError(charge.phone)

    async def get_charge(self, charge_id: str) -> StoredCharge | None:
        row = await self._one("SELECT * FROM charges WHERE id = ?", charge_id)
        return None if row is None else rows.charge_from_row(row, self._read_time)

    async def pending_charge(self, msisdn: str) -> StoredCharge | None:
        row = await self._one(f"SELECT * FROM charges WHERE phone = ? AND {PENDING_CHARGE}", msisdn)
        return None if row is None else rows.charge_from_row(row, self._read_time)

    async def update_charge(
        self,
        charge_id: str,
        expected: ChargeState,
        new: ChargeState,
        operator_reference: str | None = None,
    ) -> bool:
        updated = await self._execute(
            "UPDATE charges SET state = ?,"
            " operator_reference = coalesce(?, operator_reference)"
            " WHERE id = ? AND state = ?",
            str(new),
            operator_reference,
            charge_id,
            str(expected),
        )
        return updated == 1

    async def charge_usage(
        self,
        msisdn: str,
        operator_id: str,
        currency: str,
        day_start: datetime,
        month_start: datetime,
    ) -> ChargeUsage:
        day, month = self._time(day_start), self._time(month_start)
        since = self._time(min(day_start, month_start))
        row = await self._one(
            "SELECT"
            " coalesce(sum(CASE WHEN requested_at >= ? THEN amount_minor END), 0) AS day_amount,"
            " count(CASE WHEN requested_at >= ? THEN 1 END) AS day_count,"
            " coalesce(sum(CASE WHEN requested_at >= ? THEN amount_minor END), 0)"
            " AS month_amount,"
            " count(CASE WHEN requested_at >= ? THEN 1 END) AS month_count"
            " FROM charges WHERE phone = ? AND operator_id = ? AND currency = ?"
            f" AND requested_at >= ? AND state IN ({marks(len(_RESERVING))})",
            day,
            day,
            month,
            month,
            msisdn,
            operator_id,
            currency,
            since,
            *_RESERVING,
        )
        if row is None:
            raise UnknownRowError("charge usage")
        # PostgreSQL sums a bigint into a numeric: back to int
        return ChargeUsage(
            day_amount=Money(int(row["day_amount"]), currency),
            day_count=int(row["day_count"]),
            month_amount=Money(int(row["month_amount"]), currency),
            month_count=int(row["month_count"]),
        )
