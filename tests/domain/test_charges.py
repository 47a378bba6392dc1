from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsgw.domain.charges import (
    DEFAULT_CONFIRMATION_TIMEOUT,
    FINAL_STATES,
    TRANSITIONS,
    Charge,
    ChargeEvent,
    ChargeState,
    ChargeTransitionError,
    apply_event,
    is_expired,
    is_pending,
    new_charge,
    reserves_limits,
    transition,
)
from smsgw.domain.money import Money

S = ChargeState
E = ChargeEvent
NOW = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def a_charge(**changes: Any) -> Charge:
    charge = new_charge(
        charge_id="ch-1",
        phone="79031234567",
        operator_id="beeline",
        amount=Money(12_000, "RUB"),
        purpose="session-1",
        now=NOW,
    )
    return replace(charge, **changes)


def run(events: list[ChargeEvent], start: ChargeState = S.REQUESTED) -> ChargeState:
    state = start
    for event in events:
        state = transition(state, event).target
    return state


# --- the paths ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("events", "end"),
    [
        ([E.REQUEST_ACCEPTED, E.CONFIRMED, E.APPLIED], S.APPLIED),
        ([E.REQUEST_ACCEPTED, E.DECLINED], S.DECLINED),
        ([E.REQUEST_ACCEPTED, E.FAILED], S.FAILED),
        ([E.REQUEST_ACCEPTED, E.TIMED_OUT], S.EXPIRED),
        ([E.FAILED], S.FAILED),  # the operator refused the request itself
        ([E.TIMED_OUT], S.EXPIRED),  # the request never got through
        ([E.CONFIRMED, E.REQUEST_ACCEPTED, E.APPLIED], S.APPLIED),  # callback overtook
        ([E.DECLINED, E.REQUEST_ACCEPTED], S.DECLINED),
        ([E.REQUEST_ACCEPTED, E.TIMED_OUT, E.CONFIRMED, E.APPLIED], S.APPLIED),  # late yes
        ([E.REQUEST_ACCEPTED, E.TIMED_OUT, E.DECLINED], S.EXPIRED),  # late no: nothing new
        ([E.REQUEST_ACCEPTED, E.CONFIRMED, E.TIMED_OUT, E.APPLIED], S.APPLIED),
    ],
)
def test_event_sequences_end_in_the_expected_state(
    events: list[ChargeEvent], end: ChargeState
) -> None:
    assert run(events) is end


@pytest.mark.parametrize(
    ("state", "event"),
    [
        (S.REQUESTED, E.APPLIED),  # money applied before anyone confirmed
        (S.AWAITING_CONFIRMATION, E.APPLIED),
        (S.DECLINED, E.CONFIRMED),
        (S.FAILED, E.CONFIRMED),
        (S.CONFIRMED, E.DECLINED),
        (S.APPLIED, E.DECLINED),
        (S.APPLIED, E.FAILED),
        (S.EXPIRED, E.APPLIED),
    ],
)
def test_contradictions_raise_naming_state_and_event(
    state: ChargeState, event: ChargeEvent
) -> None:
    with pytest.raises(ChargeTransitionError) as refused:
        transition(state, event)
    assert refused.value.facts == {"state": state.value, "event": event.value}
    assert state.value in str(refused.value)
    assert event.value in str(refused.value)


# --- the table as a whole -------------------------------------------------------------


def test_every_transition_is_idempotent() -> None:
    for (_, event), target in TRANSITIONS.items():
        again = transition(target, event)
        assert again.target is target
        assert not again.changed


def test_a_repeated_event_is_reported_as_a_no_op() -> None:
    first = transition(S.CONFIRMED, E.APPLIED)
    second = transition(first.target, E.APPLIED)
    assert first.changed
    assert not second.changed


def test_every_state_is_reachable_from_requested() -> None:
    reached = {S.REQUESTED}
    frontier = [S.REQUESTED]
    while frontier:
        state = frontier.pop()
        for (source, _), target in TRANSITIONS.items():
            if source is state and target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(ChargeState)


def test_final_states_never_change() -> None:
    for (source, _), target in TRANSITIONS.items():
        if source in FINAL_STATES:
            assert target is source


def test_only_a_confirmed_charge_can_be_applied() -> None:
    into_applied = {
        source
        for (source, _), target in TRANSITIONS.items()
        if target is S.APPLIED and source is not S.APPLIED
    }
    assert into_applied == {S.CONFIRMED}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(ChargeEvent), max_size=30))
def test_random_events_stay_in_the_table_and_money_moves_at_most_once(
    events: list[ChargeEvent],
) -> None:
    charge = a_charge()
    applied = 0
    taken = 0
    for event in events:
        try:
            charge, step = apply_event(charge, event)
        except ChargeTransitionError:
            continue  # a refused event leaves the charge as it was
        assert charge.state in ChargeState
        if step.changed and step.target is S.APPLIED:
            applied += 1
        if step.changed and step.target is S.CONFIRMED:
            taken += 1
    assert applied <= 1
    assert taken <= 1
    assert applied <= taken


# --- the charge record ----------------------------------------------------------------


def test_a_new_charge_waits_the_default_fifteen_minutes() -> None:
    charge = a_charge()
    assert charge.state is S.REQUESTED
    # the default confirmation_timeout_minutes of docs/rules.md §5
    assert charge.deadline == NOW + timedelta(minutes=15)
    assert charge.deadline - charge.requested_at == DEFAULT_CONFIRMATION_TIMEOUT


def test_is_expired_from_the_deadline_on_while_pending() -> None:
    charge = a_charge()
    assert not is_expired(charge, charge.deadline - timedelta(microseconds=1))
    assert is_expired(charge, charge.deadline)
    confirmed, _ = apply_event(charge, E.CONFIRMED)
    assert not is_expired(confirmed, charge.deadline + timedelta(hours=1))


def test_apply_event_returns_the_same_record_on_a_no_op() -> None:
    accepted, step = apply_event(a_charge(), E.REQUEST_ACCEPTED)
    again, repeat = apply_event(accepted, E.REQUEST_ACCEPTED)
    assert step.changed and accepted.state is S.AWAITING_CONFIRMATION
    assert again is accepted and not repeat.changed


@pytest.mark.parametrize(
    ("state", "pending", "reserving"),
    [
        (S.REQUESTED, True, True),
        (S.AWAITING_CONFIRMATION, True, True),
        (S.CONFIRMED, False, True),
        (S.APPLIED, False, True),
        (S.DECLINED, False, False),
        (S.EXPIRED, False, False),
        (S.FAILED, False, False),
    ],
)
def test_pending_and_reserving_states(state: ChargeState, pending: bool, reserving: bool) -> None:
    charge = a_charge(state=state)
    assert is_pending(charge) is pending
    assert reserves_limits(charge) is reserving


@pytest.mark.parametrize(
    "changes",
    [
        {"id": ""},
        {"amount": Money(0, "RUB")},
        {"deadline": NOW},
        {"requested_at": datetime(2024, 3, 1, 9, 0)},
    ],
)
def test_a_charge_refuses_nonsense(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        a_charge(**changes)
