"""Paying (docs/rules.md §2–§6): the operator's confirmation, the parking account first, the
operator's minimum and limits, and every refusal with the reply that names it."""

from __future__ import annotations

from datetime import UTC, datetime

from smsgw.domain.charges import ChargeState
from smsgw.service.ports import ChargeOutcome

from .harness import OTHER_PHONE, PHONE, Harness

PLATE = "A123BC77"


async def test_pay_with_operator_confirmation_starts_one_session(harness: Harness) -> None:
    asked = await harness.mo(f"1001*{PLATE}*2")
    assert asked == ["To pay 120 RUB, reply 1 to the SMS from 7701"]
    [call] = harness.charging["mts"].requests
    assert call.charge.amount.minor == 12000 and call.charge.phone == PHONE
    assert call.callback_url == "https://gw.example/charging/mts/callback"
    assert not call.confirmed_by_subscriber
    assert await harness.paid_until(PLATE) is None  # nothing starts before the money

    status, body = await harness.callback(call.charge.id)

    assert (status, body["status"]) == (200, "stored")
    assert await harness.flush() == [
        "Parking 1001 A123BC77 until 11:00. Paid 120 RUB. Parking account 0 RUB"
    ]
    assert await harness.paid_until(PLATE) == datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
    assert await harness.assert_books_balance() == {
        "operator:mts:RUB": -12000,
        "revenue:1001:RUB": 12000,
    }
    assert await harness.pending() is None


async def test_a_final_answer_to_the_request_needs_no_callback(harness: Harness) -> None:
    harness.charging["mts"].request_default = ChargeOutcome.CONFIRMED
    texts = await harness.mo(f"1001*{PLATE}*1")
    assert "Parking 1001 A123BC77 until 10:00. Paid 60 RUB. Parking account 0 RUB" in texts
    assert await harness.assert_books_balance() == {
        "operator:mts:RUB": -6000,
        "revenue:1001:RUB": 6000,
    }


async def _balance_of(harness: Harness, minor: int, phone: str = PHONE, op: str = "mts") -> None:
    """Put `minor` on the phone's parking account the way a driver would: pay two hours
    (confirmed), then stop early; the unused part comes back to the account."""
    harness.charging[op].request_default = ChargeOutcome.CONFIRMED
    await harness.mo("1001*X001XX77*2", phone=phone, operator=op)
    used_minutes = (12000 - minor) // 100  # 60 RUB/h is 1 RUB a minute
    harness.clock.advance(minutes=used_minutes)
    await harness.mo("S*X001XX77", phone=phone, operator=op)
    harness.charging[op].request_default = ChargeOutcome.ACCEPTED
    assert await harness.balance(phone) == minor


async def test_pay_from_the_balance_alone_asks_the_operator_nothing(harness: Harness) -> None:
    await _balance_of(harness, 9000)
    requests_before = len(harness.charging["mts"].requests)

    texts = await harness.mo(f"1001*{PLATE}*1")

    assert texts == ["Parking 1001 A123BC77 until 10:30. Paid 60 RUB. Parking account 30 RUB"]
    assert len(harness.charging["mts"].requests) == requests_before
    assert await harness.balance() == 3000
    assert await harness.paid_until(PLATE) is not None
    await harness.assert_books_balance()


async def test_only_the_shortfall_is_charged(harness: Harness) -> None:
    await _balance_of(harness, 3000)
    await harness.mo(f"1001*{PLATE}*1")
    call = harness.charging["mts"].requests[-1]
    assert call.charge.amount.minor == 3000  # 60 RUB price, 30 RUB already on the account

    await harness.callback(call.charge.id)

    assert await harness.flush() == [
        "Parking 1001 A123BC77 until 11:30. Paid 60 RUB. Parking account 0 RUB"
    ]
    assert await harness.balance() == 0
    books = await harness.assert_books_balance()
    assert books["revenue:1001:RUB"] == 9000 + 6000  # the stopped session's used part too


async def test_a_shortfall_below_the_minimum_is_charged_as_the_minimum(harness: Harness) -> None:
    await _balance_of(harness, 5500, op="beeline")  # Beeline: at least 10 RUB a payment
    await harness.mo(f"1001*{PLATE}*1", operator="beeline")
    call = harness.charging["beeline"].requests[-1]
    assert call.charge.amount.minor == 1000  # the shortfall is 5 RUB

    await harness.callback(call.charge.id, operator="beeline")

    [text] = await harness.flush()
    assert text == (
        "Parking 1001 A123BC77 until 11:05, 60 RUB. The minimum charge 10 RUB was taken."
        " Parking account 5 RUB"
    )
    assert await harness.balance() == 500
    await harness.assert_books_balance()


async def test_a_limit_refusal_names_the_limit_and_asks_for_nothing(harness: Harness) -> None:
    texts = await harness.mo(f"1001*{PLATE}*2", operator="tinytel")  # 120 RUB > 100 RUB a payment
    assert texts == ["120 RUB is over the TinyTel limit per payment, 100 RUB"]
    assert harness.charging["tinytel"].requests == []
    assert await harness.pending() is None
    assert await harness.assert_books_balance() == {}


async def test_the_day_limit_counts_earlier_charges(harness: Harness) -> None:
    harness.charging["tinytel"].request_default = ChargeOutcome.CONFIRMED
    await harness.mo(f"1001*{PLATE}*1", operator="tinytel")  # 60 RUB of 150 RUB a day
    await harness.mo("1001*B456CE77*1", operator="tinytel")  # 120 RUB
    texts = await harness.mo("1001*C789EK77*1", operator="tinytel")  # would make 180 RUB
    assert texts == ["60 RUB would exceed the TinyTel daily limit of 150 RUB"]
    assert len(harness.charging["tinytel"].requests) == 2


async def test_yota_is_told_to_pay_another_way(harness: Harness) -> None:
    texts = await harness.mo(f"1001*{PLATE}*2", operator="yota")
    assert texts == [
        "Paying by SMS is not available on Yota. Pay in the city parking app or website,"
        " or at a parking meter"
    ]
    assert await harness.assert_books_balance() == {}


async def test_a_declined_charge_cancels_the_payment(harness: Harness) -> None:
    await harness.mo(f"1001*{PLATE}*2")
    status, _ = await harness.callback(harness.last_charge_id(), "declined")
    assert status == 200
    assert await harness.flush() == ["Payment of 120 RUB for 1001 A123BC77 declined. Not started"]
    assert await harness.paid_until(PLATE) is None
    assert await harness.pending() is None
    assert await harness.assert_books_balance() == {}
    # the plate may be paid for again at once
    assert (await harness.mo(f"1001*{PLATE}*2"))[0].startswith("To pay 120 RUB")


async def test_an_operator_refusal_fails_the_payment(harness: Harness) -> None:
    harness.charging["mts"].request_default = ChargeOutcome.FAILED
    texts = await harness.mo(f"1001*{PLATE}*2")
    # both in the same instant of the test's clock, so their order is the outbox ids'
    assert "1001 A123BC77: the operator did not take 120 RUB. Try again later" in texts
    assert await harness.assert_books_balance() == {}


async def test_no_answer_in_time_expires_the_payment(harness: Harness) -> None:
    await harness.mo(f"1001*{PLATE}*2")
    assert await harness.run_due(minutes=14) == []
    texts = await harness.run_due(minutes=2)
    assert texts == [
        "1001 A123BC77: payment of 120 RUB not confirmed in time. Send the command again"
        " and reply 1 to the SMS from 7701"
    ]
    stored = await harness.db.transact(lambda tx: tx.get_charge(harness.last_charge_id()))
    assert stored is not None and stored.charge.state is ChargeState.EXPIRED
    assert await harness.paid_until(PLATE) is None
    assert await harness.assert_books_balance() == {}


async def test_a_confirmation_after_the_timeout_still_reaches_the_account(
    harness: Harness,
) -> None:
    await harness.mo(f"1001*{PLATE}*2")
    await harness.run_due(minutes=16)

    status, _ = await harness.callback(harness.last_charge_id())

    assert status == 200
    assert await harness.flush() == [
        "120 RUB arrived too late; parking not started. Parking account 120 RUB"
    ]
    assert await harness.balance() == 12000
    assert await harness.paid_until(PLATE) is None
    assert await harness.assert_books_balance() == {
        "operator:mts:RUB": -12000,
        "phone:79161234567:RUB": 12000,
    }
    # and the money pays the next parking without asking the operator
    assert (await harness.mo(f"1001*{PLATE}*1"))[0].startswith("Parking 1001 A123BC77")
    assert len(harness.charging["mts"].requests) == 1


async def test_a_late_confirmation_is_found_by_polling_too(harness: Harness) -> None:
    await harness.mo(f"1001*{PLATE}*2")
    await harness.run_due(minutes=16)  # expired; the operator is still asked later
    harness.charging["mts"].status_default = ChargeOutcome.CONFIRMED
    texts = await harness.run_due(minutes=10)
    assert texts == ["120 RUB arrived too late; parking not started. Parking account 120 RUB"]
    assert await harness.run_due(minutes=30) == []  # nothing more to poll
    assert await harness.balance() == 12000


async def test_one_pending_charge_per_phone(harness: Harness) -> None:
    await harness.mo(f"1001*{PLATE}*2")
    texts = await harness.mo("1001*B456CE77*1")
    assert texts == ["A payment of 120 RUB awaits your confirmation: reply 1 to the SMS from 7701"]
    assert len(harness.charging["mts"].requests) == 1


async def test_an_active_plate_is_refused_with_its_end_and_the_extend_command(
    harness: Harness,
) -> None:
    harness.charging["mts"].request_default = ChargeOutcome.CONFIRMED
    await harness.mo(f"1001*{PLATE}*2")
    texts = await harness.mo(f"1001*{PLATE}*3")
    assert texts == ["1001 A123BC77 is already paid until 11:00. To extend: X*3*A123BC77"]
    # another phone is not told to extend a session it did not pay for
    texts = await harness.mo(f"1001*{PLATE}*3", phone=OTHER_PHONE)
    assert texts == ["1001 A123BC77 is already paid until 11:00. Nothing to pay"]


async def test_a_plate_parked_meanwhile_keeps_the_money_on_the_account(harness: Harness) -> None:
    await harness.mo(f"1001*{PLATE}*2")  # this phone waits for its confirmation
    first_charge = harness.last_charge_id()
    harness.charging["beeline"].request_default = ChargeOutcome.CONFIRMED
    await harness.mo(f"1001*{PLATE}*1", phone=OTHER_PHONE, operator="beeline")

    await harness.callback(first_charge)

    assert await harness.flush() == [
        "A123BC77 is already paid. 120 RUB kept. Parking account 120 RUB"
    ]
    assert await harness.balance() == 12000
    assert await harness.paid_until(PLATE) == datetime(2026, 3, 10, 7, 0, tzinfo=UTC)
    await harness.assert_books_balance()


async def test_free_time_needs_no_payment(harness: Harness) -> None:
    harness.clock.advance(hours=12)  # 21:00 in Moscow
    texts = await harness.mo(f"1001*{PLATE}*1")
    assert texts == ["Parking in zone 1001 is free now, until 11.03 08:00. Nothing to pay"]


async def test_unknown_zone_and_too_many_hours(harness: Harness) -> None:
    assert await harness.mo(f"9999*{PLATE}*1") == [
        "There is no zone 9999. The zone number is on the sign, e.g. 1001*A123BC77*1"
    ]
    assert await harness.mo(f"1003*{PLATE}*5") == [
        "This zone allows at most 3 h. Example: 1003*A123BC77*3"
    ]
    assert harness.charging["mts"].requests == []


async def test_a_text_that_is_not_a_command_gets_an_example(harness: Harness) -> None:
    [text] = await harness.mo("hello there")
    assert "1001*A123BC77*2" in text
    [empty] = await harness.mo("   ")
    assert empty.startswith("Empty message")
