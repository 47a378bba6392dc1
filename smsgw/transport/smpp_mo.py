"""What an SMPP link hands the gateway: deliver_sm → `InboundSms`, receipts → the outbox.

The SMSC gets ESME_ROK only once the gateway has stored the message; when storing fails
the answer is ESME_RX_T_APPN, a temporary error, so the SMSC retries. Every part of a
concatenated MO is stored before it is answered (an SMSC sends the next part only after
the previous answer); the message is assembled from the stored parts when the last one
comes, so a restart in between loses nothing. Parts that never complete are dropped
after `parts_timeout` seconds and the sender is told the text arrived incomplete.

A sender that is not a phone number is answered ESME_RINVSRCADR, a receiver that is not
one of the deployment's short numbers ESME_RINVDSTADR: nothing is stored.

Redeliveries are handled once, and only those (the rule is in smsgw/smpp/redelivery.py):
each MO is remembered in the database with a digest of its content and the bind it was
answered on. Binds have ids unique across restarts, and each bind's last sign of life
is recorded every second, so after a reconnect or a restart the gateway knows whether
an answer may have been lost with the connection. The same text again on the same bind,
or long after its answer, is the driver texting again and is answered again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Final, Protocol

import structlog

from smsgw.clock import Clock, SystemClock
from smsgw.observability import Metrics, mask_msisdn
from smsgw.service.messages import InboundSms
from smsgw.service.ports import SmppPart, SmppPartKey, StoredInbound
from smsgw.service.store_port import Store, Tx
from smsgw.smpp.addresses import address_refusal
from smsgw.smpp.constants import CommandStatus, Tag
from smsgw.smpp.events import DeliveryReceiptReceived
from smsgw.smpp.pdu import DataSm, DeliverSm
from smsgw.smpp.reassembly import (
    DEFAULT_TIMEOUT,
    ConcatInfo,
    concat_from_sar,
    expiry_cutoff,
    read_user_data,
)
from smsgw.smpp.redelivery import Forgetting, may_be_redelivered
from smsgw.smpp.text import decode_text
from smsgw.smpp.tlv import get_bytes, get_int
from smsgw.transport.smpp_receipts import AcceptReceipt, answer_receipt

log = structlog.get_logger(__name__)

AdmitUnit = Callable[[Tx], Awaitable[StoredInbound | None]]

# How often the intake records that its bind is alive and looks for stale parts.
TICK_SECONDS: Final = 1.0
EXPIRED_PER_TICK: Final = 100


class MoAdmission(Protocol):
    """What the intake needs from the service: run a unit that stores an MO."""

    async def admit_mo(self, unit: AdmitUnit) -> StoredInbound | None:
        """Run `unit` in one transaction; process the MO it stored, if any."""

    async def admit_incomplete_mo(self, unit: AdmitUnit) -> StoredInbound | None:
        """Run `unit` in one transaction and, in the same one, answer the MO it stored
        with the incomplete-text reply."""


class BindView(Protocol):
    """What the intake reads of its link's binds."""

    @property
    def receiver_binds(self) -> int:
        """How many receiving binds the link has made: a new one is what makes an SMSC
        redeliver what it got no answer for."""

    @property
    def receiving(self) -> bool:
        """True while the bind that receives deliver_sm is up."""


class _AlwaysBound:
    """The view of an intake fed directly, with no link of its own (tests, tools)."""

    receiver_binds = 0
    receiving = True


@dataclass(slots=True)
class _Outcome:
    """Set by an admission unit (which may run more than once: reset at its start)."""

    redelivery: bool = False


class SmppInbound:
    """The `on_deliver` / `on_receipt` callbacks of one operator's `EsmeLink`, and the
    timer that keeps its binds' record and expires incomplete long MOs (`run`)."""

    def __init__(
        self,
        *,
        link_id: str,
        operator_id: str,
        store: Store,
        admission: MoAdmission,
        accept_receipt: AcceptReceipt,
        short_numbers: Collection[str],
        clock: Clock | None = None,
        parts_timeout: float = DEFAULT_TIMEOUT,
        metrics: Metrics | None = None,
        bind: BindView | None = None,
    ) -> None:
        self.link_id = link_id
        self.operator_id = operator_id
        self.store = store  # for the timer's own records
        self.admission = admission
        self.accept_receipt = accept_receipt
        self.short_numbers = frozenset(short_numbers)
        self.clock: Clock = clock or SystemClock()
        self.parts_timeout = parts_timeout
        self.metrics = metrics
        self.bind: BindView = bind if bind is not None else _AlwaysBound()
        # set by `drain`: new MO are refused for now, so the SMSC keeps them
        self._draining = False
        # this intake's life: bind ids must differ from those of any earlier process
        self._life = secrets.token_hex(8)
        self._recorded_bind: str | None = None  # the bind the timer last recorded up
        self._known_bind: str | None = None  # the bind an MO last recorded
        self._forgetting = Forgetting()
        self._timer: asyncio.Task[None] | None = None

    @property
    def bind_id(self) -> str:
        """The id of the link's current bind, unique across restarts."""
        return f"{self.link_id}:{self._life}:{self.bind.receiver_binds}"

    @property
    def draining(self) -> bool:
        return self._draining

    def drain(self) -> None:
        """Refuse new MO and receipts from now on with a temporary error (ESME_RX_T_APPN):
        the node is stopping, and the SMSC keeps them for the next bind."""
        self._draining = True

    # --- deliver_sm ----------------------------------------------------------------------

    async def on_deliver(self, pdu: DeliverSm | DataSm) -> int:
        if self.draining:
            return CommandStatus.ESME_RX_T_APPN
        refusal = address_refusal(
            pdu.source_addr, pdu.source_addr_ton, pdu.destination_addr, self.short_numbers
        )
        if refusal is not None:
            self._refused(pdu, refusal)
            return refusal
        outcome = _Outcome()
        bind_id = self.bind_id
        # the bind's row must exist before an MO refers to it; later MOs leave it to the
        # timer, so they do not all queue for that one row's lock
        first_on_bind = bind_id != self._known_bind
        unit = partial(self._admit, pdu, self.clock.now(), bind_id, first_on_bind, outcome)
        try:
            await self.admission.admit_mo(unit)
        except Exception:
            log.exception("mo.not_stored", link=self.link_id, sender=mask_msisdn(pdu.source_addr))
            return CommandStatus.ESME_RX_T_APPN
        self._known_bind = bind_id
        if outcome.redelivery:
            log.info(
                "mo.redelivery_dropped", link=self.link_id, sender=mask_msisdn(pdu.source_addr)
            )
            self._count("redelivery_dropped")
        return CommandStatus.ESME_ROK

    async def _admit(
        self,
        pdu: DeliverSm | DataSm,
        now: datetime,
        bind_id: str,
        first_on_bind: bool,
        outcome: _Outcome,
        tx: Tx,
    ) -> StoredInbound | None:
        """Store the MO (or its part) and remember it, unless it is a redelivery."""
        outcome.redelivery = False
        if first_on_bind:
            await tx.touch_smpp_bind(self.link_id, bind_id, now)
        data = read_user_data(_user_data(pdu), udhi=bool(pdu.esm_class & 0x40), sar=_sar(pdu))
        digest = content_digest(pdu)
        if await self._claim_redelivery(tx, digest, bind_id, now):
            outcome.redelivery = True
            return None
        mo_id = secrets.token_hex(16)
        await tx.record_smpp_mo(mo_id, self.link_id, digest, bind_id, now, CommandStatus.ESME_ROK)
        if data.concat is None or not data.concat.is_valid:
            # a part with impossible concatenation info is a message by itself
            text = decode_text(data.body, pdu.data_coding)
            return await self._store(tx, pdu.source_addr, pdu.destination_addr, text, now, mo_id)
        key = SmppPartKey(
            self.link_id,
            pdu.source_addr,
            pdu.destination_addr,
            data.concat.reference,
            data.concat.total,
        )
        part = SmppPart(key, data.concat.seqnum, pdu.data_coding, data.body, now)
        if len(await tx.add_smpp_part(part)) < key.total:
            return None  # stored: answered now, joined when the last part comes
        text = _joined_text(await tx.take_smpp_parts(key))
        return await self._store(tx, key.sender, key.receiver, text, now, mo_id)

    async def _claim_redelivery(self, tx: Tx, digest: str, bind_id: str, now: datetime) -> bool:
        for seen in await tx.seen_smpp_mo(self.link_id, digest, bind_id):
            lost = may_be_redelivered(
                answered_at=_seconds(seen.answered_at),
                answer_status=seen.answer_status,
                bind_down_at=_seconds(seen.bind_down_at),
            )
            if lost and await tx.claim_smpp_redelivery(
                seen.id, seen.bind_id, bind_id, now, CommandStatus.ESME_ROK
            ):
                return True
        return False

    async def _store(
        self, tx: Tx, sender: str, receiver: str, text: str, now: datetime, dedup_key: str
    ) -> StoredInbound | None:
        sms = InboundSms(
            link_id=self.link_id,
            operator_id=self.operator_id,
            sender=sender,
            receiver=receiver,
            text=text,
            received_at=now,
            dedup_key=dedup_key,
        )
        inbound_id = await tx.insert_inbound(sms)
        return None if inbound_id is None else StoredInbound(inbound_id, sms)

    def _refused(self, pdu: DeliverSm | DataSm, status: int) -> None:
        reason = "bad_sender" if status == CommandStatus.ESME_RINVSRCADR else "bad_receiver"
        log.warning(
            "mo.refused",
            link=self.link_id,
            reason=reason,
            sender=mask_msisdn(pdu.source_addr),
            receiver=mask_msisdn(pdu.destination_addr),
        )
        self._count(reason)

    def _count(self, reason: str) -> None:
        if self.metrics is not None:
            self.metrics.smpp_mo_refused.labels(link=self.link_id, reason=reason).inc()

    async def on_receipt(self, event: DeliveryReceiptReceived) -> int:
        if self.draining:
            return CommandStatus.ESME_RX_T_APPN
        return await answer_receipt(
            event, link_id=self.link_id, operator_id=self.operator_id, accept=self.accept_receipt
        )

    # --- the timer: binds' record, incomplete long MOs, forgetting -----------------------

    def start(self) -> None:
        """Start the timer (`tick` every second) until `close`."""
        if self._timer is None:
            self._timer = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        """Stop the timer and record that the bind went down now (a clean stop)."""
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await timer
        bind_id, self._recorded_bind = self._recorded_bind, None
        if bind_id is not None:
            with contextlib.suppress(Exception):
                await self._touch(bind_id, self.clock.now(), closed=True)

    async def _run(self) -> None:
        while True:
            try:
                await self.tick(self.clock.now())
            except Exception:
                log.exception("mo.intake_tick_failed", link=self.link_id)
            await asyncio.sleep(TICK_SECONDS)

    async def tick(self, now: datetime) -> int:
        """Record the bind as alive (or gone), expire stale parts, forget old MOs.
        Returns how many incomplete messages were expired."""
        await self._record_bind(now)
        expired = await self.expire_parts(now)
        cutoff = self._forgetting.handle_timer(now.timestamp())
        if cutoff is not None:
            before = datetime.fromtimestamp(cutoff, UTC)
            await self.store.transact(lambda tx: tx.prune_smpp_mo(self.link_id, before))
        return expired

    async def _record_bind(self, now: datetime) -> None:
        current = self.bind_id if self.bind.receiving else None
        previous = self._recorded_bind
        if previous is not None and previous != current:
            await self._touch(previous, now, closed=True)
        if current is not None:
            await self._touch(current, now)
        self._recorded_bind = current

    async def _touch(self, bind_id: str, now: datetime, *, closed: bool = False) -> None:
        async def touch(tx: Tx) -> None:
            await tx.touch_smpp_bind(self.link_id, bind_id, now, closed=closed)

        await self.store.transact(touch)

    async def expire_parts(self, now: datetime) -> int:
        """Drop long MOs still incomplete `parts_timeout` seconds after their first part
        came; each is stored as it arrived and its sender told. Returns how many."""
        before = datetime.fromtimestamp(expiry_cutoff(now.timestamp(), self.parts_timeout), UTC)
        stale = await self.store.transact(
            lambda tx: tx.stale_smpp_parts(self.link_id, before, EXPIRED_PER_TICK)
        )
        expired = 0
        for key in stale:
            stored = await self.admission.admit_incomplete_mo(partial(self._take_stale, key, now))
            if stored is not None:
                expired += 1
                log.warning("mo.parts_expired", link=self.link_id, sender=mask_msisdn(key.sender))
                self._count("incomplete")
        return expired

    async def _take_stale(self, key: SmppPartKey, now: datetime, tx: Tx) -> StoredInbound | None:
        parts = await tx.take_smpp_parts(key)
        if not parts:
            return None  # completed or expired by another unit meanwhile
        text = _joined_text(parts)
        return await self._store(tx, key.sender, key.receiver, text, now, secrets.token_hex(16))


def content_digest(pdu: DeliverSm | DataSm) -> str:
    """A digest of what the SMSC sent: addresses, coding, concatenation and octets
    (a part's UDH, with its reference and number, is in its octets)."""
    fields = (
        pdu.source_addr,
        pdu.destination_addr,
        str(pdu.data_coding),
        str(pdu.esm_class & 0x40),
        str(get_int(pdu.tlvs, Tag.SAR_MSG_REF_NUM)),
        str(get_int(pdu.tlvs, Tag.SAR_TOTAL_SEGMENTS)),
        str(get_int(pdu.tlvs, Tag.SAR_SEGMENT_SEQNUM)),
        _user_data(pdu).hex(),
    )
    return hashlib.sha256("\x1f".join(fields).encode("utf-8", "surrogatepass")).hexdigest()


def _joined_text(parts: Collection[SmppPart]) -> str:
    """The parts' octets joined in seqnum order (before decoding: a character may be
    split across parts), decoded with the first part's data_coding."""
    ordered = sorted(parts, key=lambda part: part.seqnum)
    if not ordered:
        return ""
    return decode_text(b"".join(part.payload for part in ordered), ordered[0].data_coding)


def _seconds(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def _user_data(pdu: DeliverSm | DataSm) -> bytes:
    payload = get_bytes(pdu.tlvs, Tag.MESSAGE_PAYLOAD)
    return payload if payload is not None else _short_message(pdu)


def _short_message(pdu: DeliverSm | DataSm) -> bytes:
    return pdu.short_message if isinstance(pdu, DeliverSm) else b""


def _sar(pdu: DeliverSm | DataSm) -> ConcatInfo | None:
    return concat_from_sar(
        get_int(pdu.tlvs, Tag.SAR_MSG_REF_NUM),
        get_int(pdu.tlvs, Tag.SAR_TOTAL_SEGMENTS),
        get_int(pdu.tlvs, Tag.SAR_SEGMENT_SEQNUM),
    )
