"""The flows of docs/rules.md end to end over SMPP: a phone texts the simulator's SMSC, the gateway
binds to it, charges through the simulated operator and texts back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from simulator.phones import ConfirmationPolicy
from smsgw.domain.money import Money
from smsgw.smpp.constants import CommandStatus
from tests.e2e.rig import Rig, running_rig

DRIVER = "79161234567"
SECOND = "79031112233"


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    async with running_rig(tmp_path) as rig:
        yield rig


async def test_pay_with_operator_confirmation(rig: Rig) -> None:
    phone = rig.phone(DRIVER, rubles=500)
    assert await rig.text(DRIVER, "1001*а123вс77*2") == CommandStatus.ESME_ROK
    await rig.settle()
    asked, started = await rig.replies(DRIVER, 2)
    assert "120" in asked  # the amount the operator will ask to confirm
    assert "A123BC77" in started and "1001" in started and "11:00" in started
    assert phone.texts_from("7701"), "the operator asks the subscriber to confirm"
    assert phone.balance == Money(500_00 - 120_00, "RUB")
    assert await rig.balance(DRIVER) == Money(0, "RUB")  # all of it paid the session


async def test_status_lists_the_session_and_balance(rig: Rig) -> None:
    rig.phone(DRIVER)
    await rig.text(DRIVER, "1001*A123BC77*1")
    await rig.settle()
    await rig.replies(DRIVER, 2)
    (status,) = await rig.converse(DRIVER, "I")
    assert "A123BC77" in status and "10:00" in status


async def test_stop_refunds_to_the_parking_account_then_pay_from_balance(rig: Rig) -> None:
    phone = rig.phone(DRIVER, rubles=500)
    await rig.text(DRIVER, "1001*A123BC77*2")
    await rig.settle()
    await rig.replies(DRIVER, 2)
    rig.clock.advance(timedelta(minutes=30))
    (stopped,) = await rig.converse(DRIVER, "S")
    assert "90" in stopped  # 90 minutes unused of 120 → 90.00 back
    assert await rig.balance(DRIVER) == Money(90_00, "RUB")
    charged_before = phone.balance
    (started,) = await rig.converse(DRIVER, "1001*B456CE77*1")  # 60.00 from the balance
    assert "B456CE77" in started
    assert phone.balance == charged_before, "paid from the parking account, no charge"
    assert await rig.balance(DRIVER) == Money(30_00, "RUB")


async def test_extend_and_ambiguity(rig: Rig) -> None:
    rig.phone(DRIVER)
    for count, plate in ((2, "A123BC77"), (4, "B456CE77")):
        await rig.text(DRIVER, f"1001*{plate}*1")
        await rig.replies(DRIVER, count)  # asked to confirm, then started
    (ambiguous,) = await rig.converse(DRIVER, "X*1")
    assert "A123BC77" in ambiguous and "B456CE77" in ambiguous
    await rig.text(DRIVER, "X*1*A123BC77")
    await rig.settle()
    texts = await rig.replies(DRIVER, 7)
    assert "11:00" in texts[-1] and "A123BC77" in texts[-1]


async def test_declined_confirmation_starts_nothing(rig: Rig) -> None:
    phone = rig.phone(DRIVER, policy=ConfirmationPolicy.DECLINE)
    await rig.text(DRIVER, "1001*A123BC77*2")
    await rig.settle()
    _, declined = await rig.replies(DRIVER, 2)
    assert "A123BC77" in declined
    assert phone.balance == Money(1000_00, "RUB")
    (status,) = await rig.converse(DRIVER, "I")
    assert "A123BC77" not in status


async def test_unanswered_confirmation_expires(rig: Rig) -> None:
    phone = rig.phone(DRIVER, policy=ConfirmationPolicy.IGNORE)
    await rig.text(DRIVER, "1001*A123BC77*2")
    await rig.replies(DRIVER, 1)
    rig.clock.advance(timedelta(minutes=16))
    await rig.run_due()
    texts = await rig.replies(DRIVER, 2)
    assert "A123BC77" in texts[-1]
    assert phone.balance == Money(1000_00, "RUB")


async def test_reminder_and_end_notice_once_each(rig: Rig) -> None:
    rig.phone(DRIVER)
    await rig.text(DRIVER, "1001*A123BC77*1")
    await rig.settle()
    await rig.replies(DRIVER, 2)
    rig.clock.advance(timedelta(minutes=50))
    await rig.run_due()
    await rig.run_due()
    reminder = (await rig.replies(DRIVER, 3))[-1]
    assert "10:00" in reminder and "X" in reminder.upper()
    rig.clock.advance(timedelta(minutes=10))
    await rig.run_due()
    await rig.run_due()
    texts = await rig.replies(DRIVER, 4)
    assert "A123BC77" in texts[-1]
    await rig.converse(DRIVER, "?")  # a later reply proves nothing more was queued before
    assert len(rig.smsc.inbox[DRIVER]) == 5


async def test_limit_refusal_names_the_limit_and_charges_nothing(rig: Rig) -> None:
    rig.phone(DRIVER, operator="beeline", rubles=100_000)
    # 24 hours in zone 9002 cost 24 000 RUB: over Beeline's 15 000 per payment
    (refused,) = await rig.converse(DRIVER, "9002*A123BC77*24")
    assert "15 000" in refused
    (status,) = await rig.converse(DRIVER, "I")  # processed after the refusal
    assert "A123BC77" not in status
    assert rig.operators["beeline"].calls == []


async def test_yota_is_told_to_pay_another_way(rig: Rig) -> None:
    rig.phone(SECOND, operator="yota")
    (reply,) = await rig.converse(SECOND, "1001*A123BC77*1")
    assert "Yota" in reply


async def test_bad_text_gets_an_example(rig: Rig) -> None:
    rig.phone(DRIVER)
    (reply,) = await rig.converse(DRIVER, "1001*A1*2")
    assert "1001*A123BC77" in reply
