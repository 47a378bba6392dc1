"""The whole system on one loop, every part real: the gateway (`start_gateway`: SQLite,
HTTP, SMPP links), the simulator's SMSC and operators' charging APIs, virtual phones.

Time is a settable clock shared by the gateway and the simulated operators (callbacks are
signed with it), so reminders and expiries are driven by moving it and running the
scheduler, never by sleeping.
"""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from simulator.config import SmscAccount, SmscSettings
from simulator.operator import OperatorSimulator
from simulator.phones import ConfirmationPolicy, PhoneBook, VirtualPhone
from simulator.smsc import SimulatedSmsc
from smsgw.bootstrap import RunningGateway, start_gateway
from smsgw.config import AppConfig, config_from_mapping, read_operator_files
from smsgw.domain.ledger import Account
from smsgw.domain.money import Money
from smsgw.service.store_port import Tx
from smsgw.transport.smpp_client import LinkTimer
from tests.e2e.sendsms_bridge import start_sendsms_bridge

REPO = Path(__file__).resolve().parents[2]
SHORT_NUMBER = "7757"
TOKEN = "e2e-ops-token-0123456789"  # 16+ bytes: `smsgw serve` refuses less
# Tuesday 10 March 2026, 09:00 in Moscow: zone 1001 is paid 08:00-20:00
T0 = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
CHARGING_OPERATORS = ("mts", "beeline")
ALL_DAY = [{"days": "Mon-Sun", "from": "00:00", "to": "24:00"}]
# zones paid around the clock: results that must not depend on the hour; 9002 is dear
# enough for 24 hours to break every operator's per-payment maximum
TEST_ZONES = [
    {
        "number": "9001",
        "name": "Test 24/7",
        "time_zone": "Europe/Moscow",
        "currency": "RUB",
        "price_per_hour": "60.00",
        "paid": ALL_DAY,
    },
    {
        "number": "9002",
        "name": "Test dear",
        "time_zone": "Europe/Moscow",
        "currency": "RUB",
        "price_per_hour": "1000.00",
        "paid": ALL_DAY,
    },
]
LINK_OPERATORS = ("mts", "beeline", "yota")
# the HTTP (kannel) link of the rig: MO over HTTP must name it and carry its secret
HTTP_LINK = "mts-http"
HTTP_LINK_SECRET = "mts-http-e2e-secret-0123"


@dataclass
class SettableClock:
    current: datetime = T0

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> datetime:
        self.current += delta
        return self.current


@dataclass
class Rig:
    gateway: RunningGateway
    smsc: SimulatedSmsc
    operators: dict[str, OperatorSimulator]
    phones: PhoneBook
    clock: SettableClock
    sent: dict[str, int] = field(default_factory=dict)

    def phone(
        self,
        msisdn: str,
        operator: str = "mts",
        rubles: int = 1000,
        policy: ConfirmationPolicy = ConfirmationPolicy.CONFIRM,
    ) -> VirtualPhone:
        return self.phones.add(VirtualPhone(msisdn, operator, Money(rubles * 100, "RUB"), policy))

    async def text(self, msisdn: str, text: str) -> int:
        """The phone texts the short number; returns the SMSC's deliver_sm status."""
        operator = self.phones.require(msisdn).operator_id
        return await self.smsc.send_mo(operator, msisdn, SHORT_NUMBER, text)

    async def replies(self, msisdn: str, count: int) -> list[str]:
        """Wait until `msisdn` got `count` texts from the gateway; returns all of them."""
        return await self.smsc.wait_for_texts(msisdn, count)

    async def converse(self, msisdn: str, text: str, expect: int = 1) -> list[str]:
        """Text and wait for `expect` new replies; returns just those."""
        before = len(self.smsc.inbox[msisdn])
        await self.text(msisdn, text)
        texts = await self.replies(msisdn, before + expect)
        return texts[before:]

    async def settle(self) -> None:
        for operator in self.operators.values():
            await operator.settle()

    async def run_due(self) -> None:
        await self.gateway.service.scheduler.run_due(self.clock.now())

    async def balance(self, msisdn: str) -> Money:
        async def read(tx: Tx) -> Money:
            return await tx.balance(Account.phone(msisdn, "RUB"))

        return await self.gateway.store.transact(read)


def gateway_config(
    tmp_path: Path, smsc_port: int, operators: dict[str, str], sendsms_url: str = ""
) -> AppConfig:
    raw: dict[str, Any] = tomllib.loads((REPO / "config.toml").read_text("utf-8"))
    raw.pop("simulator", None)
    raw["zones"] = [*raw["zones"], *TEST_ZONES]
    raw["storage"] = {"dsn": f"sqlite:///{tmp_path / 'gateway.sqlite3'}"}
    raw["http"] = {"host": "127.0.0.1", "port": 0, "api_token": TOKEN}
    raw["logging"] = {"level": "warning", "json": True}
    raw["links"] = [
        {
            "id": f"{operator}-1",
            "operator": operator,
            "type": "smpp",
            "port": smsc_port,
            "system_id": f"gw-{operator}",
            "password": "pw",
            "enquire_link_seconds": 30,
        }
        for operator in LINK_OPERATORS
    ]
    if sendsms_url:
        raw["links"].append(
            {
                "id": HTTP_LINK,
                "operator": "mts",
                "type": "kannel",
                "sendsms_url": sendsms_url,
                "secret": HTTP_LINK_SECRET,
            }
        )
    raw["charging"] = {
        operator: {"url": url, "secret": secret_for(operator)}
        for operator, url in operators.items()
    }
    return config_from_mapping(raw, read_operator_files(REPO / "operators"))


def secret_for(operator: str) -> str:
    return f"{operator}-e2e-secret-0123456789"


@asynccontextmanager
async def running_rig(tmp_path: Path, link_timer: LinkTimer | None = None) -> AsyncIterator[Rig]:
    clock = SettableClock()
    accounts = tuple(SmscAccount(f"gw-{op}", "pw", op) for op in LINK_OPERATORS)
    smsc = SimulatedSmsc(SmscSettings("127.0.0.1", 0, accounts))
    await smsc.start()
    phones = PhoneBook()
    operators = {
        op: OperatorSimulator(op, secret_for(op), phones, clock=clock.now)
        for op in CHARGING_OPERATORS
    }
    for operator in operators.values():
        await operator.start()
    bridge = await start_sendsms_bridge(smsc, "mts")
    config = gateway_config(
        tmp_path,
        smsc.port,
        {op: sim.base_url for op, sim in operators.items()},
        f"{bridge.base_url}/cgi-bin/sendsms",
    )
    gateway = await start_gateway(config, clock=clock, link_timer=link_timer)
    try:
        await gateway.wait_links_bound()
        yield Rig(gateway, smsc, operators, phones, clock)
    finally:
        await gateway.stop()
        await bridge.close()
        for operator in operators.values():
            await operator.close()
        await smsc.close()
