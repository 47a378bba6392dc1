"""The whole operator side in one object: the SMSC, each operator's charging API and the
virtual phones, built from config.toml so it matches the gateway's links and charging
settings by construction (same ports, credentials and secrets).

Phones are created on first use with the operator a number range names, or the first
operator; every text the gateway sends lands in the phone's inbox next to the operator's
own confirmation requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from simulator.config import SmscSettings, smsc_settings_from_config
from simulator.operator import OperatorSimulator
from simulator.phones import ConfirmationPolicy, PhoneBook, VirtualPhone
from simulator.smsc import ReceivedMt, SimulatedSmsc
from smsgw.domain.money import Money

DEFAULT_PHONE_BALANCE_MINOR = 1000_00


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
        endpoints.append(
            OperatorEndpoint(
                operator, url.hostname or "127.0.0.1", url.port or 80, settings["secret"]
            )
        )
    return endpoints


class SimulatedWorld:
    def __init__(
        self,
        smsc_settings: SmscSettings,
        endpoints: list[OperatorEndpoint],
        *,
        short_number: str = "7757",
    ) -> None:
        self.short_number = short_number
        self.phones = PhoneBook()
        self.smsc = SimulatedSmsc(smsc_settings, on_mt=self._deliver_to_phone)
        self.operators = {
            e.operator: OperatorSimulator(
                e.operator, e.secret, self.phones, host=e.host, port=e.port
            )
            for e in endpoints
        }
        self.operator_ids = sorted({a.operator for a in smsc_settings.accounts})

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SimulatedWorld:
        gateway = dict(config.get("gateway", {}))
        return cls(
            smsc_settings_from_config(config),
            operator_endpoints(config),
            short_number=str(gateway.get("short_number", "7757")),
        )

    async def start(self) -> None:
        await self.smsc.start()
        for operator in self.operators.values():
            await operator.start()

    async def close(self) -> None:
        for operator in self.operators.values():
            await operator.close()
        await self.smsc.close()

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

    async def text(self, msisdn: str, text: str) -> int:
        """The phone texts the gateway's short number; the SMSC's deliver_sm status."""
        phone = self.phone(msisdn)
        return await self.smsc.send_mo(phone.operator_id, msisdn, self.short_number, text)

    def _deliver_to_phone(self, message: ReceivedMt) -> None:
        phone = self.phones.get(message.destination)
        if phone is not None:
            phone.receive(message.source, message.text)
