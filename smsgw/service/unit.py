"""One unit of work as the handlers see it: the transaction, the facts it runs with
(`now`, the phone, its language), and what it leaves behind (queued replies and the
network work to do after COMMIT).

A `Unit` is built inside the work function, so a retried transaction starts from a clean
one: nothing here outlives a rollback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from smsgw.domain.tariffs import Zone, as_utc
from smsgw.language import Language
from smsgw.replies import ReplyError, render
from smsgw.service.messages import OutboundSms
from smsgw.service.ports import Job, JobKind
from smsgw.service.settings import Deployment, ServiceSettings
from smsgw.service.store_port import Tx

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class RequestCharge:
    """Send (or send again) the charge request to the operator."""

    charge_id: str


@dataclass(frozen=True, slots=True)
class PollCharge:
    """Ask the operator how a charge it accepted is going."""

    charge_id: str


PostCommit = RequestCharge | PollCharge


@dataclass(frozen=True, slots=True)
class CapturedReply:
    """A reply kept for the caller instead of texted (a driver's web action answers in
    its HTTP response): the key, the rendered text and the facts it was rendered from."""

    key: str
    text: str
    facts: dict[str, object]


@dataclass(slots=True)
class Unit:
    tx: Tx
    deployment: Deployment
    now: datetime
    msisdn: str
    operator_id: str | None  # the phone's operator: where its replies go out
    language: Language
    # the cause of this unit (an inbound id, a job, a charge): replies are named after it
    cause: str
    # a fresh id from the factory, drawn before the transaction started
    seed: str
    can_charge: Callable[[str], bool] = lambda _operator_id: False
    actions: list[PostCommit] = field(default_factory=list)
    # (operator, stage) of the charges this unit moved, counted once it has committed
    charge_stages: list[tuple[str, str]] = field(default_factory=list)
    # seconds from request to final answer of the charges this unit settled
    confirmation_seconds: list[float] = field(default_factory=list)
    replies_queued: int = 0
    # when set, this unit's own replies land here instead of in the outbox; texts to
    # other phones (`notify`) still go out as SMS
    reply_sink: list[CapturedReply] | None = None
    _reply_count: int = 0
    _ids_made: set[str] = field(default_factory=set)

    @property
    def settings(self) -> ServiceSettings:
        return self.deployment.settings

    def new_id(self, kind: str) -> str:
        """An id for something this unit creates, stable when the unit is replayed."""
        candidate = f"{kind}_{self.seed}"
        number = 1
        while candidate in self._ids_made:
            number += 1
            candidate = f"{kind}_{self.seed}_{number}"
        self._ids_made.add(candidate)
        return candidate

    async def reply(self, key: str, /, **facts: object) -> None:
        """Queue a reply to the phone, named after the cause (`{cause}:1`, `{cause}:2`…),
        so a replayed cause cannot send it twice."""
        self._reply_count += 1
        await self.reply_once(f"{self.cause}:{self._reply_count}", key, **facts)

    async def ask(self, key: str, /, **facts: object) -> None:
        """A question the subscriber answers by SMS (`1`/`0`): queued like `reply`, and
        texted even when this unit's replies are captured (where it is kept too)."""
        self._reply_count += 1
        text = self.render(key, **facts)
        if self.reply_sink is not None:
            self.reply_sink.append(CapturedReply(key, text, dict(facts)))
        await self._enqueue(f"{self.cause}:{self._reply_count}", text)

    async def reply_once(self, outbox_id: str, key: str, /, **facts: object) -> None:
        """Queue a reply under an id of the caller's making: a second reply under the same
        id is dropped."""
        text = self.render(key, **facts)
        if self.reply_sink is not None:
            self.reply_sink.append(CapturedReply(key, text, dict(facts)))
            return
        await self._enqueue(outbox_id, text)

    async def _enqueue(self, outbox_id: str, text: str) -> None:
        sms = OutboundSms(
            outbox_id=outbox_id,
            operator_id=self.operator_id or "",
            sender=self.deployment.settings.short_number,
            receiver=self.msisdn,
            text=text,
            created_at=self.now,
        )
        if await self.tx.enqueue_outbound(sms):
            self.replies_queued += 1

    def render(self, key: str, **facts: object) -> str:
        try:
            return render(key, self.language, now=self.now, **facts)
        except ReplyError:
            # a reply with a hole must never reach a driver; this one always renders
            log.error("reply_unrenderable", reply_key=key, facts=sorted(facts))
            return render("error.temporary", self.language)

    def after_commit(self, action: PostCommit) -> None:
        self.actions.append(action)

    async def schedule(self, kind: JobKind, reference: str, due_at: datetime) -> None:
        """(Re)schedule the job of this kind for `reference` (one per kind and reference)."""
        await self.tx.schedule(Job.of(kind, reference, due_at))

    async def notify(self, msisdn: str, outbox_id: str, key: str, /, **facts: object) -> None:
        """Queue a text to another phone this unit's work concerns (the payer of a session
        another phone moved to a new zone), in that phone's language, through the operator
        it was last seen on. A second text under the same id is dropped."""
        profile = await self.tx.get_phone(msisdn)
        language = self.deployment.language_for(profile.language if profile else None)
        operator_id = (profile.operator_id if profile else None) or self.operator_id or ""
        try:
            text = render(key, language, now=self.now, **facts)
        except ReplyError:
            log.error("reply_unrenderable", reply_key=key, facts=sorted(facts))
            return
        sms = OutboundSms(
            outbox_id=outbox_id,
            operator_id=operator_id,
            sender=self.deployment.settings.short_number,
            receiver=msisdn,
            text=text,
            created_at=self.now,
        )
        if await self.tx.enqueue_outbound(sms):
            self.replies_queued += 1


@dataclass(frozen=True, slots=True)
class UnitReport:
    """What a committed unit left to do and to count."""

    actions: tuple[PostCommit, ...] = ()
    replies_queued: int = 0
    charge_stages: tuple[tuple[str, str], ...] = ()
    confirmation_seconds: tuple[float, ...] = ()

    @classmethod
    def of(cls, unit: Unit | None) -> UnitReport:
        """The report of `unit`; an empty one when the work built no unit."""
        if unit is None:
            return cls()
        return cls(
            actions=tuple(unit.actions),
            replies_queued=unit.replies_queued,
            charge_stages=tuple(unit.charge_stages),
            confirmation_seconds=tuple(unit.confirmation_seconds),
        )


def local_time(moment: datetime, zone: Zone | None) -> datetime:
    """A stored (UTC) time in the zone's own time, for replies and the ops API."""
    if zone is None:
        return as_utc(moment)
    return as_utc(moment).astimezone(zone.tz)


async def lock_phone_unit(
    tx: Tx,
    deployment: Deployment,
    *,
    msisdn: str,
    operator_id: str | None,
    now: datetime,
    cause: str,
    seed: str,
    can_charge: Callable[[str], bool] | None = None,
) -> Unit:
    """Lock the phone (every change to its money or sessions starts here) and build the
    unit around what the phone's profile says: its language and its current operator."""
    profile = await tx.lock_phone(msisdn, operator_id)
    unit = Unit(
        tx=tx,
        deployment=deployment,
        now=now,
        msisdn=msisdn,
        operator_id=operator_id or profile.operator_id,
        language=deployment.language_for(profile.language),
        cause=cause,
        seed=seed,
    )
    if can_charge is not None:
        unit.can_charge = can_charge
    return unit
