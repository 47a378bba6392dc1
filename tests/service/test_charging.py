"""The charge flow (docs/rules.md §5): gateway-mode `1`/`0`, callbacks and their checks, lost
answers, and money moving exactly once whatever is repeated."""

from __future__ import annotations

from smsgw.domain.charges import ChargeState
from smsgw.service.ports import CallbackAnswer, CallbackVerdict, ChargeAnswer, ChargeOutcome

from .harness import PHONE, Harness

PLATE = "A123BC77"


async def _charge_state(harness: Harness, charge_id: str) -> ChargeState:
    stored = await harness.db.transact(lambda tx: tx.get_charge(charge_id))
    assert stored is not None
    return stored.charge.state


# --- gateway mode: the gateway asks the subscriber itself --------------------------------


async def test_gateway_mode_asks_and_charges_on_1(harness: Harness) -> None:
    gwtel = harness.charging["gwtel"]
    gwtel.request_default = ChargeOutcome.CONFIRMED
    texts = await harness.mo(f"1001*{PLATE}*2", operator="gwtel")
    assert texts == ["Pay 120 RUB for 1001 A123BC77, 2 h? Reply 1 (yes) or 0 (no)"]
    assert gwtel.requests == []  # nothing goes to the operator before the `1`

    texts = await harness.mo("1", operator="gwtel")

    [call] = gwtel.requests
    assert call.confirmed_by_subscriber and call.charge.amount.minor == 12000
    assert texts == ["Parking 1001 A123BC77 until 11:00. Paid 120 RUB. Parking account 0 RUB"]
    assert await harness.assert_books_balance() == {
        "operator:gwtel:RUB": -12000,
        "revenue:1001:RUB": 12000,
    }


async def test_gateway_mode_0_declines_without_asking_the_operator(harness: Harness) -> None:
    await harness.mo(f"1001*{PLATE}*2", operator="gwtel")
    texts = await harness.mo("0", operator="gwtel")
    assert texts == ["Payment of 120 RUB for 1001 A123BC77 declined. Not started"]
    assert harness.charging["gwtel"].requests == []
    assert await harness.pending() is None
    assert await harness.paid_until(PLATE) is None


async def test_a_second_answer_while_the_operator_works_is_told_to_wait(
    harness: Harness,
) -> None:
    await harness.mo(f"1001*{PLATE}*2", operator="gwtel")  # the operator answers "pending"
    assert await harness.mo("1", operator="gwtel") == []
    assert await harness.mo("0", operator="gwtel") == [
        "Your payment of 120 RUB is being processed. Please wait"
    ]
    assert await harness.mo("1", operator="gwtel") == [
        "Your payment of 120 RUB is being processed. Please wait"
    ]
    assert len(harness.charging["gwtel"].requests) == 1


async def test_a_1_after_the_deadline_expires_the_question(harness: Harness) -> None:
    await harness.mo(f"1001*{PLATE}*2", operator="gwtel")
    harness.clock.advance(minutes=20)
    assert await harness.mo("1", operator="gwtel") == [
        "1001 A123BC77: payment of 120 RUB not confirmed in time. Send the command again"
        " and reply 1 to the SMS from 7757"
    ]
    assert harness.charging["gwtel"].requests == []


async def test_1_or_0_with_nothing_to_answer(harness: Harness) -> None:
    assert await harness.mo("1") == ["There is no payment awaiting confirmation"]
    await harness.mo(f"1001*{PLATE}*2")  # operator mode: the operator takes the `1`
    # told where the answer goes, instead of "nothing is waiting"
    assert await harness.mo("0") == [
        "Payment of 120 RUB: reply 1 or 0 to the SMS from 7701, not here"
    ]
    assert len(harness.charging["mts"].requests) == 1


# --- callbacks -----------------------------------------------------------------------------


async def test_duplicate_and_replayed_callbacks_move_money_once(harness: Harness) -> None:
    await harness.mo(f"1001*{PLATE}*2")
    charge_id = harness.last_charge_id()
    body, headers = harness.signed_callback(charge_id, "confirmed")

    first = await harness.raw_callback("mts", headers, body)
    replayed = await harness.raw_callback("mts", headers, body)
    repeated = await harness.callback(charge_id)  # a retry: new nonce, same status

    assert first[0] == 200 and first[1]["result"] == "applied"
    assert replayed[0] == 409 and replayed[1]["error"] == "replayed"
    assert repeated[0] == 200 and repeated[1]["result"] == "unchanged"
    assert len(await harness.flush()) == 1
    assert await harness.ledger_count("charge_confirmed") == 1
    assert await harness.ledger_count("session_paid") == 1
    assert await harness.assert_books_balance() == {
        "operator:mts:RUB": -12000,
        "revenue:1001:RUB": 12000,
    }


async def test_a_contradicting_callback_is_refused(harness: Harness) -> None:
    await harness.mo(f"1001*{PLATE}*2")
    charge_id = harness.last_charge_id()
    await harness.callback(charge_id)
    status, body = await harness.callback(charge_id, "declined")
    assert (status, body["error"]) == (409, "conflict")
    assert await _charge_state(harness, charge_id) is ChargeState.APPLIED
    assert await harness.paid_until(PLATE) is not None


async def test_callbacks_that_are_not_believed(harness: Harness) -> None:
    await harness.mo(f"1001*{PLATE}*2")
    charge_id = harness.last_charge_id()

    forged = await harness.callback(charge_id, secret="not-the-secret-0123")
    unknown_charge = await harness.callback("chg_nobody")
    other_operator = await harness.callback(charge_id, operator="beeline")
    no_such_operator = await harness.raw_callback("acme", {}, b"{}")

    assert forged[0] == 401
    assert unknown_charge[0] == 404
    assert other_operator[0] == 404  # beeline never had this charge
    assert no_such_operator[0] == 404
    assert await _charge_state(harness, charge_id) is ChargeState.AWAITING_CONFIRMATION
    assert await harness.assert_books_balance() == {}


async def test_a_callback_that_fails_to_apply_can_be_sent_again(harness: Harness) -> None:
    await harness.mo(f"1001*{PLATE}*2")
    charge_id = harness.last_charge_id()
    body, headers = harness.signed_callback(charge_id, "confirmed", nonce="same-nonce")
    await harness.db.close()  # the database is gone for a moment

    status, _ = await harness.raw_callback("mts", headers, body)

    assert status == 503
    await harness.reopen()
    status, _ = await harness.raw_callback("mts", headers, body)
    assert status == 200  # the nonce was not remembered by the failed attempt
    assert await harness.balance() == 0
    assert await harness.ledger_count("charge_confirmed") == 1


# --- no usable answer -------------------------------------------------------------------------


async def test_a_request_without_answer_is_sent_again_with_the_same_id(harness: Harness) -> None:
    mts = harness.charging["mts"]
    mts.request_answers.extend([ConnectionError("down"), ChargeOutcome.UNKNOWN])
    await harness.mo(f"1001*{PLATE}*2")
    assert await harness.run_due(seconds=10) == []
    assert len(mts.requests) == 1  # not before the back-off
    await harness.run_due(seconds=10)
    await harness.run_due(seconds=30)
    assert [call.charge.id for call in mts.requests] == [mts.requests[0].charge.id] * 3
    assert await _charge_state(harness, mts.requests[0].charge.id) is (
        ChargeState.AWAITING_CONFIRMATION
    )


async def test_a_lost_callback_is_made_up_for_by_polling(harness: Harness) -> None:
    mts = harness.charging["mts"]
    await harness.mo(f"1001*{PLATE}*2")  # accepted; the callback never comes
    assert await harness.run_due(seconds=59) == []
    mts.status_default = ChargeOutcome.CONFIRMED
    texts = await harness.run_due(seconds=2)
    assert texts == ["Parking 1001 A123BC77 until 11:00. Paid 120 RUB. Parking account 0 RUB"]
    assert len(mts.polls) == 1
    assert await harness.run_due(minutes=20) == []
    assert len(mts.polls) == 1  # settled: polling stopped
    await harness.assert_books_balance()


async def test_an_answer_overtaken_by_its_callback_changes_nothing(harness: Harness) -> None:
    harness.charging["mts"].request_default = ChargeOutcome.UNKNOWN
    await harness.mo(f"1001*{PLATE}*2")
    charge_id = harness.last_charge_id()
    await harness.callback(charge_id)
    await harness.flush()

    # the request's own answer arrives after the callback applied the charge
    for outcome in (ChargeOutcome.ACCEPTED, ChargeOutcome.CONFIRMED, ChargeOutcome.UNKNOWN):
        await harness.svc.messages.flow.on_answer(charge_id, ChargeAnswer(outcome))

    assert await _charge_state(harness, charge_id) is ChargeState.APPLIED
    assert await harness.run_due(hours=1) == []
    assert len(harness.charging["mts"].requests) == 1
    assert await harness.balance(PHONE) == 0
    assert await harness.ledger_count("charge_confirmed") == 1


async def test_the_service_answers_callbacks_in_its_own_terms_not_http(harness: Harness) -> None:
    """What became of a callback is a verdict; which status that is, the listener says."""
    await harness.mo(f"1001*{PLATE}*2")
    charge_id = harness.last_charge_id()
    body, headers = harness.signed_callback(charge_id, "confirmed")
    gateway = harness.svc.messages

    applied = await gateway.accept_charge_callback("mts", headers, body)
    replayed = await gateway.accept_charge_callback("mts", headers, body)
    unknown = await gateway.accept_charge_callback("acme", {}, b"{}")
    await harness.db.close()
    body, headers = harness.signed_callback(charge_id, "confirmed", nonce="later")
    unavailable = await gateway.accept_charge_callback("mts", headers, body)
    await harness.reopen()

    assert applied == CallbackAnswer(CallbackVerdict.STORED, result="applied")
    assert replayed.verdict is CallbackVerdict.REPLAYED
    assert unknown.verdict is CallbackVerdict.UNKNOWN_OPERATOR
    assert unavailable == CallbackAnswer(CallbackVerdict.UNAVAILABLE, "try again later")
