"""Steps the driver tests share: top up through the operator's confirmation."""

from __future__ import annotations

from smsgw.domain.money import Money
from smsgw.service.driver_actions import DriverActions

from ..service.harness import PHONE, Harness


async def topped_up(
    harness: Harness, actions: DriverActions, minor: int, phone: str = PHONE
) -> list[str]:
    """Top the phone's parking account up by `minor` kopecks, the subscriber confirming;
    the SMS the phone got."""
    started = await actions.top_up(phone, Money(minor, "RUB"))
    await actions.drain()
    status, _ = await harness.callback(started.charge_id, "confirmed")
    assert status == 200
    return await harness.flush(phone)
