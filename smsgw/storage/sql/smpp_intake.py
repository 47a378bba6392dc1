"""The SMPP MO intake: which bind each MO was answered on (to tell an SMSC's redelivery
from a driver texting the same again, across restarts), and the parts of long MOs,
stored before each part is acknowledged."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from smsgw.service.ports import SmppMoSeen, SmppPart, SmppPartKey
from smsgw.storage.rows import Row
from smsgw.storage.sql.base import SqlTx

_PART_KEY = "link_id = ? AND sender = ? AND receiver = ? AND reference = ? AND total = ?"


def _key_values(key: SmppPartKey) -> tuple[object, ...]:
    return (key.link_id, key.sender, key.receiver, key.reference, key.total)


class SmppIntakeSql(SqlTx):
    async def touch_smpp_bind(
        self, link_id: str, bind_id: str, now: datetime, *, closed: bool = False
    ) -> None:
        at = self._time(now)
        greatest = self._dialect.greatest
        await self._execute(
            "INSERT INTO smpp_binds (id, link_id, opened_at, alive_at, closed_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
            f" alive_at = {greatest}(smpp_binds.alive_at, excluded.alive_at),"
            " closed_at = coalesce(smpp_binds.closed_at, excluded.closed_at)",
            bind_id,
            link_id,
            at,
            at,
            at if closed else None,
        )

    async def seen_smpp_mo(self, link_id: str, digest: str, bind_id: str) -> Sequence[SmppMoSeen]:
        found = await self._all(
            "SELECT m.id, m.bind_id, m.answered_at, m.answer_status,"
            " coalesce(b.closed_at, b.alive_at) AS bind_down_at"
            " FROM smpp_mo m LEFT JOIN smpp_binds b ON b.id = m.bind_id"
            " WHERE m.link_id = ? AND m.digest = ? AND m.bind_id <> ?"
            " ORDER BY m.stored_at, m.id",
            link_id,
            digest,
            bind_id,
        )
        read = self._dialect.read_optional_time
        return [
            SmppMoSeen(
                id=row["id"],
                bind_id=row["bind_id"],
                answered_at=read(row["answered_at"]),
                answer_status=row["answer_status"],
                bind_down_at=read(row["bind_down_at"]),
            )
            for row in found
        ]

    async def record_smpp_mo(
        self,
        mo_id: str,
        link_id: str,
        digest: str,
        bind_id: str,
        now: datetime,
        answer_status: int,
    ) -> None:
        at = self._time(now)
        await self._execute(
            "INSERT INTO smpp_mo (id, link_id, digest, bind_id, stored_at, answered_at,"
            " answer_status) VALUES (?, ?, ?, ?, ?, ?, ?)",
            mo_id,
            link_id,
            digest,
            bind_id,
            at,
            at,
            answer_status,
        )

    async def claim_smpp_redelivery(
        self, mo_id: str, from_bind: str, to_bind: str, now: datetime, answer_status: int
    ) -> bool:
        updated = await self._execute(
            "UPDATE smpp_mo SET bind_id = ?, answered_at = ?, answer_status = ?"
            " WHERE id = ? AND bind_id = ?",
            to_bind,
            self._time(now),
            answer_status,
            mo_id,
            from_bind,
        )
        return updated == 1

    async def add_smpp_part(self, part: SmppPart) -> Sequence[SmppPart]:
        key = part.key
        await self._one_message_at_a_time(key)
        await self._execute(
            "INSERT INTO smpp_mo_parts (link_id, sender, receiver, reference, total, seqnum,"
            " data_coding, payload, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            *_key_values(key),
            part.seqnum,
            part.data_coding,
            part.payload,
            self._time(part.received_at),
        )
        found = await self._all(
            "SELECT seqnum, data_coding, payload, received_at FROM smpp_mo_parts"
            f" WHERE {_PART_KEY} ORDER BY seqnum",
            *_key_values(key),
        )
        return [self._smpp_part(key, row) for row in found]

    async def _one_message_at_a_time(self, key: SmppPartKey) -> None:
        """Per backend: parts of one message may be stored by concurrent units (several
        deliver_sm in flight, or two nodes); they must store one at a time, so the last
        one to commit sees every part and completes the message."""
        raise NotImplementedError

    async def take_smpp_parts(self, key: SmppPartKey) -> Sequence[SmppPart]:
        found = await self._all(
            f"DELETE FROM smpp_mo_parts WHERE {_PART_KEY}"
            " RETURNING seqnum, data_coding, payload, received_at",
            *_key_values(key),
        )
        parts = [self._smpp_part(key, row) for row in found]
        parts.sort(key=lambda part: part.seqnum)  # RETURNING has no order
        return parts

    def _smpp_part(self, key: SmppPartKey, row: Row) -> SmppPart:
        return SmppPart(
            key,
            row["seqnum"],
            row["data_coding"],
            bytes(row["payload"]),
            self._read_time(row["received_at"]),
        )

    async def stale_smpp_parts(
        self, link_id: str, before: datetime, limit: int
    ) -> Sequence[SmppPartKey]:
        found = await self._all(
            "SELECT sender, receiver, reference, total FROM smpp_mo_parts WHERE link_id = ?"
            " GROUP BY sender, receiver, reference, total HAVING min(received_at) < ?"
            " ORDER BY min(received_at) LIMIT ?",
            link_id,
            self._time(before),
            limit,
        )
        return [
            SmppPartKey(link_id, row["sender"], row["receiver"], row["reference"], row["total"])
            for row in found
        ]

    async def prune_smpp_mo(self, link_id: str, before: datetime) -> int:
        at = self._time(before)
        pruned = await self._execute(
            "DELETE FROM smpp_mo WHERE link_id = ? AND stored_at < ?", link_id, at
        )
        await self._execute(
            "DELETE FROM smpp_binds WHERE link_id = ? AND coalesce(closed_at, alive_at) < ?",
            link_id,
            at,
        )
        return pruned
