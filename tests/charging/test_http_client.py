"""HttpChargingClient against the simulated operator, over real HTTP on port 0."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import aiohttp
import pytest

from simulator.operator import OperatorSimulator
from simulator.phones import PhoneBook
from smsgw.charging.http_client import HttpChargingClient
from smsgw.domain.money import Money
from smsgw.service.ports import ChargeCallback, ChargeOutcome
from tests.charging.conftest import (
    GUARD,
    OPERATOR,
    SECRET,
    CallbackReceiver,
    FakeClock,
    RecordedSleep,
    make_charge,
    settled,
)

CONFIRMS, DECLINES, IGNORES, POOR, OTHER_OPERATOR = (
    "79161110001",
    "79161110002",
    "79161110003",
    "79161110004",
    "79031110005",
)
TEXT = "Парковка 1001, A123BC77, 1 ч: 60,00 ₽"


async def test_confirm_path_debits_the_phone_and_calls_back(
    gateway: HttpChargingClient,
    operator: OperatorSimulator,
    receiver: CallbackReceiver,
    phones: PhoneBook,
) -> None:
    charge = make_charge(CONFIRMS, 60_00)

    answer = await gateway.request_charge(charge, TEXT, receiver.url, False)
    await settled(operator)

    assert answer.outcome is ChargeOutcome.ACCEPTED
    assert answer.operator_reference
    assert receiver.received == [
        ChargeCallback(
            OPERATOR,
            charge.id,
            ChargeOutcome.CONFIRMED,
            answer.operator_reference,
            receiver.received[0].nonce,
        )
    ]
    phone = phones.require(CONFIRMS)
    assert phone.balance == Money(40_00, "RUB")
    assert len(phone.texts_from("7701")) == 1
    assert TEXT in phone.texts_from("7701")[0]
    assert [call.signature_valid for call in operator.calls] == [True]
    polled = await gateway.charge_status(charge)
    assert polled.outcome is ChargeOutcome.CONFIRMED
    assert polled.operator_reference == answer.operator_reference


async def test_decline_leaves_the_balance(
    gateway: HttpChargingClient,
    operator: OperatorSimulator,
    receiver: CallbackReceiver,
    phones: PhoneBook,
) -> None:
    charge = make_charge(DECLINES)

    answer = await gateway.request_charge(charge, TEXT, receiver.url, False)
    await settled(operator)

    assert answer.outcome is ChargeOutcome.ACCEPTED
    assert [c.outcome for c in receiver.received] == [ChargeOutcome.DECLINED]
    assert phones.require(DECLINES).balance == Money(100_00, "RUB")
    assert (await gateway.charge_status(charge)).outcome is ChargeOutcome.DECLINED


async def test_ignored_request_stays_pending_until_answered_by_hand(
    gateway: HttpChargingClient,
    operator: OperatorSimulator,
    receiver: CallbackReceiver,
    phones: PhoneBook,
) -> None:
    charge = make_charge(IGNORES, 25_00)

    answer = await gateway.request_charge(charge, TEXT, receiver.url, False)
    await settled(operator)

    assert answer.outcome is ChargeOutcome.ACCEPTED
    assert receiver.received == []
    assert (await gateway.charge_status(charge)).outcome is ChargeOutcome.ACCEPTED

    await operator.answer(IGNORES, "1")

    assert [c.outcome for c in receiver.received] == [ChargeOutcome.CONFIRMED]
    assert phones.require(IGNORES).balance == Money(75_00, "RUB")
    assert (await gateway.charge_status(charge)).outcome is ChargeOutcome.CONFIRMED


async def test_short_balance_fails_with_insufficient_funds(
    gateway: HttpChargingClient,
    operator: OperatorSimulator,
    receiver: CallbackReceiver,
    phones: PhoneBook,
) -> None:
    charge = make_charge(POOR, 10_01)

    await gateway.request_charge(charge, TEXT, receiver.url, False)
    await settled(operator)

    assert [c.outcome for c in receiver.received] == [ChargeOutcome.FAILED]
    polled = await gateway.charge_status(charge)
    assert (polled.outcome, polled.detail) == (ChargeOutcome.FAILED, "insufficient_funds")
    assert phones.require(POOR).balance == Money(10_00, "RUB")


async def test_a_retried_request_is_the_same_charge_and_debits_once(
    gateway: HttpChargingClient,
    operator: OperatorSimulator,
    receiver: CallbackReceiver,
    phones: PhoneBook,
) -> None:
    charge = make_charge(IGNORES, 30_00)

    first = await gateway.request_charge(charge, TEXT, receiver.url, False)
    again_while_pending = await gateway.request_charge(charge, TEXT, receiver.url, False)
    await operator.answer(IGNORES, "1")
    after_confirmation = await gateway.request_charge(charge, "re-rendered", receiver.url, False)
    await settled(operator)

    assert first.outcome is again_while_pending.outcome is ChargeOutcome.ACCEPTED
    assert after_confirmation.outcome is ChargeOutcome.CONFIRMED
    references = {first.operator_reference, after_confirmation.operator_reference}
    assert references == {again_while_pending.operator_reference}
    assert phones.require(IGNORES).balance == Money(70_00, "RUB")
    assert len(phones.require(IGNORES).texts_from("7701")) == 1
    assert len(receiver.received) == 1
    assert [call.status for call in operator.calls] == [202, 202, 200]


async def test_same_id_for_another_amount_is_refused_as_failed(
    gateway: HttpChargingClient, operator: OperatorSimulator, receiver: CallbackReceiver
) -> None:
    await gateway.request_charge(make_charge(IGNORES, 30_00), TEXT, receiver.url, False)

    answer = await gateway.request_charge(make_charge(IGNORES, 31_00), TEXT, receiver.url, False)

    assert answer.outcome is ChargeOutcome.FAILED
    assert answer.detail.startswith("http 409: conflict")


async def test_confirmed_by_subscriber_charges_at_once_without_asking(
    gateway: HttpChargingClient,
    operator: OperatorSimulator,
    receiver: CallbackReceiver,
    phones: PhoneBook,
) -> None:
    answer = await gateway.request_charge(make_charge(IGNORES, 5_00), TEXT, receiver.url, True)
    await settled(operator)

    assert answer.outcome is ChargeOutcome.CONFIRMED
    assert phones.require(IGNORES).balance == Money(95_00, "RUB")
    assert phones.require(IGNORES).inbox == []
    assert receiver.received == []


async def test_a_phone_of_another_operator_is_unknown(
    gateway: HttpChargingClient, receiver: CallbackReceiver, phones: PhoneBook
) -> None:
    answer = await gateway.request_charge(make_charge(OTHER_OPERATOR), TEXT, receiver.url, False)

    assert (answer.outcome, answer.detail) == (ChargeOutcome.FAILED, "unknown_subscriber")
    assert phones.require(OTHER_OPERATOR).balance == Money(100_00, "RUB")


async def test_the_phone_answers_after_its_delay_through_the_injected_sleep(
    gateway: HttpChargingClient,
    operator: OperatorSimulator,
    receiver: CallbackReceiver,
    phones: PhoneBook,
    sleep: RecordedSleep,
) -> None:
    phones.require(CONFIRMS).answer_delay = 30.0

    await gateway.request_charge(make_charge(CONFIRMS), TEXT, receiver.url, False)
    await settled(operator)

    assert sleep.seconds == [30.0]
    assert [c.outcome for c in receiver.received] == [ChargeOutcome.CONFIRMED]


async def test_unknown_charge_poll_is_unknown_not_failed(gateway: HttpChargingClient) -> None:
    answer = await gateway.charge_status(make_charge(CONFIRMS, charge_id="never-sent"))

    assert answer.outcome is ChargeOutcome.UNKNOWN
    assert "unknown_charge" in answer.detail


@pytest.mark.parametrize("status", [500, 502, 503, 429, 408])
async def test_server_errors_and_throttling_are_unknown(
    gateway: HttpChargingClient,
    operator: OperatorSimulator,
    receiver: CallbackReceiver,
    phones: PhoneBook,
    status: int,
) -> None:
    operator.fault_status = status
    charge = make_charge(CONFIRMS)

    requested = await gateway.request_charge(charge, TEXT, receiver.url, False)
    polled = await gateway.charge_status(charge)

    assert requested.outcome is polled.outcome is ChargeOutcome.UNKNOWN
    assert requested.detail.startswith(f"http {status}")
    assert phones.require(CONFIRMS).balance == Money(100_00, "RUB")


async def test_a_wrong_secret_is_refused_by_the_operator(
    operator: OperatorSimulator,
    session: aiohttp.ClientSession,
    receiver: CallbackReceiver,
    clock: FakeClock,
) -> None:
    wrong = HttpChargingClient(
        operator.base_url, b"another-secret-xxxx", session, GUARD, clock=clock
    )
    charge = make_charge(CONFIRMS)

    requested = await wrong.request_charge(charge, TEXT, receiver.url, False)
    polled = await wrong.charge_status(charge)

    assert requested.outcome is ChargeOutcome.FAILED
    assert requested.detail.startswith("http 401: bad_signature")
    # a refused poll says nothing about the charge: never FAILED
    assert polled.outcome is ChargeOutcome.UNKNOWN
    assert [call.signature_valid for call in operator.calls] == [False, False]
    assert operator.charges == {}


async def test_a_gateway_clock_off_by_more_than_five_minutes_is_refused(
    operator: OperatorSimulator,
    session: aiohttp.ClientSession,
    receiver: CallbackReceiver,
    clock: FakeClock,
) -> None:
    late = FakeClock(clock.now + timedelta(minutes=5, seconds=1))
    gateway = HttpChargingClient(operator.base_url, SECRET, session, GUARD, clock=late)

    answer = await gateway.request_charge(make_charge(CONFIRMS), TEXT, receiver.url, False)

    assert answer.outcome is ChargeOutcome.FAILED
    assert operator.charges == {}


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A port that is bound but not listening: every connection is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


async def test_server_down_is_unknown(
    session: aiohttp.ClientSession, refused_port: int, clock: FakeClock
) -> None:
    gateway = HttpChargingClient(
        f"http://127.0.0.1:{refused_port}", SECRET, session, GUARD, clock=clock
    )
    charge = make_charge(CONFIRMS)

    requested = await gateway.request_charge(charge, TEXT, "http://127.0.0.1:1/cb", False)
    polled = await gateway.charge_status(charge)

    assert requested.outcome is polled.outcome is ChargeOutcome.UNKNOWN
    assert requested.detail.startswith("network:")


@pytest.fixture
async def silent_port() -> AsyncIterator[int]:
    """A server that accepts connections and never answers."""
    never = asyncio.Event()
    writers: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        await never.wait()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    for writer in writers:
        writer.close()
    server.close()
    never.set()
    await server.wait_closed()


async def test_a_timeout_is_unknown(
    session: aiohttp.ClientSession, silent_port: int, clock: FakeClock
) -> None:
    gateway = HttpChargingClient(
        f"http://127.0.0.1:{silent_port}", SECRET, session, timeout=0.05, clock=clock
    )

    answer = await gateway.request_charge(make_charge(CONFIRMS), TEXT, "http://x/cb", False)

    assert (answer.outcome, answer.detail) == (ChargeOutcome.UNKNOWN, "network: timed out")
