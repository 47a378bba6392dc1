"""The charging protocol's two sides on real HTTP over 127.0.0.1, port 0.

The gateway's client talks to the simulated operator; the operator's callbacks go to a
tiny aiohttp receiver that verifies them with `parse_callback` and remembers nonces the
way the service does with `Tx.remember_nonce`. Time is a fixed, movable clock; the
simulator's waiting is recorded instead of slept.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from aiohttp import web

from simulator.operator import OperatorSimulator
from simulator.phones import ConfirmationPolicy, PhoneBook, VirtualPhone
from smsgw.charging.callbacks import CallbackRejected, ReplayedCallbackError, parse_callback
from smsgw.charging.http_client import HttpChargingClient
from smsgw.domain.charges import Charge, new_charge
from smsgw.domain.money import Money
from smsgw.service.ports import CallbackAnswer, ChargeCallback
from smsgw.transport.http_callbacks import callback_response

OPERATOR = "mts"
SECRET = b"test-secret-0123456789abcdef"
START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
GUARD = 5.0  # seconds: only a guard against hanging, never a synchronisation delay


@dataclass
class FakeClock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class RecordedSleep:
    """Stands in for asyncio.sleep: remembers what was asked and returns at once."""

    seconds: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


class CallbackReceiver:
    """The gateway's callback endpoint in miniature: verify, refuse replays, store."""

    def __init__(self, clock: FakeClock, secret: bytes = SECRET) -> None:
        self.received: list[ChargeCallback] = []
        self.refused: list[CallbackRejected] = []
        self._nonces: set[str] = set()
        self._clock = clock
        self._secret = secret
        self.app = web.Application()
        self.app.router.add_post("/callbacks/{operator}", self._handle)
        self._runner = web.AppRunner(self.app, access_log=None)

    async def start(self) -> None:
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()

    async def close(self) -> None:
        await self._runner.cleanup()

    @property
    def url(self) -> str:
        port: int = self._runner.addresses[0][1]
        return f"http://127.0.0.1:{port}/callbacks/{OPERATOR}"

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        operator = request.match_info["operator"]
        try:
            callback = parse_callback(operator, self._secret, request.headers, body, self._clock())
            if callback.nonce in self._nonces:
                raise ReplayedCallbackError("this nonce was received before")
        except CallbackRejected as error:
            self.refused.append(error)
            status, answer = callback_response(CallbackAnswer(error.verdict, str(error)))
            return web.json_response(answer, status=status)
        self._nonces.add(callback.nonce)
        self.received.append(callback)
        return web.json_response({"status": "stored"})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sleep() -> RecordedSleep:
    return RecordedSleep()


@pytest.fixture
def phones() -> PhoneBook:
    return PhoneBook(
        [
            VirtualPhone("79161110001", OPERATOR, Money(100_00, "RUB")),
            VirtualPhone("79161110002", OPERATOR, Money(100_00, "RUB"), ConfirmationPolicy.DECLINE),
            VirtualPhone("79161110003", OPERATOR, Money(100_00, "RUB"), ConfirmationPolicy.IGNORE),
            VirtualPhone("79161110004", OPERATOR, Money(10_00, "RUB")),
            VirtualPhone("79031110005", "beeline", Money(100_00, "RUB")),
        ]
    )


@pytest.fixture
async def operator(
    phones: PhoneBook, clock: FakeClock, sleep: RecordedSleep
) -> AsyncIterator[OperatorSimulator]:
    async with OperatorSimulator(OPERATOR, SECRET, phones, clock=clock, sleep=sleep) as sim:
        yield sim


@pytest.fixture
async def receiver(clock: FakeClock) -> AsyncIterator[CallbackReceiver]:
    receiver = CallbackReceiver(clock)
    await receiver.start()
    yield receiver
    await receiver.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def gateway(
    operator: OperatorSimulator, session: aiohttp.ClientSession, clock: FakeClock
) -> HttpChargingClient:
    return HttpChargingClient(operator.base_url, SECRET, session, timeout=GUARD, clock=clock)


def make_charge(msisdn: str, amount_minor: int = 60_00, charge_id: str = "ch-1") -> Charge:
    return new_charge(
        charge_id=charge_id,
        phone=msisdn,
        operator_id=OPERATOR,
        amount=Money(amount_minor, "RUB"),
        purpose="session-1",
        now=START,
    )


async def settled(operator: OperatorSimulator) -> None:
    async with asyncio.timeout(GUARD):
        await operator.settle()
