"""The service over a real SQLite store, with the process boundary replaced by doubles.

`ScriptedCharging` (an operator's charging API) and `RecordingSender` (an operator's MT
link) record every call and answer as the test scripts them; `SettableClock` is the only
clock. `Harness.mo(text)` runs one MO all the way: stored, processed, its charge request
made, its replies sent, and returns the texts the phone received.
"""

from __future__ import annotations

import sqlite3
import tomllib
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from smsgw.charging.callbacks import parse_callback
from smsgw.charging.signing import sign, unix_timestamp
from smsgw.domain.charges import Charge
from smsgw.domain.ledger import Account
from smsgw.domain.operators import OperatorPolicy, load_operators, parse_operator
from smsgw.domain.tariffs import zones_from_config
from smsgw.language import Language
from smsgw.observability import Metrics
from smsgw.service.messages import InboundSms, OutboundSms
from smsgw.service.ports import (
    ChargeAnswer,
    ChargeOutcome,
    ChargingApi,
    MtSender,
    SendError,
    StoredCharge,
)
from smsgw.service.runtime import Service, build_service
from smsgw.service.settings import Deployment, ServiceSettings
from smsgw.storage.sqlite import SqliteStore, open_sqlite_store
from smsgw.transport.http_callbacks import callback_response

REPO = Path(__file__).resolve().parents[2]
PHONE = "79161234567"
OTHER_PHONE = "79031112233"
SHORT_NUMBER = "7757"
# a Tuesday, 09:00 in Moscow: zone 1001 is paid from 08:00 to 20:00
T0 = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
SECRETS = {
    "mts": "mts-secret-0123456789",
    "beeline": "beeline-secret-0123456789",
    "gwtel": "gwtel-secret-0123456789",
    "tinytel": "tinytel-secret-0123456789",
}
RUB = "RUB"

ZONES_CONFIG: dict[str, object] = {
    "zones": [
        {
            "number": "1001",
            "name": "Tverskaya",
            "time_zone": "Europe/Moscow",
            "currency": "RUB",
            "price_per_hour": "60.00",
            "paid": [{"days": "Mon-Sun", "from": "08:00", "to": "20:00"}],
        },
        {
            "number": "1003",
            "name": "Short stay",
            "time_zone": "Europe/Moscow",
            "currency": "RUB",
            "price_per_hour": "60.00",
            "max_hours": 3,
            "paid": [{"days": "Mon-Sun", "from": "08:00", "to": "20:00"}],
        },
        {
            "number": "3601",
            "name": "Plekhanovskaya",
            "city": "Voronezh",
            "time_zone": "Europe/Moscow",
            "currency": "RUB",
            "price_per_hour": "40.00",
            "paid": [{"days": "Mon-Sun", "from": "08:00", "to": "20:00"}],
        },
        {
            "number": "7001",
            "name": "Green market",
            "city": "Almaty",
            "time_zone": "Asia/Almaty",
            "currency": "KZT",
            "price_per_hour": "100.00",
            "round_to_whole": True,
            "paid": [{"days": "Mon-Sat", "from": "09:00", "to": "19:00"}],
        },
    ]
}


def make_operators() -> dict[str, OperatorPolicy]:
    files = {
        path.stem: tomllib.loads(path.read_text("utf-8")) for path in REPO.glob("operators/*.toml")
    }
    operators = load_operators(files)
    operators["gwtel"] = parse_operator(
        "gwtel",
        {
            "name": "GwTel",
            "currency": "RUB",
            "time_zone": "Europe/Moscow",
            "confirmation": "gateway",
        },
    )
    operators["tinytel"] = parse_operator(
        "tinytel",
        {
            "name": "TinyTel",
            "currency": "RUB",
            "time_zone": "Europe/Moscow",
            "limits": {"max_per_payment": "100", "per_day_amount": "150"},
        },
    )
    return operators


def make_deployment(**settings: Any) -> Deployment:
    base = ServiceSettings(
        default_language=Language.EN,
        short_number=SHORT_NUMBER,
        callback_base_url="https://gw.example",
        node_id="test-node",
        operator_numbers={"mts": "7701"},
        charging_secrets=SECRETS,
    )
    return Deployment(
        zones=zones_from_config(ZONES_CONFIG),
        operators=make_operators(),
        settings=replace(base, **settings),
    )


class SettableClock:
    def __init__(self, now: datetime = T0) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> datetime:
        self._now += timedelta(**delta)
        return self._now


class CountingIds:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> str:
        self.count += 1
        return f"{self.count:05d}"


@dataclass(frozen=True)
class ChargeCall:
    charge: Charge
    text: str
    callback_url: str
    confirmed_by_subscriber: bool


@dataclass
class ScriptedCharging:
    """An operator's charging API: answers requests and polls from queues (then the
    defaults), recording each call."""

    request_default: ChargeOutcome = ChargeOutcome.ACCEPTED
    status_default: ChargeOutcome = ChargeOutcome.ACCEPTED
    request_answers: deque[ChargeOutcome | Exception] = field(default_factory=deque)
    status_answers: deque[ChargeOutcome | Exception] = field(default_factory=deque)
    requests: list[ChargeCall] = field(default_factory=list)
    polls: list[Charge] = field(default_factory=list)

    async def request_charge(
        self, charge: Charge, text: str, callback_url: str, confirmed_by_subscriber: bool
    ) -> ChargeAnswer:
        self.requests.append(ChargeCall(charge, text, callback_url, confirmed_by_subscriber))
        return self._answer(charge, self.request_answers, self.request_default)

    async def charge_status(self, charge: Charge) -> ChargeAnswer:
        self.polls.append(charge)
        return self._answer(charge, self.status_answers, self.status_default)

    def _answer(
        self, charge: Charge, queue: deque[ChargeOutcome | Exception], default: ChargeOutcome
    ) -> ChargeAnswer:
        answer = queue.popleft() if queue else default
        if isinstance(answer, Exception):
            raise answer
        return ChargeAnswer(answer, operator_reference=f"op-{charge.id}")


@dataclass
class RecordingSender:
    """An operator's MT link: records what it sent, fails as scripted."""

    failures: deque[SendError] = field(default_factory=deque)
    sent: list[OutboundSms] = field(default_factory=list)
    attempts: int = 0
    # shared by every sender of a harness: the order messages went out in
    journal: list[OutboundSms] = field(default_factory=list)

    async def send(self, sms: OutboundSms) -> str:
        self.attempts += 1
        if self.failures:
            raise self.failures.popleft()
        self.sent.append(sms)
        self.journal.append(sms)
        return f"{sms.operator_id}-msg-{len(self.sent)}"


OPERATOR_IDS = ("mts", "beeline", "yota", "gwtel", "tinytel", "megafon")


@dataclass
class Harness:
    path: Path
    deployment: Deployment
    clock: SettableClock = field(default_factory=SettableClock)
    ids: CountingIds = field(default_factory=CountingIds)
    charging: dict[str, ScriptedCharging] = field(
        default_factory=lambda: {
            op: ScriptedCharging() for op in ("mts", "beeline", "gwtel", "tinytel")
        }
    )
    journal: list[OutboundSms] = field(default_factory=list)
    senders: dict[str, RecordingSender] = field(default_factory=dict)
    metrics: Metrics = field(default_factory=Metrics)
    store: SqliteStore | None = None
    service: Service | None = None
    _dedup: int = 0
    _seen: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        if not self.senders:
            self.senders = {op: RecordingSender(journal=self.journal) for op in OPERATOR_IDS}

    async def open(self) -> Harness:
        self.store = await open_sqlite_store(self.path)
        charging: Mapping[str, ChargingApi] = self.charging
        senders: Mapping[str, MtSender] = self.senders
        self.service = build_service(
            self.store,
            self.deployment,
            self.clock,
            charging,
            senders,
            self.metrics,
            ids=self.ids,
            verify_callback=parse_callback,
        )
        return self

    async def close(self) -> None:
        if self.service is not None:
            await self.service.messages.drain()
        if self.store is not None:
            await self.store.close()
        self.store, self.service = None, None

    async def reopen(self) -> None:
        """A restart: the process state is gone, the database and the doubles remain."""
        await self.close()
        await self.open()

    @property
    def svc(self) -> Service:
        assert self.service is not None
        return self.service

    @property
    def db(self) -> SqliteStore:
        assert self.store is not None
        return self.store

    # --- driving it ---------------------------------------------------------------------

    def inbound(
        self, text: str, phone: str = PHONE, operator: str = "mts", dedup: str | None = None
    ) -> InboundSms:
        self._dedup += 1
        return InboundSms(
            link_id=f"{operator}-link",
            operator_id=operator,
            sender=phone,
            receiver=SHORT_NUMBER,
            text=text,
            received_at=self.clock.now(),
            dedup_key=dedup or f"d{self._dedup}",
        )

    async def mo(
        self, text: str, phone: str = PHONE, operator: str = "mts", dedup: str | None = None
    ) -> list[str]:
        """Send one MO through; the texts `phone` received because of it (and anything
        else that went out meanwhile)."""
        assert await self.svc.messages.accept_mo(self.inbound(text, phone, operator, dedup))
        await self.svc.messages.drain()
        return await self.flush(phone)

    async def flush(self, phone: str = PHONE) -> list[str]:
        """Send what the outbox holds; the new texts to `phone`."""
        while await self.svc.outbox.drain(self.clock.now()):
            pass
        return self.new_texts(phone)

    def new_texts(self, phone: str = PHONE) -> list[str]:
        fresh = [sms for sms in self.all_sent() if sms.outbox_id not in self._seen]
        self._seen.update(sms.outbox_id for sms in fresh)
        return [sms.text for sms in fresh if sms.receiver == phone]

    def all_sent(self) -> list[OutboundSms]:
        """Every message sent, in the order it went out."""
        return list(self.journal)

    async def run_due(self, phone: str = PHONE, **advance: float) -> list[str]:
        if advance:
            self.clock.advance(**advance)
        await self.svc.scheduler.run_due(self.clock.now())
        return await self.flush(phone)

    async def callback(
        self,
        charge_id: str,
        status: str = "confirmed",
        *,
        operator: str = "mts",
        nonce: str | None = None,
        secret: str | None = None,
        reason: str | None = None,
    ) -> tuple[int, dict[str, object]]:
        body, headers = self.signed_callback(charge_id, status, operator, nonce, secret, reason)
        return await self.raw_callback(operator, headers, body)

    async def raw_callback(
        self, operator: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, object]]:
        """Hand the service a callback as received; the status and body the HTTP listener
        answers for what the service says became of it."""
        answer = await self.svc.messages.accept_charge_callback(operator, headers, body)
        return callback_response(answer)

    def signed_callback(
        self,
        charge_id: str,
        status: str,
        operator: str = "mts",
        nonce: str | None = None,
        secret: str | None = None,
        reason: str | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        self._dedup += 1
        timestamp = unix_timestamp(self.clock.now())
        fields: dict[str, object] = {
            "charge_id": charge_id,
            "status": status,
            "operator_reference": f"ref-{charge_id}",
            "nonce": nonce or f"nonce-{self._dedup}",
            "timestamp": int(timestamp),
        }
        if reason is not None:
            fields["reason"] = reason
        body = orjson.dumps(fields)
        key = (secret or SECRETS[operator]).encode()
        headers = {"X-Smsgw-Timestamp": timestamp, "X-Smsgw-Signature": sign(key, timestamp, body)}
        return body, headers

    # --- looking at it --------------------------------------------------------------------

    def last_charge_id(self, operator: str = "mts") -> str:
        return self.charging[operator].requests[-1].charge.id

    async def pending(self, phone: str = PHONE) -> StoredCharge | None:
        return await self.db.transact(lambda tx: tx.pending_charge(phone))

    async def balance(self, phone: str = PHONE, currency: str = RUB) -> int:
        money = await self.db.transact(lambda tx: tx.balance(Account.phone(phone, currency)))
        return money.minor

    async def account(self, account: Account) -> int:
        money = await self.db.transact(lambda tx: tx.balance(account))
        return money.minor

    async def paid_until(self, plate: str, zone: str = "1001") -> datetime | None:
        status = await self.svc.messages.plate_status(plate, zone, self.clock.now())
        if status is None:
            return None
        until = status["until"]
        assert isinstance(until, datetime)
        return until

    async def assert_books_balance(self) -> dict[str, int]:
        """Every currency sums to zero over all accounts, and each account's balance is
        the sum of its entries. Returns the non-zero balances by account key."""
        totals: dict[str, int] = {}
        by_account: dict[str, int] = {}
        with sqlite3.connect(self.path) as connection:
            for account, currency, amount in connection.execute(
                "SELECT account, currency, amount_minor FROM ledger_entries"
            ):
                totals[currency] = totals.get(currency, 0) + amount
                by_account[account] = by_account.get(account, 0) + amount
        assert all(total == 0 for total in totals.values()), totals
        for key, summed in by_account.items():
            assert await self.account(Account.from_key(key)) == summed, key
            if key.startswith("phone:"):
                assert summed >= 0, key
        return {key: value for key, value in by_account.items() if value}

    async def ledger_count(self, kind: str) -> int:
        with sqlite3.connect(self.path) as connection:
            row = connection.execute(
                "SELECT COUNT(*) FROM ledger_transactions WHERE kind = ?", (kind,)
            ).fetchone()
        return int(row[0])
