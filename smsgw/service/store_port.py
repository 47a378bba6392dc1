"""The store's port: `Store` runs units of work, `Tx` is what a unit can do.

Two backends implement them (smsgw/storage: SQLite, PostgreSQL) and one contract-test
suite runs against both. The service only ever sees these types.

A unit of work is a coroutine function `work(tx) -> T` handed to `Store.transact`:
everything it does through `tx` commits together or not at all. The work must touch
nothing but `tx` (no HTTP, no sleeping): on SQLite it runs inside the single writer's
group commit, so an outside await would hold every other writer up. `transact` may run
`work` more than once (a serialisation failure on PostgreSQL is retried), so the work
must be a pure function of what it reads through `tx`.

A write refused because of what is already stored is reported as a conflict (below):
the store says only what it found, and the service, which knows who is asking and in
which words, turns it into the subscriber's refusal (a `DomainError` with its facts).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from smsgw.domain.charges import Charge, ChargeState
from smsgw.domain.ledger import Account, Transaction
from smsgw.domain.money import Money
from smsgw.domain.parking import ParkingSession
from smsgw.language import Language
from smsgw.service.driver_records import CodeCounts, DriverCode, DriverSession
from smsgw.service.messages import InboundSms, OutboundSms
from smsgw.service.ports import (
    ChargeUsage,
    HeldReceipt,
    Job,
    JsonObject,
    OutboundPart,
    OutboxState,
    PartReceipt,
    PhoneHistory,
    PhoneProfile,
    SmppMoSeen,
    SmppPart,
    SmppPartKey,
    StoredCharge,
    StoredInbound,
    StoredOutbound,
    StoreFigures,
)

T = TypeVar("T")


class DriverTx(Protocol):
    """What the driver API's units do through `Tx` (smsgw/service/driver_auth.py,
    driver_account.py); every backend's `Tx` has these too."""

    # --- sign-in codes -------------------------------------------------------------
    async def lock_driver_codes(self, msisdn: str) -> None:
        """Hold the phone's code requests to this unit until it ends (PostgreSQL: another
        node's request for the same phone waits, so the limits cannot be read twice
        before either writes; SQLite's single writer needs nothing). Creates no row."""

    async def insert_driver_code(self, code: DriverCode, forget_before: datetime) -> None:
        """Store a code sent now, and forget the phone's codes sent before `forget_before`
        (past every limit's window)."""

    async def driver_code_counts(self, msisdn: str, source: str, since: datetime) -> CodeCounts:
        """Codes sent since `since` to this phone and from this source address."""

    async def latest_driver_code(self, msisdn: str) -> DriverCode | None:
        """The phone's most recent code (only that one can sign in)."""

    async def take_driver_code_attempt(self, code_id: str, max_attempts: int) -> bool:
        """Count a try at the code, before it is compared; False (and nothing counted)
        when it has had `max_attempts` already or was used. Counting first, in one
        statement, keeps concurrent guesses on several nodes within the limit."""

    async def use_driver_code(self, code_id: str, now: datetime) -> bool:
        """Mark the code used; False when it was used already (a replay, a race)."""

    # --- signed-in sessions ----------------------------------------------------------
    async def insert_driver_session(self, session: DriverSession) -> None:
        """Store a new sign-in, and forget the phone's sign-ins that have expired."""

    async def get_driver_session(self, session_id: str) -> DriverSession | None: ...

    async def revoke_driver_session(self, session_id: str, now: datetime) -> bool:
        """Sign out; False when it was not live."""

    # --- saved plates ----------------------------------------------------------------
    async def driver_vehicles(self, msisdn: str) -> Sequence[str]:
        """The phone's saved plates, in the order they were saved."""

    async def add_driver_vehicle(self, msisdn: str, plate: str, now: datetime) -> bool:
        """Save a plate; False when it was saved already."""

    async def remove_driver_vehicle(self, msisdn: str, plate: str) -> bool:
        """Forget a plate; False when it was not saved."""


class Tx(DriverTx, Protocol):
    """What one unit of work may read and write. Every datetime is timezone-aware (UTC)."""

    # --- inbound MO: stored before the SMSC is acknowledged ---------------------------
    async def insert_inbound(self, sms: InboundSms) -> str | None:
        """Store an MO; its id, or None when `(link_id, dedup_key)` was stored before."""

    async def claim_inbound(
        self, now: datetime, node: str, lease_seconds: float, limit: int
    ) -> Sequence[StoredInbound]:
        """Unprocessed MOs not leased by a live node; leased to `node` until now+lease."""

    async def mark_inbound_processed(self, inbound_id: str, outcome: str, now: datetime) -> bool:
        """Record the outcome once; False when it was already processed (by anyone)."""

    # --- phones ------------------------------------------------------------------------
    async def lock_phone(self, msisdn: str, operator_id: str | None) -> PhoneProfile:
        """Create the phone if new and lock it for the rest of the unit of work.

        Every unit of work that changes a phone's money or sessions starts here, which
        serialises them per phone across gateway nodes (a row lock on PostgreSQL).
        `operator_id` (when given) is remembered as the phone's current operator."""

    async def get_phone(self, msisdn: str) -> PhoneProfile | None: ...

    async def set_language(self, msisdn: str, language: Language) -> None: ...

    # --- ledger ------------------------------------------------------------------------
    async def post(self, transaction: Transaction) -> Transaction:
        """As `smsgw.domain.ledger.Ledger.post`: idempotent by (kind, reference); raises
        ConflictingPostingError / InsufficientBalanceError with the same meaning."""

    async def balance(self, account: Account) -> Money: ...

    # --- parking sessions --------------------------------------------------------------
    async def insert_session(self, session: ParkingSession) -> None:
        """Raises ActivePlateConflictError if the plate has another ACTIVE session."""

    async def update_session(self, session: ParkingSession) -> None: ...

    async def get_session(self, session_id: str) -> ParkingSession | None: ...

    async def running_sessions(self, msisdn: str) -> Sequence[ParkingSession]:
        """The phone's ACTIVE sessions, earliest end first."""

    async def active_session_for_plate(self, plate: str) -> ParkingSession | None: ...

    # --- charges -----------------------------------------------------------------------
    async def insert_charge(self, charge: Charge, details: JsonObject) -> None:
        """Raises PendingChargeConflictError when the phone has a pending charge already."""

    async def get_charge(self, charge_id: str) -> StoredCharge | None: ...

    async def pending_charge(self, msisdn: str) -> StoredCharge | None: ...

    async def update_charge(
        self,
        charge_id: str,
        expected: ChargeState,
        new: ChargeState,
        operator_reference: str | None = None,
    ) -> bool:
        """Compare-and-set the state; False (and no change) when it was not `expected`."""

    async def charge_usage(
        self,
        msisdn: str,
        operator_id: str,
        currency: str,
        day_start: datetime,
        month_start: datetime,
    ) -> ChargeUsage:
        """Sums over this phone's charges through that operator requested since the
        period starts, counting pending, confirmed and applied ones (pending reserve)."""

    # --- outbox ------------------------------------------------------------------------
    async def enqueue_outbound(self, sms: OutboundSms) -> bool:
        """Queue a reply; False when `outbox_id` was queued before (so a replayed unit of
        work does not send twice)."""

    async def claim_outbound(
        self, now: datetime, node: str, lease_seconds: float, limit: int
    ) -> Sequence[StoredOutbound]:
        """PENDING rows due and not leased by a live node, oldest first; leased to `node`."""

    async def mark_outbound_sent(self, outbox_id: str, message_id: str, now: datetime) -> None: ...

    async def retry_outbound(self, outbox_id: str, not_before: datetime, error: str) -> None:
        """Count a failed attempt and release the lease until `not_before`."""

    async def fail_outbound(self, outbox_id: str, error: str, now: datetime) -> None: ...

    async def record_receipt(
        self, operator_id: str, message_id: str, state: OutboxState, now: datetime
    ) -> bool:
        """Attach a delivery receipt to the sent row with that id (ids compared as the
        SMSC wrote them); False when no row matches."""

    async def get_outbound(self, outbox_id: str) -> StoredOutbound | None: ...

    # --- scheduled work ----------------------------------------------------------------
    async def schedule(self, job: Job) -> None:
        """Insert or move the job (unique by kind and reference)."""

    async def cancel_jobs(self, reference: str) -> None: ...

    async def claim_due_jobs(
        self, now: datetime, node: str, lease_seconds: float, limit: int
    ) -> Sequence[Job]:
        """Jobs due by `now`, not leased by a live node (FOR UPDATE SKIP LOCKED)."""

    async def complete_job(self, job_id: str) -> None: ...

    # --- restarts ----------------------------------------------------------------------
    async def release_leases(self, node: str) -> int:
        """Free every lease `node` holds (inbound, outbox, jobs): a node starting again
        under its own id takes its unfinished work back at once instead of waiting for
        the leases of its previous life to run out. Returns how many were freed."""

    # --- callbacks ---------------------------------------------------------------------
    async def remember_nonce(self, operator_id: str, nonce: str, now: datetime) -> bool:
        """True the first time a callback nonce is seen; False for a replay."""

    # --- support and metrics (read only) ---------------------------------------------
    async def phone_history(self, msisdn: str, until: datetime | None, limit: int) -> PhoneHistory:
        """The phone's movements, charges, sessions and replies at or before `until`
        (None: all), newest first, at most `limit` of each."""

    async def store_figures(self) -> StoreFigures:
        """Money charged per operator, refunded per zone (both per currency) and active
        sessions per zone, over everything stored."""

    # --- retention ---------------------------------------------------------------------
    # Each deletes at most `limit` of the oldest rows older than `before` that nothing
    # needs any more, and returns how many it deleted: the caller commits small batches.
    async def prune_inbound(self, before: datetime, limit: int) -> int:
        """Processed MO received before `before`; unprocessed ones are kept."""

    async def prune_outbox(self, before: datetime, limit: int) -> int:
        """Replies created before `before` that are no longer pending."""

    async def prune_charges(self, before: datetime, limit: int) -> int:
        """Finished charges (applied, declined, expired, failed) requested before
        `before`, except those whose session is still active. The ledger keeps the
        money's history: its entries are never pruned."""

    async def prune_nonces(self, before: datetime, limit: int) -> int:
        """Callback nonces seen before `before` (past their freshness window)."""

    async def prune_driver_codes(self, before: datetime, limit: int) -> int:
        """Sign-in codes sent before `before` (past every limit's window)."""

    async def prune_driver_sessions(self, before: datetime, limit: int) -> int:
        """Sign-ins that expired or were revoked before `before`."""

    # --- delivery receipts per part ----------------------------------------------------
    async def record_outbound_part(
        self, outbox_id: str, part: int, parts: int, message_id: str, now: datetime
    ) -> None:
        """The SMSC accepted part `part` of `parts` under `message_id` (a resend of the
        part replaces what an earlier attempt recorded)."""

    async def record_part_receipt(
        self, operator_id: str, message_ids: Sequence[str], state: OutboxState, now: datetime
    ) -> PartReceipt | None:
        """Apply a final receipt to the latest sent part with one of these ids (the
        forms of one id); the reply becomes FAILED when a part fails and DELIVERED when
        every part is. None when no part has such an id."""

    async def outbound_parts(self, outbox_id: str) -> Sequence[OutboundPart]:
        """The reply's parts, in order."""

    async def hold_receipt(
        self,
        operator_id: str,
        message_id: str,
        state: OutboxState,
        received_at: datetime,
        expires_at: datetime,
    ) -> None: ...

    async def held_receipts_for(
        self, operator_id: str, message_ids: Sequence[str]
    ) -> Sequence[HeldReceipt]:
        """Held receipts of this operator written with one of these ids, oldest first."""

    async def held_receipts(self, limit: int) -> Sequence[HeldReceipt]:
        """Every held receipt, oldest first (the sweep)."""

    async def drop_held_receipt(self, receipt_id: int) -> None: ...

    # --- SMPP MO intake: binds, what was answered on them, parts of long MOs -----------
    async def touch_smpp_bind(
        self, link_id: str, bind_id: str, now: datetime, *, closed: bool = False
    ) -> None:
        """Record that bind `bind_id` of the link is up at `now` (or, `closed`, went
        down at `now`); creates the bind's row the first time."""

    async def seen_smpp_mo(self, link_id: str, digest: str, bind_id: str) -> Sequence[SmppMoSeen]:
        """MOs of the link with this content digest last answered on another bind than
        `bind_id`, oldest first."""

    async def record_smpp_mo(
        self,
        mo_id: str,
        link_id: str,
        digest: str,
        bind_id: str,
        now: datetime,
        answer_status: int,
    ) -> None:
        """Remember an MO stored now on `bind_id`, answered with `answer_status`."""

    async def claim_smpp_redelivery(
        self, mo_id: str, from_bind: str, to_bind: str, now: datetime, answer_status: int
    ) -> bool:
        """Move a remembered MO to the bind it was redelivered on (answered again now);
        False when another unit took it first."""

    async def add_smpp_part(self, part: SmppPart) -> Sequence[SmppPart]:
        """Store a part (a repeated seqnum keeps the first); every stored part of its
        message, by seqnum."""

    async def take_smpp_parts(self, key: SmppPartKey) -> Sequence[SmppPart]:
        """Remove and return the stored parts of a message, by seqnum."""

    async def stale_smpp_parts(
        self, link_id: str, before: datetime, limit: int
    ) -> Sequence[SmppPartKey]:
        """Messages of the link whose first stored part came before `before`."""

    async def prune_smpp_mo(self, link_id: str, before: datetime) -> int:
        """Forget the link's MOs stored before `before` and binds down since before it."""


class Store(Protocol):
    async def transact(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Run `work` in one transaction; commit when it returns, roll back if it raises."""

    async def ping(self) -> None:
        """Raise if the database cannot be reached (readiness)."""

    async def close(self) -> None: ...


# --- conflicts a Tx reports -----------------------------------------------------------


class StoreConflictError(Exception):
    """A write the stored data does not allow; the unit of work is still usable."""


class ActivePlateConflictError(StoreConflictError):
    """The plate already has another ACTIVE session (one active session per plate)."""

    def __init__(self, plate: str) -> None:
        super().__init__(f"plate {plate} already has an active session")
        self.plate = plate


class PendingChargeConflictError(StoreConflictError):
    """The phone already has a charge waiting for an answer (one pending per phone)."""

    def __init__(self, phone: str) -> None:
        super().__init__("the phone already has a pending charge")
        self.phone = phone
