"""The whole operator side in one object: the SMSC, each operator's charging API and the
virtual phones, built from config.toml so it matches the gateway's links and charging
settings by construction (same ports, credentials and secrets).

Phones are created on first use with the operator a number range names, or the first
operator; every text the gateway sends lands in the phone's inbox next to the operator's
own confirmation requests.

What happens in the world is published on `events` (an `EventBus`): a text reaching a
phone ("sms"), a phone texting the short number ("mo"), a charge changing status
("charge"), a bind coming or going ("link"), the faults changing ("faults"), a phone
created or changed ("phone"). The control API streams them as Server-Sent Events, and
scenarios wait on them. Time stamps come from the injected `clock`, which the simulated
operators also sign with.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from simulator.config import SmscSettings, smsc_settings_from_config
from simulator.faults import Faults
from simulator.operator import Clock, OperatorSimulator, SimulatedCharge
from simulator.phones import ConfirmationPolicy, PhoneBook, ReceivedText, VirtualPhone
from simulator.smsc import LinkChange, ReceivedMt, SimulatedSmsc
from smsgw.domain.money import Money
from smsgw.smpp.reassembly import Reassembler
from smsgw.transport.smpp_protocol import Signal

DEFAULT_PHONE_BALANCE_MINOR = 1000_00
# Events a subscriber may fall behind by before its stream is ended (it reconnects and
# reads the state afresh rather than see a gap it cannot know about).
SUBSCRIBER_BACKLOG = 1000


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class OperatorEndpoint:
    operator: str
    host: str
    port: int
    secret: str


def operator_endpoints(config: Mapping[str, Any]) -> list[OperatorEndpoint]:
    """Where each simulated operator listens: the gateway's own `[charging.*]` URLs."""
    endpoints = []
    for operator, settings in dict(config.get("charging", {})).items():
        url = urlsplit(str(settings["url"]))
        port = 80 if url.port is None else url.port  # 0: a port from the OS
        endpoints.append(
            OperatorEndpoint(operator, url.hostname or "127.0.0.1", port, settings["secret"])
        )
    return endpoints


# --- events ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorldEvent:
    type: str  # sms | mo | charge | link | faults | phone
    data: Mapping[str, Any]
    seq: int = 0  # 1, 2, 3… in publishing order: the SSE id

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, **self.data}


class Subscription:
    """One subscriber's queue of events; `get()` returns None once it has ended."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._queue: asyncio.Queue[WorldEvent | None] = asyncio.Queue()
        self.ended = False

    async def get(self) -> WorldEvent | None:
        if self.ended and self._queue.empty():
            return None
        return await self._queue.get()

    def put(self, event: WorldEvent) -> None:
        if self.ended:
            return
        if self._queue.qsize() >= SUBSCRIBER_BACKLOG:
            self.end()  # too far behind: better no stream than one with a silent gap
            return
        self._queue.put_nowait(event)

    def end(self) -> None:
        if not self.ended:
            self.ended = True
            self._queue.put_nowait(None)
            self._bus.unsubscribe(self)


class EventBus:
    """Publish/subscribe with an asyncio.Queue per subscriber; `changed` wakes waiters."""

    def __init__(self) -> None:
        self._subscribers: set[Subscription] = set()
        self.changed = Signal()
        self.published = 0

    def subscribe(self) -> Subscription:
        subscription = Subscription(self)
        self._subscribers.add(subscription)
        return subscription

    @asynccontextmanager
    async def subscription(self) -> AsyncIterator[Subscription]:
        subscription = self.subscribe()
        try:
            yield subscription
        finally:
            subscription.end()

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)
        self.changed.notify()

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(self, event_type: str, **data: Any) -> None:
        self.published += 1
        event = WorldEvent(event_type, data, self.published)
        for subscription in list(self._subscribers):
            subscription.put(event)
        self.changed.notify()

    def close(self) -> None:
        for subscription in list(self._subscribers):
            subscription.end()


# --- phones whose inbox is watched --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InboxEntry:
    sender: str
    text: str
    at: datetime

    def to_json(self) -> dict[str, str]:
        return {"sender": self.sender, "text": self.text, "at": self.at.isoformat()}


class ObservedInbox(list[ReceivedText]):
    """A phone's inbox that tells the world about every text appended to it."""

    def __init__(
        self, items: Iterable[ReceivedText], on_text: Callable[[ReceivedText], None]
    ) -> None:
        super().__init__(items)
        self._on_text = on_text

    def append(self, item: ReceivedText) -> None:
        super().append(item)
        self._on_text(item)


class WorldPhoneBook(PhoneBook):
    """A `PhoneBook` that watches the inbox of every phone added to it."""

    def __init__(self, on_added: Callable[[VirtualPhone], None]) -> None:
        self._on_added = on_added
        super().__init__()

    def add(self, phone: VirtualPhone) -> VirtualPhone:
        added = super().add(phone)
        self._on_added(added)
        return added


def charge_json(operator: str, charge: SimulatedCharge) -> dict[str, Any]:
    request = charge.request
    return {
        "id": request.charge_id,
        "operator": operator,
        "msisdn": request.msisdn,
        "amount_minor": request.amount.minor,
        "currency": request.amount.currency,
        "status": charge.status.value,
        "reason": charge.reason,
        "reference": charge.operator_reference,
    }


def phone_json(phone: VirtualPhone) -> dict[str, Any]:
    return {
        "msisdn": phone.msisdn,
        "operator": phone.operator_id,
        "balance_minor": phone.balance.minor,
        "currency": phone.balance.currency,
        "policy": phone.policy.value,
        "answer_delay": phone.answer_delay,
    }


def link_json(link: LinkChange) -> dict[str, Any]:
    return {"system_id": link.system_id, "operator": link.operator, "bind": link.bind}


# --- the world ---------------------------------------------------------------------------


class SimulatedWorld:
    def __init__(
        self,
        smsc_settings: SmscSettings,
        endpoints: list[OperatorEndpoint],
        *,
        short_number: str = "7757",
        clock: Clock = _utc_now,
        smsc_reassembler: Reassembler | None = None,
        mt_to_phones: bool = True,
    ) -> None:
        """`smsc_reassembler`: how the SMSC joins long MT (see `SimulatedSmsc`).
        `mt_to_phones=False`: the gateway's texts reach only the SMSC's MT subscribers,
        not the phones' inboxes, the SMSC's inbox or `events` (a load test reads them
        through `smsc.subscribe_mt` and keeps no history)."""
        self.short_number = short_number
        self.clock = clock
        self.events = EventBus()
        # every text each phone received, with when: the control API's inbox
        self.received: dict[str, list[InboxEntry]] = {}
        self.phones = WorldPhoneBook(self._watch_phone)
        self.smsc = SimulatedSmsc(
            smsc_settings,
            on_mt=self._deliver_to_phone if mt_to_phones else None,
            on_link=self._link_changed,
            reassembler=smsc_reassembler,
            keep_inbox=mt_to_phones,
        )
        self.smsc.injector.on_change = self._faults_changed
        self.operators: dict[str, OperatorSimulator] = {
            e.operator: OperatorSimulator(
                e.operator,
                e.secret,
                self.phones,
                host=e.host,
                port=e.port,
                clock=clock,
                on_charge=self._charge_changed,
            )
            for e in endpoints
        }
        self.operator_ids = sorted({a.operator for a in smsc_settings.accounts})

    @classmethod
    def from_config(cls, config: Mapping[str, Any], *, clock: Clock = _utc_now) -> SimulatedWorld:
        gateway = dict(config.get("gateway", {}))
        return cls(
            smsc_settings_from_config(config),
            operator_endpoints(config),
            short_number=str(gateway.get("short_number", "7757")),
            clock=clock,
        )

    async def start(self) -> None:
        await self.smsc.start()
        for operator in self.operators.values():
            await operator.start()

    async def close(self) -> None:
        self.events.close()
        for operator in self.operators.values():
            await operator.close()
        await self.smsc.close()

    # --- phones --------------------------------------------------------------------------

    def phone(
        self,
        msisdn: str,
        operator: str | None = None,
        *,
        balance_minor: int = DEFAULT_PHONE_BALANCE_MINOR,
        policy: ConfirmationPolicy = ConfirmationPolicy.CONFIRM,
    ) -> VirtualPhone:
        """The phone with that number, created on first use."""
        existing = self.phones.get(msisdn)
        if existing is not None:
            return existing
        chosen = operator or self.operator_ids[0]
        if chosen not in self.operator_ids:
            raise ValueError(f"unknown operator {chosen!r}; known: {', '.join(self.operator_ids)}")
        currency = "KZT" if chosen == "kcell" else "RUB"
        return self.phones.add(VirtualPhone(msisdn, chosen, Money(balance_minor, currency), policy))

    def set_policy(
        self, msisdn: str, policy: ConfirmationPolicy, delay: float | None = None
    ) -> VirtualPhone:
        phone = self.phones.require(msisdn)
        if delay is not None:
            if delay < 0:
                raise ValueError("answer_delay must not be negative")
            phone.answer_delay = delay
        phone.policy = policy
        self.events.publish("phone", **phone_json(phone))
        return phone

    def inbox(self, msisdn: str) -> list[InboxEntry]:
        return list(self.received.get(msisdn, ()))

    async def text(self, msisdn: str, text: str, *, wait: float = 0.0) -> int:
        """The phone texts the gateway's short number; the SMSC's deliver_sm status.
        `wait`: seconds to wait for a gateway bind when none is bound."""
        phone = self.phone(msisdn)
        status = await self.smsc.send_mo(
            phone.operator_id, msisdn, self.short_number, text, wait=wait
        )
        self.events.publish(
            "mo", msisdn=msisdn, text=text, status=status, at=self.clock().isoformat()
        )
        return status

    async def answer(self, msisdn: str, reply: str) -> SimulatedCharge:
        """The phone answers its oldest pending confirmation by hand ("1" or "0")."""
        phone = self.phones.require(msisdn)
        operator = self.operators.get(phone.operator_id)
        if operator is None:
            raise LookupError(f"operator {phone.operator_id!r} has no charging API here")
        return await operator.answer(msisdn, reply)

    def charges(self) -> list[dict[str, Any]]:
        return [
            charge_json(operator_id, charge)
            for operator_id, operator in sorted(self.operators.items())
            for charge in operator.charges.values()
        ]

    # --- faults --------------------------------------------------------------------------

    @property
    def faults(self) -> Faults:
        return self.smsc.faults

    def set_faults(self, faults: Faults) -> Faults:
        self.smsc.faults = faults  # published by _faults_changed
        return faults

    # --- waiting -------------------------------------------------------------------------

    async def wait_until(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Wait until `condition()` holds (checked after every event); False on timeout."""
        try:
            async with asyncio.timeout(timeout):
                while not condition():
                    await self.events.changed.wait()
        except TimeoutError:
            return condition()
        return True

    # --- hooks ---------------------------------------------------------------------------

    def _watch_phone(self, phone: VirtualPhone) -> None:
        self.received.setdefault(phone.msisdn, [])
        existing = list(phone.inbox)
        phone.inbox = ObservedInbox((), lambda item: self._phone_received(phone.msisdn, item))
        for item in existing:
            phone.inbox.append(item)
        self.events.publish("phone", **phone_json(phone))

    def _phone_received(self, msisdn: str, item: ReceivedText) -> None:
        entry = InboxEntry(item.sender, item.text, self.clock())
        self.received.setdefault(msisdn, []).append(entry)
        self.events.publish("sms", msisdn=msisdn, **entry.to_json())

    def _deliver_to_phone(self, message: ReceivedMt) -> None:
        phone = self.phones.get(message.destination)
        if phone is not None:
            phone.receive(message.source, message.text)

    def _charge_changed(self, operator: str, charge: SimulatedCharge) -> None:
        self.events.publish("charge", **charge_json(operator, charge))

    def _link_changed(self, change: LinkChange) -> None:
        self.events.publish("link", state=change.state, status=change.status, **link_json(change))

    def _faults_changed(self, faults: Faults) -> None:
        self.events.publish("faults", faults=faults.to_dict())
