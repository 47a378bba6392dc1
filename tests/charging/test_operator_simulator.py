"""The simulated operator on its own: refusals, answering by hand, callback delivery."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from dataclasses import replace

import aiohttp
import orjson
import pytest

from simulator.operator import (
    NoPendingConfirmationError,
    OperatorSimulator,
    bundled_must_remain,
)
from simulator.phones import PhoneBook, VirtualPhone
from smsgw.charging.http_client import HttpChargingClient
from smsgw.charging.protocol import CHARGES_PATH
from smsgw.charging.signing import signature_headers, unix_timestamp
from smsgw.domain.money import Money
from smsgw.service.ports import ChargeOutcome
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

IGNORES = "79161110003"


async def _post(
    session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str]
) -> tuple[int, dict[str, object]]:
    async with session.post(url, data=body, headers=headers) as response:
        return response.status, orjson.loads(await response.read())


async def test_an_unsigned_request_is_refused_and_recorded(
    operator: OperatorSimulator, session: aiohttp.ClientSession
) -> None:
    status, answer = await _post(session, operator.base_url + CHARGES_PATH, b"{}", {})

    assert (status, answer["error"]) == (401, "bad_signature")
    assert [(c.method, c.signature_valid, c.status) for c in operator.calls] == [
        ("POST", False, 401)
    ]


async def test_a_signed_but_malformed_request_names_the_field(
    operator: OperatorSimulator, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    body = orjson.dumps({"charge_id": "ch-1", "msisdn": "79161110003", "amount": 1.5})
    headers = signature_headers(SECRET, unix_timestamp(clock()), body)

    status, answer = await _post(session, operator.base_url + CHARGES_PATH, body, headers)

    assert (status, answer["error"]) == (400, "malformed")
    assert "amount" in str(answer["detail"])
    assert operator.charges == {}


async def test_a_charge_id_with_odd_characters_is_one_path_segment(
    gateway: HttpChargingClient, operator: OperatorSimulator, receiver: CallbackReceiver
) -> None:
    charge = make_charge(IGNORES, charge_id="ch/1 ü?")

    await gateway.request_charge(charge, "text", receiver.url, False)
    polled = await gateway.charge_status(charge)

    assert polled.outcome is ChargeOutcome.ACCEPTED
    assert operator.calls[-1].signature_valid


async def test_answering_by_hand_needs_a_pending_charge_and_a_1_or_0(
    gateway: HttpChargingClient, operator: OperatorSimulator, receiver: CallbackReceiver
) -> None:
    with pytest.raises(NoPendingConfirmationError):
        await operator.answer(IGNORES, "1")
    await gateway.request_charge(make_charge(IGNORES), "text", receiver.url, False)
    with pytest.raises(ValueError, match="1 or 0"):
        await operator.answer(IGNORES, "yes")

    declined = await operator.answer(IGNORES, "0")

    assert [c.outcome for c in receiver.received] == [ChargeOutcome.DECLINED]
    assert declined.request.charge_id == "ch-1"
    assert operator.pending_for(IGNORES) == []


@pytest.fixture
def refused_url() -> Iterator[str]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/callbacks/{OPERATOR}"


async def test_an_unreachable_gateway_gets_freshly_signed_retries(
    gateway: HttpChargingClient,
    operator: OperatorSimulator,
    sleep: RecordedSleep,
    refused_url: str,
) -> None:
    await gateway.request_charge(make_charge(IGNORES), "text", refused_url, False)

    await operator.answer(IGNORES, "1")

    assert [sent.status for sent in operator.callbacks] == [None, None, None]
    assert sleep.seconds == [5.0, 10.0]
    nonces = {orjson.loads(sent.body)["nonce"] for sent in operator.callbacks}
    assert len(nonces) == 3


async def test_a_refused_callback_is_not_retried(
    gateway: HttpChargingClient,
    operator: OperatorSimulator,
    clock: FakeClock,
    sleep: RecordedSleep,
) -> None:
    other_secret = CallbackReceiver(clock, secret=b"not-the-operator-secret")
    await other_secret.start()
    try:
        await gateway.request_charge(make_charge(IGNORES), "text", other_secret.url, False)
        await operator.answer(IGNORES, "1")
    finally:
        await other_secret.close()

    assert [sent.status for sent in operator.callbacks] == [401]
    assert [error.reason for error in other_secret.refused] == ["bad_signature"]
    assert sleep.seconds == []


async def test_the_same_callback_bytes_again_are_a_replay(
    gateway: HttpChargingClient,
    operator: OperatorSimulator,
    receiver: CallbackReceiver,
    session: aiohttp.ClientSession,
) -> None:
    await gateway.request_charge(make_charge(IGNORES), "text", receiver.url, False)
    await operator.answer(IGNORES, "1")
    first = operator.callbacks[0]
    timestamp = str(orjson.loads(first.body)["timestamp"])

    status, answer = await _post(
        session, first.url, first.body, signature_headers(SECRET, timestamp, first.body)
    )

    assert (first.status, status, answer["error"]) == (200, 409, "replayed")
    assert len(receiver.received) == 1


async def test_closing_cancels_a_phone_still_thinking(clock: FakeClock) -> None:
    phones = PhoneBook([VirtualPhone("79161110001", OPERATOR, Money(100_00, "RUB"))])
    phones.require("79161110001").answer_delay = 3600.0
    sim = OperatorSimulator(OPERATOR, SECRET, phones, clock=clock)
    await sim.start()
    async with aiohttp.ClientSession() as session:
        gateway = HttpChargingClient(sim.base_url, SECRET, session, GUARD, clock=clock)
        answer = await gateway.request_charge(
            make_charge("79161110001"), "text", "http://127.0.0.1:9/cb", False
        )

    async with asyncio.timeout(GUARD):
        await sim.close()

    assert answer.outcome is ChargeOutcome.ACCEPTED
    assert sim.callbacks == []
    assert phones.require("79161110001").balance == Money(100_00, "RUB")


async def test_settle_waits_for_every_answering_phone(
    gateway: HttpChargingClient, operator: OperatorSimulator, receiver: CallbackReceiver
) -> None:
    for number, charge_id in (("79161110001", "a"), ("79161110002", "b")):
        await gateway.request_charge(
            make_charge(number, charge_id=charge_id), "t", receiver.url, False
        )

    await settled(operator)

    outcomes = {(c.charge_id, c.outcome) for c in receiver.received}
    assert outcomes == {("a", ChargeOutcome.CONFIRMED), ("b", ChargeOutcome.DECLINED)}


def test_the_simulated_operators_read_what_must_remain_from_their_files() -> None:
    assert bundled_must_remain("beeline") == Money(10_00, "RUB")
    assert bundled_must_remain("mts") is None
    assert bundled_must_remain("no-such-operator") is None


async def test_beeline_keeps_10_rub_on_the_phone_and_says_why_it_refused(
    clock: FakeClock, receiver: CallbackReceiver
) -> None:
    phones = PhoneBook([VirtualPhone("79031110001", "beeline", Money(100_00, "RUB"))])
    sim = OperatorSimulator("beeline", SECRET, phones, clock=clock)
    await sim.start()
    try:
        async with aiohttp.ClientSession() as session:
            gateway = HttpChargingClient(sim.base_url, SECRET, session, GUARD, clock=clock)
            for charge_id, amount in (("too-much", 95_00), ("fits", 90_00)):
                charge = replace(
                    make_charge("79031110001", amount, charge_id), operator_id="beeline"
                )
                await gateway.request_charge(charge, "text", receiver.url, False)
            await settled(sim)
    finally:
        await sim.close()

    answers = {(c.charge_id, c.outcome, c.reason) for c in receiver.received}
    assert answers == {
        ("too-much", ChargeOutcome.FAILED, "insufficient_funds"),
        ("fits", ChargeOutcome.CONFIRMED, None),
    }
    assert phones.require("79031110001").balance == Money(10_00, "RUB")


async def test_a_barred_number_fails_with_its_reason(
    gateway: HttpChargingClient, operator: OperatorSimulator, receiver: CallbackReceiver
) -> None:
    operator.phones.require("79161110001").barred = True
    await gateway.request_charge(make_charge("79161110001"), "t", receiver.url, False)
    await settled(operator)
    assert [(c.outcome, c.reason) for c in receiver.received] == [
        (ChargeOutcome.FAILED, "subscriber_barred")
    ]
