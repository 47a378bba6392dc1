"""Top-up of the parking account from the phone's own account, through the operator's
confirmation flow and within its limits."""

from __future__ import annotations

import pytest

from smsgw.domain.money import Money
from smsgw.service.driver_actions import (
    ActionRefusedError,
    BadRequestError,
    DriverActions,
    NotFoundError,
)

from ..service.harness import OTHER_PHONE, PHONE, Harness
from .actions_steps import topped_up

YOTA_PHONE = "79990001122"


async def test_a_confirmed_top_up_lands_on_the_parking_account(
    harness: Harness, actions: DriverActions
) -> None:
    started = await actions.top_up(PHONE, Money(50_000, "RUB"))
    assert started.state == "awaiting_confirmation"
    assert "7701" in started.message
    await actions.drain()
    [request] = harness.charging["mts"].requests
    assert request.charge.amount == Money(50_000, "RUB")
    assert request.charge.purpose == "top_up"
    assert request.text == "Parking account top-up. Pay 500 RUB?"
    assert await harness.flush() == []  # the web answer said where to confirm
    status, _ = await harness.callback(started.charge_id, "confirmed")
    assert status == 200
    assert await harness.flush() == [
        "Parking account topped up by 500 RUB. Parking account 500 RUB"
    ]
    assert await harness.balance() == 50_000
    assert await harness.ledger_count("charge_confirmed") == 1
    assert (await actions.charge(PHONE, started.charge_id)).state == "confirmed"
    # a replayed confirmation moves nothing
    await harness.callback(started.charge_id, "confirmed")
    assert await harness.balance() == 50_000
    await harness.assert_books_balance()


async def test_a_declined_top_up_moves_nothing(harness: Harness, actions: DriverActions) -> None:
    started = await actions.top_up(PHONE, Money(50_000, "RUB"))
    await actions.drain()
    await harness.callback(started.charge_id, "declined")
    assert await harness.flush() == ["Top-up of 500 RUB declined. The parking account is unchanged"]
    assert await harness.balance() == 0
    assert (await actions.charge(PHONE, started.charge_id)).state == "declined"


async def test_an_unanswered_top_up_expires_and_a_late_confirmation_still_lands(
    harness: Harness, actions: DriverActions
) -> None:
    started = await actions.top_up(PHONE, Money(50_000, "RUB"))
    await actions.drain()
    [expired] = await harness.run_due(minutes=16)
    assert expired.startswith("Top-up of 500 RUB not confirmed in time")
    assert (await actions.charge(PHONE, started.charge_id)).state == "expired"
    await harness.callback(started.charge_id, "confirmed")
    assert await harness.flush() == [
        "Parking account topped up by 500 RUB. Parking account 500 RUB"
    ]
    assert await harness.balance() == 50_000
    await harness.assert_books_balance()


async def test_sms_status_shows_a_pending_top_up_and_refuses_a_second(
    harness: Harness, actions: DriverActions
) -> None:
    await actions.top_up(PHONE, Money(50_000, "RUB"))
    await actions.drain()
    [status] = await harness.mo("I")
    assert status.startswith("Top-up of 500 RUB is waiting for your confirmation to 7701")
    with pytest.raises(ActionRefusedError) as refused:
        await actions.top_up(PHONE, Money(10_000, "RUB"))
    assert refused.value.reply_key == "pay.pending_exists"
    [pay_refused] = await harness.mo("1001*A123BC77*1")  # one charge at a time, as for SMS
    assert "7701" in pay_refused


async def test_top_ups_keep_to_the_operators_limits(
    harness: Harness, actions: DriverActions
) -> None:
    with pytest.raises(ActionRefusedError) as refused:
        await actions.top_up(PHONE, Money(2_000_000, "RUB"))  # MTS: at most 14 999 a payment
    assert refused.value.reply_key == "limit.max_per_payment"
    assert refused.value.message
    await actions.drain()
    assert harness.charging["mts"].requests == []


async def test_an_operator_without_top_up_or_payments_refuses(
    harness: Harness, actions: DriverActions
) -> None:
    await harness.mo("I", phone=OTHER_PHONE, operator="tinytel")  # its file: no top_up
    with pytest.raises(ActionRefusedError) as refused:
        await actions.top_up(OTHER_PHONE, Money(5_000, "RUB"))
    assert refused.value.reply_key == "topup.unavailable"
    assert await actions.top_up_methods(OTHER_PHONE) == []
    await harness.mo("I", phone=YOTA_PHONE, operator="yota")
    with pytest.raises(ActionRefusedError) as unsupported:
        await actions.top_up(YOTA_PHONE, Money(5_000, "RUB"))
    assert unsupported.value.reply_key == "operator.unsupported"


async def test_a_top_up_in_another_currency_is_a_bad_request(
    harness: Harness, actions: DriverActions
) -> None:
    with pytest.raises(BadRequestError) as bad:
        await actions.top_up(PHONE, Money(5_000, "KZT"))
    assert bad.value.field == "amount"


async def test_the_methods_name_the_phones_operator_and_its_limits(
    harness: Harness, actions: DriverActions
) -> None:
    [method] = await actions.top_up_methods(PHONE)  # never texted: its number range's
    assert (method.kind, method.operator) == ("mobile", "mts")
    assert method.min == Money(100, "RUB")
    assert method.max == Money(1_499_900, "RUB")  # operators/mts.toml


async def test_someone_elses_charge_is_not_found(harness: Harness, actions: DriverActions) -> None:
    started = await actions.top_up(PHONE, Money(50_000, "RUB"))
    with pytest.raises(NotFoundError):
        await actions.charge(OTHER_PHONE, started.charge_id)
    with pytest.raises(NotFoundError):
        await actions.charge(PHONE, "chg_made_up")


async def test_a_top_up_then_pays_from_the_account_without_a_charge(
    harness: Harness, actions: DriverActions
) -> None:
    await topped_up(harness, actions, 20_000)
    paid = await actions.pay(PHONE, "1001", "A123BC77", 2)
    assert paid.outcome == "started"
    assert paid.balance.minor == 8_000
    await actions.drain()
    assert len(harness.charging["mts"].requests) == 1  # the top-up's only
    await harness.assert_books_balance()
