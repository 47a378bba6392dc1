"""What `smsgw bench` found in the gateway, kept fixed.

The SMPP intake remembers each MO's content for the redelivery window. Forgetting used
to scan every remembered key on every MO once there were 10 000 of them: a link past
10 000 MOs in ten minutes fell from ~1 600 to 100–180 MO/s (bench/README.md). Forgetting
now takes the expired keys from the front, oldest first.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from smsgw.service.messages import InboundSms
from smsgw.smpp.pdu import DeliverSm
from smsgw.smpp.text import encode_text
from smsgw.transport.smpp_mo import REDELIVERY_WINDOW_SECONDS, SmppInbound

T0 = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
UCS2 = 8


class Intake:
    """An `SmppInbound` with a hand-moved clock that keeps what it accepted."""

    def __init__(self) -> None:
        self.now = T0
        self.accepted: list[InboundSms] = []
        self.inbound = SmppInbound(
            link_id="mts-1",
            operator_id="mts",
            accept_mo=self._accept,
            accept_receipt=self._receipt,
            clock=lambda: self.now,
        )

    async def _accept(self, sms: InboundSms) -> bool:
        self.accepted.append(sms)
        return True

    async def _receipt(self, *_: object) -> bool:
        return True

    async def deliver(self, sender: str, text: str) -> str:
        pdu = DeliverSm(
            source_addr=sender,
            destination_addr="7757",
            data_coding=UCS2,
            short_message=encode_text(text, UCS2),
        )
        await self.inbound.on_deliver(pdu)
        return self.accepted[-1].dedup_key


class CountingKeys(OrderedDict[str, Any]):
    """The intake's memory, counting every key its forgetting looks at."""

    examined = 0

    def __iter__(self) -> Iterator[str]:
        for key in super().__iter__():
            self.examined += 1
            yield key

    def items(self) -> Iterator[tuple[str, Any]]:  # type: ignore[override]
        for key in self:
            yield key, self[key]


async def test_forgetting_costs_little_per_message_and_keeps_one_window() -> None:
    intake = Intake()
    keys = CountingKeys()
    intake.inbound._recent = keys
    deliveries = 12_000  # 1.2 windows of distinct texts, past the old 10 000 mark
    step = timedelta(seconds=REDELIVERY_WINDOW_SECONDS / 10_000)
    for n in range(deliveries):
        await intake.deliver(f"7900{n:07d}", "I")
        intake.now += step
    assert keys.examined <= 3 * deliveries, "forgetting looks at a few keys per message"
    assert 9_999 <= len(keys) <= 10_001, "only the last window's keys are kept"
