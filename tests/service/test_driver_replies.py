"""What drivers are told: a plate moved between zones, why a payment failed and what to
do next, a pending payment in `I`, examples that work here, refusals that help.
Each test is a driver's report made executable."""

from __future__ import annotations

from datetime import datetime

from smsgw.domain.charges import ChargeState
from smsgw.service.ports import ChargeOutcome

from .harness import OTHER_PHONE, PHONE, Harness

PLATE = "A123BC77"


async def _plate_paid_in(harness: Harness, zone: str) -> datetime | None:
    status = await harness.svc.messages.plate_status(PLATE, zone, harness.clock.now())
    if status is None:
        return None
    until = status["until"]
    assert isinstance(until, datetime)
    return until


async def test_paying_in_another_zone_moves_the_plate_and_refunds_the_old_payer(
    harness: Harness,
) -> None:
    harness.charging["mts"].request_default = ChargeOutcome.CONFIRMED
    harness.charging["beeline"].request_default = ChargeOutcome.CONFIRMED
    await harness.mo(f"3601*{PLATE}*4")  # 160 RUB, until 13:00
    harness.clock.advance(minutes=41)

    texts = await harness.mo(f"1001*{PLATE}*3", phone=OTHER_PHONE, operator="beeline")

    # 41 of the 240 minutes used (27.34 RUB): 132.66 RUB back to the first phone
    assert texts == [
        "To pay 180 RUB, reply 1 to the SMS from Beeline",
        "A123BC77 moved from zone 3601, refunded 132.66 RUB. Parking 1001 A123BC77 until"
        " 12:41. Paid 180 RUB. Parking account 0 RUB",
    ]
    assert await _plate_paid_in(harness, "3601") is None
    assert await _plate_paid_in(harness, "1001") is not None
    assert await harness.balance() == 13266  # the first payer's parking account
    # and the first payer is told why its parking stopped
    assert [sms.text for sms in harness.all_sent() if sms.outbox_id.startswith("moved:")] == [
        "Parking 3601 A123BC77 stopped at 09:41: the plate was paid in another zone."
        " Refunded 132.66 RUB. Parking account 132.66 RUB"
    ]
    assert {sms.receiver for sms in harness.all_sent() if sms.outbox_id.startswith("moved:")} == {
        PHONE
    }
    await harness.assert_books_balance()


async def test_a_move_paid_from_the_account_stops_the_old_zone_at_once(harness: Harness) -> None:
    harness.charging["mts"].request_default = ChargeOutcome.CONFIRMED
    await harness.mo(f"3601*{PLATE}*4")
    await harness.mo(f"S*{PLATE}")  # 160 RUB back on the account
    await harness.mo(f"3601*{PLATE}*1")  # 40 RUB from the account: 120 RUB left
    texts = await harness.mo(f"1001*{PLATE}*1")  # 60 RUB, from the account plus the refund
    assert texts == [
        "A123BC77 moved from zone 3601, refunded 40 RUB. Parking 1001 A123BC77 until 10:00."
        " Paid 60 RUB. Parking account 100 RUB"
    ]
    assert await _plate_paid_in(harness, "3601") is None
    assert len(harness.charging["mts"].requests) == 1
    await harness.assert_books_balance()


async def test_insufficient_funds_is_named_with_what_to_do(harness: Harness) -> None:
    await harness.mo(f"1001*{PLATE}*2")
    await harness.callback(harness.last_charge_id(), "failed", reason="insufficient_funds")
    assert await harness.flush() == [
        "1001 A123BC77: not enough money on your phone for 120 RUB. Top up the phone and"
        " send the command again"
    ]


async def test_beeline_says_what_must_remain_on_the_phone(harness: Harness) -> None:
    await harness.mo(f"1001*{PLATE}*2", operator="beeline")
    charge_id = harness.last_charge_id("beeline")
    await harness.callback(charge_id, "failed", operator="beeline", reason="insufficient_funds")
    assert await harness.flush() == [
        "1001 A123BC77: not enough money on your phone for 120 RUB (10 RUB must stay on it)."
        " Top up the phone and send the command again"
    ]


async def test_other_reasons_are_told_apart(harness: Harness) -> None:
    await harness.mo(f"1001*{PLATE}*2")
    await harness.callback(harness.last_charge_id(), "failed", reason="subscriber_barred")
    assert await harness.flush() == [
        "1001 A123BC77: your operator bars paying 120 RUB from this number. Call your operator"
    ]
    await harness.mo(f"1001*{PLATE}*2")
    await harness.callback(harness.last_charge_id(), "failed", reason="operator_limit")
    assert (await harness.flush())[-1].startswith("1001 A123BC77: 120 RUB is over your operator")


async def test_status_shows_a_payment_waiting_for_confirmation(harness: Harness) -> None:
    await harness.mo(f"1001*{PLATE}*2")
    assert await harness.mo("I") == [
        "Payment 1001 A123BC77 120 RUB is waiting for your confirmation to 7701."
        " Parking account 0 RUB"
    ]
    assert await harness.mo("1") == [
        "Payment of 120 RUB: reply 1 or 0 to the SMS from 7701, not here"
    ]
    pending = await harness.pending()
    assert pending is not None and pending.charge.state is not ChargeState.DECLINED


async def test_the_operator_is_asked_in_the_phone_language_with_the_amount(
    harness: Harness,
) -> None:
    await harness.mo("LANG*RU")
    await harness.mo(f"1001*{PLATE}*3")
    text = harness.charging["mts"].requests[-1].text
    assert text == "Парковка: зона 1001, A123BC77, 3 ч. Списать 180 ₽?"


async def test_examples_name_an_existing_zone_and_its_plate_format(harness: Harness) -> None:
    # an unknown zone: the example shows one that exists, never the unknown one
    assert await harness.mo("9999*A123ZZ77*3") == [
        "Plate A123ZZ77 not recognised. Example: 1001*A123BC77*3"
    ]
    # a Kazakh zone is shown a Kazakh plate
    assert await harness.mo("7001*123ABC*2") == [
        "Plate 123ABC not recognised. Example: 7001*123ABC02*2"
    ]
    # over the zone's own maximum: the maximum, and an example with it
    assert await harness.mo(f"1003*{PLATE}*5") == [
        "This zone allows at most 3 h. Example: 1003*A123BC77*3"
    ]


async def test_a_phone_of_another_currency_is_told_the_zone_city(harness: Harness) -> None:
    assert await harness.mo("7001*123ABC02*1") == [
        "Zone 7001 is in Almaty: it cannot be paid from a MTS number. Pay in the city"
        " parking app or website"
    ]
    assert harness.charging["mts"].requests == []


async def test_replies_name_the_parking_account_in_russian(harness: Harness) -> None:
    await harness.mo("LANG*RU")
    assert await harness.mo("I") == ["Активных парковок нет. Парковочный счёт 0 ₽"]
