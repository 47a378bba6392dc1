"""Extend, stop, status, language and help (docs/commands.md; docs/rules.md §3, §7)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smsgw.service.ports import ChargeOutcome

from .harness import Harness

PLATE = "A123BC77"
SECOND = "B456CE77"


@pytest.fixture
async def parked(harness: Harness) -> Harness:
    """A123BC77 parked in 1001 from 09:00 to 11:00, paid by a confirmed charge."""
    harness.charging["mts"].request_default = ChargeOutcome.CONFIRMED
    await harness.mo(f"1001*{PLATE}*2")
    harness.charging["mts"].request_default = ChargeOutcome.ACCEPTED
    return harness


async def test_extend_the_only_session_without_naming_it(parked: Harness) -> None:
    parked.clock.advance(minutes=30)
    assert await parked.mo("X*1") == ["To pay 60 RUB, reply 1 to the SMS from 7701"]
    await parked.callback(parked.last_charge_id())
    assert await parked.flush() == [
        "Parking 1001 A123BC77 extended until 12:00. Paid 60 RUB. Parking account 0 RUB"
    ]
    assert await parked.paid_until(PLATE) == datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    books = await parked.assert_books_balance()
    assert books["revenue:1001:RUB"] == 18000


async def test_extend_from_the_balance_moves_the_end_at_once(parked: Harness) -> None:
    parked.charging["mts"].request_default = ChargeOutcome.CONFIRMED
    await parked.mo(f"1001*{SECOND}*2")
    parked.clock.advance(minutes=60)
    await parked.mo(f"S*{SECOND}")  # 60 RUB back to the account
    assert await parked.balance() == 6000
    requests = len(parked.charging["mts"].requests)

    assert await parked.mo("Х1") == [
        "Parking 1001 A123BC77 extended until 12:00. Paid 60 RUB. Parking account 0 RUB"
    ]
    assert len(parked.charging["mts"].requests) == requests
    await parked.assert_books_balance()


async def test_extend_with_several_sessions_asks_which(parked: Harness) -> None:
    parked.charging["mts"].request_default = ChargeOutcome.CONFIRMED
    await parked.mo(f"1001*{SECOND}*1")
    texts = await parked.mo("X*2")
    assert texts == ["You have several parkings: A123BC77, B456CE77. Name the plate: X*2*A123BC77"]
    texts = await parked.mo(f"X*2*{SECOND}")
    assert (
        "Parking 1001 B456CE77 extended until 12:00. Paid 120 RUB. Parking account 0 RUB" in texts
    )


async def test_extend_beyond_the_zone_maximum_is_refused(harness: Harness) -> None:
    harness.charging["mts"].request_default = ChargeOutcome.CONFIRMED
    await harness.mo(f"1003*{PLATE}*2")
    assert await harness.mo("X*2") == [
        "Too long: the zone allows at most 3 h. You can: X*1*A123BC77"
    ]
    await harness.mo("X*1")
    assert await harness.mo("X*1") == ["Too long: the zone allows at most 3 h"]


async def test_extend_after_the_end_is_refused(parked: Harness) -> None:
    parked.clock.advance(hours=2, minutes=1)
    assert await parked.mo("X*1") == ["No running parking to extend. Pay anew: ZONE*PLATE*HOURS"]


async def test_an_extension_paid_after_the_end_stays_on_the_account(parked: Harness) -> None:
    parked.clock.advance(hours=1, minutes=55)
    await parked.mo("X*1")
    parked.clock.advance(minutes=10)  # the session ended while the subscriber decided
    await parked.callback(parked.last_charge_id())
    assert await parked.flush() == ["A123BC77 had ended. 60 RUB kept. Parking account 60 RUB"]
    assert await parked.balance() == 6000
    await parked.assert_books_balance()


async def test_stop_refunds_the_unused_part_to_the_account(parked: Harness) -> None:
    parked.clock.advance(minutes=45, seconds=10)
    assert await parked.mo("S") == [
        # 46 minutes used
        "Parking 1001 A123BC77 stopped at 09:45. Refunded 74 RUB. Parking account 74 RUB"
    ]
    assert await parked.balance() == 7400
    assert await parked.paid_until(PLATE) is None
    assert await parked.assert_books_balance() == {
        "operator:mts:RUB": -12000,
        "revenue:1001:RUB": 4600,
        "phone:79161234567:RUB": 7400,
    }
    # the stopped session's reminder and end notice are gone
    assert await parked.run_due(hours=3) == []


async def test_stop_with_several_sessions_asks_which(parked: Harness) -> None:
    parked.charging["mts"].request_default = ChargeOutcome.CONFIRMED
    await parked.mo(f"1001*{SECOND}*1")
    assert await parked.mo("C") == [
        "You have several parkings: A123BC77, B456CE77. Name the plate: S*A123BC77"
    ]
    assert (await parked.mo(f"s*{SECOND.lower()}"))[0].startswith("Parking 1001 B456CE77 stopped")
    assert await parked.paid_until(PLATE) is not None


async def test_stop_without_a_session(harness: Harness) -> None:
    assert await harness.mo("S") == ["No running parking to stop"]


async def test_status_lists_sessions_with_local_end_times_and_the_balance(
    parked: Harness,
) -> None:
    assert await parked.mo("I") == ["Parking: 1001 A123BC77 until 11:00. Parking account 0 RUB"]
    parked.clock.advance(hours=3)
    assert await parked.mo("Й") == ["No running parking. Parking account 0 RUB"]


async def test_language_is_remembered_for_the_phone(harness: Harness) -> None:
    assert await harness.mo("LANG*RU") == ["Язык ответов: русский"]
    assert await harness.mo("S") == ["Нет активной парковки, останавливать нечего"]
    assert await harness.mo("LANG*KK") == ["Жауап тілі: қазақ тілі"]
    assert await harness.mo("I") == ["Белсенді тұрақ жоқ. Тұрақ шоты 0 ₽"]
    # another phone keeps the deployment's default
    assert await harness.mo("S", phone="79990000000") == ["No running parking to stop"]


async def test_help_names_the_short_number(harness: Harness) -> None:
    [text] = await harness.mo("?")
    assert text.startswith("SMS to 7757: pay ZONE*PLATE*HOURS")


async def test_every_mo_logs_one_line_without_its_text_or_number(harness: Harness) -> None:
    from structlog.testing import capture_logs

    with capture_logs() as logs:
        await harness.mo(f"1001*{PLATE}*2")
    [line] = [entry for entry in logs if entry["event"] == "mo_processed"]
    assert line["command"] == "pay" and line["outcome"] == "charge_requested"
    assert line["phone"] == "7916***4567"
    assert isinstance(line["latency_ms"], int)
    assert all(PLATE not in str(value) for value in line.values())
