"""Pay, extend, stop and quote from the driver API, through the SMS handlers on the
real store: one account and one set of sessions for both channels."""

from __future__ import annotations

from datetime import timedelta

import pytest

from smsgw.service.driver_actions import (
    ActionRefusedError,
    BadPlateError,
    BadRequestError,
    DriverActions,
    NotFoundError,
)

from ..service.harness import OTHER_PHONE, PHONE, Harness
from .actions_steps import topped_up

PLATE = "A123BC77"


async def test_a_web_payment_from_the_account_is_answered_not_texted(
    harness: Harness, actions: DriverActions
) -> None:
    await topped_up(harness, actions, 50_000)
    paid = await actions.pay(PHONE, "1001", PLATE, 2)
    assert paid.outcome == "started"
    assert paid.session is not None and paid.session.plate == PLATE
    assert paid.session.paid.minor == 12_000
    assert paid.session.end - paid.session.start == timedelta(hours=2)
    assert paid.balance.minor == 38_000
    assert paid.message.startswith("Parking 1001 A123BC77 until")
    assert await harness.flush() == []  # the answer was the HTTP one
    assert await harness.balance() == 38_000
    await harness.assert_books_balance()


async def test_sms_status_shows_a_web_session_and_sms_stop_stops_it(
    harness: Harness, actions: DriverActions
) -> None:
    await topped_up(harness, actions, 50_000)
    paid = await actions.pay(PHONE, "1001", PLATE, 2)
    assert paid.session is not None
    [status] = await harness.mo("I")
    assert PLATE in status and "1001" in status
    [stopped] = await harness.mo("S")
    assert "A123BC77" in stopped
    assert await harness.balance() == 50_000  # nothing used yet: both hours back
    with pytest.raises(ActionRefusedError) as refused:
        await actions.stop(PHONE, paid.session.id)
    assert refused.value.reply_key == "stop.no_session"
    await harness.assert_books_balance()


async def test_the_web_stops_a_session_paid_by_sms(
    harness: Harness, actions: DriverActions
) -> None:
    await topped_up(harness, actions, 50_000)
    await harness.mo(f"1001*{PLATE}*3")
    session = await harness.db.transact(lambda tx: tx.active_session_for_plate(PLATE))
    assert session is not None
    harness.clock.advance(minutes=30)
    stopped = await actions.stop(PHONE, session.id)
    # what was not used, by the zone's billing step: 2 h 30 min of 60 RUB an hour
    assert stopped.refund.minor == 15_000
    assert stopped.balance.minor == 50_000 - 18_000 + 15_000
    assert stopped.session is not None and stopped.session.state == "stopped"
    assert "A123BC77" in stopped.message
    assert await harness.flush() == []
    [status] = await harness.mo("I")
    assert PLATE not in status
    await harness.assert_books_balance()


async def test_the_web_extends_its_session(harness: Harness, actions: DriverActions) -> None:
    await topped_up(harness, actions, 50_000)
    paid = await actions.pay(PHONE, "1001", PLATE, 1)
    assert paid.session is not None
    extended = await actions.extend(PHONE, paid.session.id, 2)
    assert extended.outcome == "extended"
    assert extended.session is not None
    assert extended.session.end == paid.session.end + timedelta(hours=2)
    assert extended.balance.minor == 50_000 - 18_000
    assert await harness.paid_until(PLATE) == extended.session.end


async def test_a_shortfall_starts_the_operators_confirmation(
    harness: Harness, actions: DriverActions
) -> None:
    paid = await actions.pay(PHONE, "1001", PLATE, 2)
    assert paid.outcome == "awaiting_confirmation"
    assert paid.session is None and paid.charge_id is not None
    assert "7701" in paid.message  # where to answer: the operator's own number
    await actions.drain()
    [request] = harness.charging["mts"].requests
    assert request.charge.id == paid.charge_id
    assert request.charge.amount.minor == 12_000
    assert (await actions.charge(PHONE, paid.charge_id)).state == "awaiting_confirmation"
    await harness.callback(paid.charge_id, "confirmed")
    [started] = await harness.flush()  # the settlement is texted, as for SMS
    assert started.startswith("Parking 1001 A123BC77 until")
    assert (await actions.charge(PHONE, paid.charge_id)).state == "confirmed"
    [status] = await harness.mo("I")
    assert PLATE in status
    await harness.assert_books_balance()


async def test_refusals_carry_the_sms_reply(harness: Harness, actions: DriverActions) -> None:
    await topped_up(harness, actions, 50_000)
    await actions.pay(PHONE, "1001", PLATE, 1)
    cases = [
        (("9999", PLATE, 1), "zone.unknown"),
        (("1001", PLATE, 1), "pay.already_active"),
        (("1003", "B456CE77", 4), "hours.too_many"),
    ]
    for (zone, plate, hours), key in cases:
        with pytest.raises(ActionRefusedError) as refused:
            await actions.pay(PHONE, zone, plate, hours)
        assert refused.value.reply_key == key
        assert refused.value.message
    assert await harness.balance() == 50_000 - 6_000  # the refusals moved nothing
    await harness.assert_books_balance()


async def test_a_plate_is_read_as_sms_reads_it(harness: Harness, actions: DriverActions) -> None:
    await topped_up(harness, actions, 50_000)
    paid = await actions.pay(PHONE, "1001", "а123вс77", 1)  # Cyrillic look-alikes
    assert paid.session is not None and paid.session.plate == PLATE
    with pytest.raises(BadPlateError) as bad:
        await actions.pay(PHONE, "1001", "NOTAPLATE", 1)
    assert bad.value.reply_key in {"parse.bad_plate", "parse.plate_letter"}
    assert "A123BC77" in bad.value.message  # the example to follow


@pytest.mark.parametrize("hours", [0, -1, 10_000])
async def test_hours_out_of_range_are_bad_requests(
    harness: Harness, actions: DriverActions, hours: int
) -> None:
    with pytest.raises(BadRequestError):
        await actions.pay(PHONE, "1001", PLATE, hours)
    with pytest.raises(BadRequestError):
        await actions.quote(PHONE, "1001", PLATE, hours)


async def test_someone_elses_session_is_not_found(harness: Harness, actions: DriverActions) -> None:
    await topped_up(harness, actions, 50_000)
    paid = await actions.pay(PHONE, "1001", PLATE, 1)
    assert paid.session is not None
    with pytest.raises(NotFoundError):
        await actions.stop(OTHER_PHONE, paid.session.id)
    with pytest.raises(NotFoundError):
        await actions.extend(OTHER_PHONE, paid.session.id, 1)
    with pytest.raises(NotFoundError):
        await actions.stop(PHONE, "ses_made_up")
    assert await harness.paid_until(PLATE) == paid.session.end  # still running


async def test_a_quote_prices_and_stores_nothing(harness: Harness, actions: DriverActions) -> None:
    quote = await actions.quote(PHONE, "1001", PLATE, 2)
    assert (quote.price.minor, quote.balance.minor, quote.to_charge.minor) == (12_000, 0, 12_000)
    assert await harness.db.transact(lambda tx: tx.get_phone(PHONE)) is None
    with pytest.raises(ActionRefusedError) as refused:
        await actions.quote(PHONE, "9999", PLATE, 2)
    assert refused.value.reply_key == "zone.unknown"


async def test_in_gateway_mode_the_question_is_texted_and_answered_by_sms(
    harness: Harness, actions: DriverActions
) -> None:
    await harness.mo("I", phone=OTHER_PHONE, operator="gwtel")  # we ask 1/0 ourselves
    paid = await actions.pay(OTHER_PHONE, "1001", PLATE, 2)
    assert paid.outcome == "awaiting_confirmation"
    [question] = await harness.flush(OTHER_PHONE)
    assert question == paid.message  # answered on the web and texted, to reply 1 to
    assert "Reply 1" in question
    await harness.mo("1", phone=OTHER_PHONE, operator="gwtel")
    assert paid.charge_id is not None
    assert harness.last_charge_id("gwtel") == paid.charge_id
    await harness.callback(paid.charge_id, "confirmed", operator="gwtel")
    [started] = await harness.flush(OTHER_PHONE)
    assert started.startswith("Parking 1001 A123BC77 until")
    await harness.assert_books_balance()


async def test_paying_in_another_zone_moves_the_car(
    harness: Harness, actions: DriverActions
) -> None:
    await topped_up(harness, actions, 50_000)
    first = await actions.pay(PHONE, "1001", PLATE, 2)
    assert first.session is not None
    first_id = first.session.id
    moved = await actions.pay(PHONE, "3601", PLATE, 1)
    assert moved.outcome == "moved"
    assert moved.session is not None and moved.session.zone == "3601"
    assert "1001" in moved.message  # the old zone and its refund are named
    old = await harness.db.transact(lambda tx: tx.get_session(first_id))
    assert old is not None and str(old.state) == "stopped"
    # 120 paid, all of it back: 500 - 120 + 120 - 40
    assert moved.balance.minor == 46_000
    await harness.assert_books_balance()


async def test_a_plate_another_phone_paid_for_is_refused_without_advice(
    harness: Harness, actions: DriverActions
) -> None:
    await topped_up(harness, actions, 50_000)
    await harness.mo("I", phone=OTHER_PHONE)  # through the MTS link: an MTS phone now
    await topped_up(harness, actions, 50_000, phone=OTHER_PHONE)
    await actions.pay(OTHER_PHONE, "1001", PLATE, 1)
    with pytest.raises(ActionRefusedError) as refused:
        await actions.pay(PHONE, "1001", PLATE, 1)
    assert refused.value.reply_key == "pay.already_paid"
    assert await harness.balance() == 50_000
