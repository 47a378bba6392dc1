"""Random sequences of pay / extend / stop / wait against the real ledger.

Whatever the drivers do, no parking account goes negative, every transaction balances,
the money charged to phones is exactly what sits on parking accounts plus the zone's
revenue, the revenue is what the sessions kept, and a running session's prepaid money
is exactly its price.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from smsgw.domain import ledger
from smsgw.domain.billing import price
from smsgw.domain.errors import (
    AmbiguousExtendError,
    AmbiguousStopError,
    ExtensionTooLongError,
    NoSessionToExtendError,
    NoSessionToStopError,
    NothingToPayError,
    PlateAlreadyActiveError,
)
from smsgw.domain.money import Money
from smsgw.domain.parking import (
    Funding,
    ParkingSession,
    SessionState,
    activate,
    cancel,
    expire,
    extend,
    new_session,
    plan_extension,
    plan_payment,
    plan_stop,
    post_activation,
    post_extension,
    post_stop,
    session_to_extend,
    session_to_stop,
    stop,
)
from smsgw.domain.tariffs import PaidWindow, Zone

PHONES = ("79000000001", "79000000002")
PLATES = ("A123BC77", "B456EK77", "K777KK77")
KEPT_STATES = {SessionState.ACTIVE, SessionState.STOPPED, SessionState.EXPIRED}


@dataclass(frozen=True)
class Pay:
    phone: int
    plate: int
    hours: int
    confirm: bool


@dataclass(frozen=True)
class Extend:
    phone: int
    plate: int | None
    hours: int
    confirm: bool


@dataclass(frozen=True)
class Stop:
    phone: int
    plate: int | None


@dataclass(frozen=True)
class Wait:
    minutes: int


Step = Pay | Extend | Stop | Wait

phone_index = st.integers(0, len(PHONES) - 1)
plate_index = st.integers(0, len(PLATES) - 1)
pays = st.builds(Pay, phone_index, plate_index, st.integers(1, 4), st.booleans())
steps = st.one_of(
    pays,
    pays,  # listed twice: paying is what makes the other steps have something to do
    st.builds(Extend, phone_index, st.none() | plate_index, st.integers(1, 4), st.booleans()),
    st.builds(Stop, phone_index, st.none() | plate_index),
    st.builds(Wait, st.integers(0, 3 * 60)),
)


@st.composite
def zones(draw: st.DrawFn) -> Zone:
    currency, time_zone = draw(st.sampled_from((("RUB", "Europe/Moscow"), ("KZT", "Asia/Almaty"))))
    return Zone(
        number=draw(st.sampled_from(("1001", "8001"))),
        name="property",
        time_zone=time_zone,
        price_per_hour=Money(draw(st.integers(1, 30_000)), currency),
        paid_windows=tuple(PaidWindow(day, 8 * 60, 20 * 60) for day in range(6)),
        step_minutes=draw(st.sampled_from((1, 5, 60))),
        max_hours=draw(st.integers(3, 24)),
    )


@dataclass
class World:
    zone: Zone
    minimum: Money | None
    now: datetime
    book: ledger.Ledger = field(default_factory=ledger.Ledger)
    sessions: dict[str, ParkingSession] = field(default_factory=dict)
    charged: int = 0
    ids: int = 0

    def next_id(self, prefix: str) -> str:
        self.ids += 1
        return f"{prefix}{self.ids}"

    def balance(self, phone: str) -> Money:
        return self.book.balance(ledger.Account.phone(phone, self.zone.currency))

    def charge(self, phone: str, amount: Money) -> None:
        charge_id = self.next_id("c")
        self.book.post(
            ledger.charge_confirmed(
                transaction_id=f"{charge_id}/charged",
                charge_id=charge_id,
                phone=phone,
                operator_id="op",
                amount=amount,
                at=self.now,
            )
        )
        self.charged += amount.minor

    def phone_sessions(self, phone: str) -> list[ParkingSession]:
        return [session for session in self.sessions.values() if session.phone == phone]

    def plate_session(self, plate: str) -> ParkingSession | None:
        running = [s for s in self.sessions.values() if s.plate == plate and s.is_running(self.now)]
        assert len(running) <= 1, "a plate has at most one running session"
        return running[0] if running else None


def check_funding(plan: Funding, balance: Money) -> None:
    assert plan.balance == balance
    assert plan.from_balance == min(balance, plan.price)
    shortfall = plan.price - plan.from_balance
    assert plan.to_charge == shortfall + plan.min_charge_excess
    assert not plan.min_charge_excess.is_negative
    assert plan.needs_charge == shortfall.is_positive


def run_pay(world: World, step: Pay) -> None:
    phone, plate = PHONES[step.phone], PLATES[step.plate]
    hours = min(step.hours, world.zone.max_hours)
    try:
        plan = plan_payment(
            zone=world.zone,
            plate=plate,
            hours=hours,
            now=world.now,
            balance=world.balance(phone),
            plate_session=world.plate_session(plate),
            operator_minimum=world.minimum,
        )
    except (PlateAlreadyActiveError, NothingToPayError):
        return
    check_funding(plan, world.balance(phone))
    session = new_session(plan, session_id=world.next_id("s"), phone=phone)
    if plan.needs_charge and not step.confirm:
        world.sessions[session.id] = cancel(session, world.now)
        return
    if plan.needs_charge:
        world.charge(phone, plan.to_charge)
    session = activate(session)
    post_activation(world.book, session, world.now)
    world.sessions[session.id] = session
    assert world.balance(phone) == plan.balance_after


def run_extend(world: World, step: Extend) -> None:
    phone = PHONES[step.phone]
    plate = None if step.plate is None else PLATES[step.plate]
    try:
        session = session_to_extend(world.phone_sessions(phone), plate, step.hours, world.now)
        plan = plan_extension(
            session=session,
            zone=world.zone,
            hours=step.hours,
            now=world.now,
            balance=world.balance(phone),
            operator_minimum=world.minimum,
        )
    except (NoSessionToExtendError, AmbiguousExtendError, ExtensionTooLongError):
        return
    check_funding(plan, world.balance(phone))
    if plan.needs_charge and not step.confirm:
        return
    if plan.needs_charge:
        world.charge(phone, plan.to_charge)
    extended = extend(session, plan, world.now)
    post_extension(world.book, extended, plan, extension_id=world.next_id("e"), at=world.now)
    world.sessions[session.id] = extended
    assert world.balance(phone) == plan.balance_after


def run_stop(world: World, step: Stop) -> None:
    phone = PHONES[step.phone]
    plate = None if step.plate is None else PLATES[step.plate]
    try:
        session = session_to_stop(world.phone_sessions(phone), plate, world.now)
    except (NoSessionToStopError, AmbiguousStopError):
        return
    plan = plan_stop(session, world.zone, world.now)
    assert plan.used + plan.refund == session.prepaid
    assert not plan.refund.is_negative
    before = world.balance(phone)
    post_stop(world.book, session, plan)
    world.sessions[session.id] = stop(session, plan)
    assert world.balance(phone) == before + plan.refund


def run_wait(world: World, step: Wait) -> None:
    world.now += timedelta(minutes=step.minutes)
    for session_id, session in list(world.sessions.items()):
        if session.state is SessionState.ACTIVE and session.end <= world.now:
            world.sessions[session_id] = expire(session, world.now)


def check_invariants(world: World) -> None:
    currency = world.zone.currency
    assert all(total.is_zero for total in world.book.total().values())
    phone_money = 0
    for phone in PHONES:
        balance = world.balance(phone)
        assert not balance.is_negative
        phone_money += balance.minor
    revenue = world.book.balance(ledger.Account.revenue(world.zone.number, currency))
    assert world.charged == phone_money + revenue.minor
    kept = sum(s.prepaid.minor for s in world.sessions.values() if s.state in KEPT_STATES)
    assert revenue.minor == kept
    for session in world.sessions.values():
        if session.state is SessionState.ACTIVE:
            assert session.prepaid == price(world.zone, session.start, session.end).amount


def run_step(world: World, step: Step) -> None:
    match step:
        case Pay():
            run_pay(world, step)
        case Extend():
            run_extend(world, step)
        case Stop():
            run_stop(world, step)
        case Wait():
            run_wait(world, step)


@settings(max_examples=200, deadline=None)
@given(
    zones(),
    st.sampled_from((None, 100, 1000)),
    st.integers(0, 5),  # Monday to Saturday: paid days
    st.integers(7 * 60, 20 * 60),
    st.lists(st.integers(0, 50_000), min_size=len(PHONES), max_size=len(PHONES)),
    st.lists(steps, min_size=4, max_size=25),
)
def test_money_is_conserved_and_accounts_never_go_negative(
    zone: Zone,
    minimum_minor: int | None,
    start_day: int,
    start_minute: int,
    opening_balances: list[int],
    plan: list[Step],
) -> None:
    monday = datetime(2026, 11, 16, tzinfo=ZoneInfo(zone.time_zone))
    minimum = None if minimum_minor is None else Money(minimum_minor, zone.currency)
    start = monday + timedelta(days=start_day, minutes=start_minute)
    world = World(zone, minimum, start)
    for phone, opening in zip(PHONES, opening_balances, strict=True):
        if opening:
            world.charge(phone, Money(opening, zone.currency))
    check_invariants(world)
    for step in plan:
        run_step(world, step)
        world.now += timedelta(minutes=7)  # commands arrive some minutes apart
        check_invariants(world)


@settings(max_examples=200, deadline=None)
@given(
    zones(),
    st.integers(0, 6),
    st.integers(0, 24 * 60 - 1),
    st.lists(st.integers(1, 6), min_size=1, max_size=6),
)
def test_a_running_session_has_prepaid_exactly_its_price(
    zone: Zone, start_day: int, start_minute: int, hours: list[int]
) -> None:
    start = datetime(2026, 11, 16, tzinfo=ZoneInfo(zone.time_zone))
    start += timedelta(days=start_day, minutes=start_minute)
    first, *more = hours
    try:
        plan = plan_payment(
            zone=zone,
            plate=PLATES[0],
            hours=min(first, zone.max_hours),
            now=start,
            balance=Money.zero(zone.currency),
            plate_session=None,
            operator_minimum=None,
        )
    except NothingToPayError:
        return
    session = activate(new_session(plan, session_id="s", phone=PHONES[0]))
    for added in more:
        try:
            extension = plan_extension(
                session=session,
                zone=zone,
                hours=added,
                now=start,
                balance=Money.zero(zone.currency),
                operator_minimum=None,
            )
        except ExtensionTooLongError:
            continue
        session = extend(session, extension, start)
        assert session.prepaid == price(zone, session.start, session.end).amount
