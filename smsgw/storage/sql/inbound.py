"""Inbound MOs (stored before acknowledged, claimed under a lease), phones, and the
callback nonces that make an operator's callback count once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from smsgw.language import Language
from smsgw.service.messages import InboundSms
from smsgw.service.ports import PhoneProfile, StoredInbound
from smsgw.storage import rows
from smsgw.storage.errors import UnknownRowError
from smsgw.storage.sql.base import SqlTx


class InboundSql(SqlTx):
    async def insert_inbound(self, sms: InboundSms) -> str | None:
        inbound_id = rows.time_ordered_id(sms.received_at)
        inserted = await self._execute(
            "INSERT INTO inbound (id, link_id, dedup_key, operator_id, sender, receiver,"
            " text, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (link_id, dedup_key) DO NOTHING",
            inbound_id,
            sms.link_id,
            sms.dedup_key,
            sms.operator_id,
            sms.sender,
            sms.receiver,
            sms.text,
            self._time(sms.received_at),
        )
        return inbound_id if inserted == 1 else None

    async def claim_inbound(
        self, now: datetime, node: str, lease_seconds: float, limit: int
    ) -> Sequence[StoredInbound]:
        found = await self._all(
            "UPDATE inbound SET lease_owner = ?, lease_until = ? WHERE id IN ("
            " SELECT id FROM inbound WHERE processed_at IS NULL"
            " AND (lease_until IS NULL OR lease_until <= ?)"
            f" ORDER BY received_at, id LIMIT ?{self._dialect.skip_locked}) RETURNING *",
            node,
            self._time(rows.lease_end(now, lease_seconds)),
            self._time(now),
            limit,
        )
        found.sort(key=lambda row: (row["received_at"], row["id"]))  # RETURNING has no order
        return [rows.inbound_from_row(row, self._read_time) for row in found]

    async def mark_inbound_processed(self, inbound_id: str, outcome: str, now: datetime) -> bool:
        updated = await self._execute(
            "UPDATE inbound SET processed_at = ?, outcome = ?, lease_owner = NULL,"
            " lease_until = NULL WHERE id = ? AND processed_at IS NULL",
            self._time(now),
            outcome,
            inbound_id,
        )
        return updated == 1

    # --- phones ----------------------------------------------------------------------

    async def lock_phone(self, msisdn: str, operator_id: str | None) -> PhoneProfile:
        # SQLite: the group's BEGIN IMMEDIATE already excludes every other writer.
        # PostgreSQL: one round trip instead of INSERT … DO NOTHING + SELECT … FOR UPDATE:
        # an upsert that updates takes the same row lock (FOR NO KEY UPDATE, which two
        # lock_phone calls conflict on), creates the phone, and returns it.
        row = await self._one(
            "INSERT INTO phones (msisdn, operator_id) VALUES (?, ?) ON CONFLICT (msisdn)"
            " DO UPDATE SET operator_id = coalesce(excluded.operator_id, phones.operator_id)"
            " RETURNING msisdn, language, operator_id",
            msisdn,
            operator_id,
        )
        if row is None:
            raise UnknownRowError(msisdn)
        return rows.phone_from_row(row)

    async def get_phone(self, msisdn: str) -> PhoneProfile | None:
        row = await self._one(
            "SELECT msisdn, language, operator_id FROM phones WHERE msisdn = ?", msisdn
        )
        return None if row is None else rows.phone_from_row(row)

    async def set_language(self, msisdn: str, language: Language) -> None:
        await self._execute(
            "INSERT INTO phones (msisdn, language) VALUES (?, ?)"
            " ON CONFLICT (msisdn) DO UPDATE SET language = excluded.language",
            msisdn,
            str(language),
        )

    # --- callbacks -------------------------------------------------------------------

    async def remember_nonce(self, operator_id: str, nonce: str, now: datetime) -> bool:
        inserted = await self._execute(
            "INSERT INTO callback_nonces (operator_id, nonce, seen_at) VALUES (?, ?, ?)"
            " ON CONFLICT (operator_id, nonce) DO NOTHING",
            operator_id,
            nonce,
            self._time(now),
        )
        return inserted == 1
