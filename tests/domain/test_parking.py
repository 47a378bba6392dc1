from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from smsgw.domain import ledger
from smsgw.domain.errors import (
    AmbiguousExtendError,
    AmbiguousStopError,
    ExtensionTooLongError,
    InvalidTransitionError,
    NoSessionToExtendError,
    NoSessionToStopError,
    NothingToPayError,
    PlateAlreadyActiveError,
    TooManyHoursError,
)
from smsgw.domain.money import Money
from smsgw.domain.parking import (
    ParkingSession,
    PaymentPlan,
    SessionState,
    activate,
    cancel,
    end_due_at,
    expire,
    extend,
    new_session,
    plan_extension,
    plan_payment,
    plan_stop,
    post_activation,
    post_extension,
    post_stop,
    reminder_due_at,
    session_to_extend,
    session_to_stop,
    stop,
)
from smsgw.domain.tariffs import PaidWindow, Zone

MOSCOW = ZoneInfo("Europe/Moscow")
ALMATY = ZoneInfo("Asia/Almaty")
DAYTIME = tuple(PaidWindow(day, 8 * 60, 20 * 60) for day in range(7))
# 60 RUB an hour, a minute step: 1 RUB a minute
MOSCOW_ZONE = Zone("1001", "Tverskaya", "Europe/Moscow", Money(6000, "RUB"), DAYTIME, max_hours=5)
ASTANA_ZONE = Zone("8001", "Central", "Asia/Almaty", Money(15000, "KZT"), DAYTIME, step_minutes=60)
PHONE = "79001234567"
NOON = datetime(2026, 11, 20, 12, 0, tzinfo=MOSCOW)


def rub(minor: int) -> Money:
    return Money(minor, "RUB")


def pay(
    *,
    hours: int = 2,
    balance: int = 0,
    minimum: Money | None = None,
    plate: str = "A123BC77",
    now: datetime = NOON,
    plate_session: ParkingSession | None = None,
    zone: Zone = MOSCOW_ZONE,
) -> PaymentPlan:
    return plan_payment(
        zone=zone,
        plate=plate,
        hours=hours,
        now=now,
        balance=Money(balance, zone.currency),
        plate_session=plate_session,
        operator_minimum=minimum,
    )


def running(plate: str = "A123BC77", hours: int = 2, zone: Zone = MOSCOW_ZONE) -> ParkingSession:
    plan = pay(plate=plate, hours=hours, zone=zone, now=NOON)
    return activate(new_session(plan, session_id=f"s-{plate}", phone=PHONE))


@pytest.mark.parametrize(
    ("balance", "minimum", "from_balance", "to_charge", "excess", "balance_after"),
    [
        (0, None, 0, 12000, 0, 0),  # nothing on the account: the phone pays it all
        (20000, None, 12000, 0, 0, 8000),  # the account covers it: no charge
        (11000, None, 11000, 1000, 0, 0),  # only the shortfall is charged
        (11950, rub(100), 11950, 100, 50, 50),  # 0.50 short, 1 RUB minimum (MTS)
        (11950, rub(1000), 11950, 1000, 950, 950),  # 10 RUB minimum (Beeline)
        (0, rub(1000), 0, 12000, 0, 0),  # shortfall above the minimum: charged as is
        (12000, rub(1000), 12000, 0, 0, 0),  # nothing short: no minimum charge
    ],
)
def test_payment_uses_the_balance_first(
    balance: int,
    minimum: Money | None,
    from_balance: int,
    to_charge: int,
    excess: int,
    balance_after: int,
) -> None:
    plan = pay(balance=balance, minimum=minimum)
    assert plan.price == rub(12000)
    assert plan.from_balance == rub(from_balance)
    assert plan.to_charge == rub(to_charge)
    assert plan.min_charge_excess == rub(excess)
    assert plan.balance_after == rub(balance_after)
    assert plan.needs_charge == (to_charge > 0)
    assert plan.charged_minimum == (excess > 0)


def test_payment_plan_carries_the_session_interval() -> None:
    plan = pay(hours=3, now=NOON.astimezone(ZoneInfo("UTC")))
    assert (plan.zone, plan.plate, plan.hours) == ("1001", "A123BC77", 3)
    assert plan.start.isoformat() == "2026-11-20T12:00:00+03:00"
    assert plan.end.isoformat() == "2026-11-20T15:00:00+03:00"


def test_paying_for_an_active_plate_is_refused_with_its_end_and_the_extend_form() -> None:
    session = running()
    with pytest.raises(PlateAlreadyActiveError) as raised:
        pay(plate_session=session, now=NOON + timedelta(minutes=5))
    assert raised.value.reply_key == "pay.already_active"
    assert raised.value.facts == {
        "plate": "A123BC77",
        "end": session.end,
        "example": "X*2*A123BC77",
    }


def test_a_plate_whose_time_ran_out_may_pay_again() -> None:
    session = running()
    plan = pay(plate_session=session, now=session.end)
    assert plan.start == session.end


def test_a_wholly_free_interval_is_not_charged() -> None:
    with pytest.raises(NothingToPayError) as raised:
        pay(now=datetime(2026, 11, 20, 21, 0, tzinfo=MOSCOW))
    assert raised.value.reply_key == "pay.free_now"
    assert raised.value.facts == {
        "zone": "1001",
        "until": datetime(2026, 11, 21, 8, 0, tzinfo=MOSCOW),
    }


def test_hours_beyond_the_zone_maximum_are_refused() -> None:
    with pytest.raises(TooManyHoursError) as raised:
        pay(hours=6)
    assert raised.value.facts == {"max_hours": 5}
    with pytest.raises(ValueError):
        pay(hours=0)


def test_session_states() -> None:
    plan = pay()
    waiting = new_session(plan, session_id="s1", phone=PHONE)
    assert waiting.state is SessionState.AWAITING_PAYMENT
    assert not waiting.is_running(NOON)
    assert waiting.prepaid == plan.price
    active = activate(waiting)
    assert active.state is SessionState.ACTIVE and active.is_running(NOON)
    cancelled = cancel(waiting, NOON)
    assert cancelled.state is SessionState.CANCELLED and cancelled.closed_at == NOON
    with pytest.raises(InvalidTransitionError, match="cancelled"):
        cancel(active, NOON)
    with pytest.raises(InvalidTransitionError, match="paid"):
        activate(cancelled)


def test_x_picks_the_only_running_session_or_the_named_plate() -> None:
    first, second = running("A123BC77"), running("B456EK77")
    later = NOON + timedelta(minutes=30)
    assert session_to_extend([first], None, 1, later) == first
    assert session_to_extend([first, second], "B456EK77", 1, later) == second
    with pytest.raises(NoSessionToExtendError):
        session_to_extend([first, second], "K777KK77", 1, later)
    with pytest.raises(NoSessionToExtendError):
        session_to_extend([], None, 1, later)
    with pytest.raises(NoSessionToExtendError):  # after the end the driver pays anew
        session_to_extend([first], None, 1, first.end)


def test_x_without_a_plate_among_several_lists_the_plates() -> None:
    sessions = [running("B456EK77"), running("A123BC77")]
    with pytest.raises(AmbiguousExtendError) as raised:
        session_to_extend(sessions, None, 3, NOON)
    assert raised.value.reply_key == "extend.ambiguous"
    assert raised.value.facts == {"plates": ["A123BC77", "B456EK77"], "example": "X*3*A123BC77"}
    with pytest.raises(AmbiguousStopError) as stopped:
        session_to_stop(sessions, None, NOON)
    assert stopped.value.reply_key == "stop.ambiguous"
    assert stopped.value.facts == {"plates": ["A123BC77", "B456EK77"], "example": "S*A123BC77"}


def test_s_picks_the_running_session() -> None:
    session = running()
    assert session_to_stop([session], None, NOON) == session
    assert session_to_stop([session], "A123BC77", NOON) == session
    with pytest.raises(NoSessionToStopError):
        session_to_stop([session], None, session.end)
    with pytest.raises(NoSessionToStopError):
        session_to_stop([expire(session, session.end)], None, NOON)


def test_extension_prices_the_added_hours_and_pays_from_the_balance() -> None:
    session = running(hours=2)  # 12:00-14:00
    plan = plan_extension(
        session=session,
        zone=MOSCOW_ZONE,
        hours=1,
        now=NOON,
        balance=rub(500),
        operator_minimum=None,
    )
    assert plan.new_end == datetime(2026, 11, 20, 15, 0, tzinfo=MOSCOW)
    assert plan.price == rub(6000)
    assert (plan.from_balance, plan.to_charge) == (rub(500), rub(5500))
    extended = extend(session, plan, NOON + timedelta(minutes=1))
    assert extended.end == plan.new_end and extended.prepaid == rub(18000)
    assert extended.state is SessionState.ACTIVE


def test_extension_into_the_night_costs_only_the_paid_part() -> None:
    evening = datetime(2026, 11, 20, 18, 0, tzinfo=MOSCOW)
    session = activate(new_session(pay(hours=1, now=evening), session_id="s", phone=PHONE))
    plan = plan_extension(
        session=session,
        zone=MOSCOW_ZONE,
        hours=3,
        now=evening,
        balance=rub(0),
        operator_minimum=None,
    )
    assert plan.price == rub(6000)  # 19:00-20:00 of 19:00-22:00


def test_extension_respects_the_zone_maximum_over_the_whole_session() -> None:
    session = running(hours=3)
    with pytest.raises(ExtensionTooLongError) as raised:
        plan_extension(
            session=session,
            zone=MOSCOW_ZONE,
            hours=3,
            now=NOON,
            balance=rub(0),
            operator_minimum=None,
        )
    assert raised.value.facts == {"max_hours": 5, "example": "X*2*" + session.plate}
    plan = plan_extension(
        session=session, zone=MOSCOW_ZONE, hours=2, now=NOON, balance=rub(0), operator_minimum=None
    )
    assert plan.new_end - session.start == timedelta(hours=5)


def test_extension_only_before_the_end() -> None:
    session = running()
    plan = plan_extension(
        session=session, zone=MOSCOW_ZONE, hours=1, now=NOON, balance=rub(0), operator_minimum=None
    )
    with pytest.raises(NoSessionToExtendError):
        plan_extension(
            session=session,
            zone=MOSCOW_ZONE,
            hours=1,
            now=session.end,
            balance=rub(0),
            operator_minimum=None,
        )
    with pytest.raises(NoSessionToExtendError):  # the charge came back after the end
        extend(session, plan, session.end + timedelta(seconds=1))


def test_stop_refunds_by_the_billing_step() -> None:
    session = running(hours=3, zone=ASTANA_ZONE)  # 12:00-15:00 Almaty time, 450 KZT
    assert session.prepaid == Money(45000, "KZT")
    stop_at = session.start + timedelta(minutes=70)
    plan = plan_stop(session, ASTANA_ZONE, stop_at)
    assert plan.billed_until == stop_at  # 70 paid minutes: two hour steps
    assert plan.used == Money(30000, "KZT") and plan.refund == Money(15000, "KZT")
    stopped = stop(session, plan)
    assert stopped.state is SessionState.STOPPED
    assert stopped.end == stop_at and stopped.closed_at == stop_at
    assert stopped.prepaid == plan.used
    assert not stopped.is_running(stop_at)
    with pytest.raises(InvalidTransitionError):
        stop(stopped, plan)


def test_a_stop_stamped_before_the_start_refunds_everything() -> None:
    session = running(hours=2)
    plan = plan_stop(session, MOSCOW_ZONE, NOON - timedelta(seconds=2))
    assert plan.stopped_at == session.start and plan.refund == session.prepaid
    assert stop(session, plan).end == session.start


def test_stop_by_the_minute() -> None:
    session = running(hours=2)
    plan = plan_stop(session, MOSCOW_ZONE, NOON + timedelta(minutes=30, seconds=1))
    assert plan.used == rub(3100) and plan.refund == rub(8900)


def test_expiry_happens_at_the_end_only() -> None:
    session = running()
    with pytest.raises(InvalidTransitionError, match="runs until"):
        expire(session, session.end - timedelta(seconds=1))
    expired = expire(session, session.end + timedelta(minutes=3))
    assert expired.state is SessionState.EXPIRED and expired.closed_at == session.end
    with pytest.raises(NoSessionToStopError):
        plan_stop(expired, MOSCOW_ZONE, NOON)


def test_reminder_and_end_due_times() -> None:
    session = running(hours=2)
    assert reminder_due_at(session) == datetime(2026, 11, 20, 13, 50, tzinfo=MOSCOW)
    assert reminder_due_at(session, minutes_before=15) == datetime(
        2026, 11, 20, 13, 45, tzinfo=MOSCOW
    )
    assert reminder_due_at(session, minutes_before=600) == session.start
    assert end_due_at(session) == datetime(2026, 11, 20, 14, 0, tzinfo=MOSCOW)


def test_a_session_cannot_end_before_it_starts() -> None:
    session = running()
    with pytest.raises(ValueError, match="ends before"):
        replace(session, end=session.start - timedelta(seconds=1))


def test_ledger_moves_of_a_session() -> None:
    book = ledger.Ledger()
    phone = ledger.Account.phone(PHONE, "RUB")
    book.post(
        ledger.charge_confirmed(
            transaction_id="t1",
            charge_id="c1",
            phone=PHONE,
            operator_id="mts",
            amount=rub(12000),
            at=NOON,
        )
    )
    session = running(hours=2)
    post_activation(book, session, NOON)
    post_activation(book, session, NOON)  # a replay moves nothing twice
    assert book.balance(phone) == rub(0)
    plan = plan_stop(session, MOSCOW_ZONE, NOON + timedelta(minutes=30))
    post_stop(book, session, plan)
    assert book.balance(phone) == rub(9000)
    assert book.balance(ledger.Account.revenue("1001", "RUB")) == rub(3000)
    assert all(total.is_zero for total in book.total().values())


def test_ledger_moves_of_an_extension() -> None:
    book = ledger.Ledger()
    book.post(
        ledger.charge_confirmed(
            transaction_id="t1",
            charge_id="c1",
            phone=PHONE,
            operator_id="mts",
            amount=rub(20000),
            at=NOON,
        )
    )
    session = running(hours=2)
    post_activation(book, session, NOON)
    plan = plan_extension(
        session=session,
        zone=MOSCOW_ZONE,
        hours=1,
        now=NOON,
        balance=rub(8000),
        operator_minimum=None,
    )
    post_extension(book, session, plan, extension_id="e1", at=NOON)
    assert book.balance(ledger.Account.phone(PHONE, "RUB")) == plan.balance_after == rub(2000)
    with pytest.raises(ledger.InsufficientBalanceError):
        post_extension(book, session, plan, extension_id="e2", at=NOON)


def test_free_moves_post_nothing() -> None:
    book = ledger.Ledger()
    session = running()
    last_second = session.end - timedelta(seconds=1)
    assert post_stop(book, session, plan_stop(session, MOSCOW_ZONE, last_second)) is None
    assert post_activation(book, replace(session, prepaid=rub(0)), NOON) is None
    assert book.transactions() == ()
