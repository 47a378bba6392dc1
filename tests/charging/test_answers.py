"""What each operator HTTP answer means: FAILED only when nothing was certainly taken."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsgw.charging.answers import TRANSIENT_CLIENT_ERRORS, answer_to_poll, answer_to_request
from smsgw.charging.protocol import ChargeView, WireStatus, error_body
from smsgw.service.ports import ChargeAnswer, ChargeOutcome

ID = "ch-1"


def view(status: WireStatus, reason: str | None = None, charge_id: str = ID) -> bytes:
    return ChargeView(charge_id, status, "REF-1", reason).to_json()


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (WireStatus.PENDING, ChargeOutcome.ACCEPTED),
        (WireStatus.CONFIRMED, ChargeOutcome.CONFIRMED),
        (WireStatus.DECLINED, ChargeOutcome.DECLINED),
        (WireStatus.FAILED, ChargeOutcome.FAILED),
    ],
)
def test_the_body_status_decides_a_2xx(status: WireStatus, outcome: ChargeOutcome) -> None:
    expected = ChargeAnswer(outcome, "REF-1", "why", reason="why")

    assert answer_to_request(ID, 202, view(status, "why")) == expected
    assert answer_to_request(ID, 200, view(status, "why")) == expected
    assert answer_to_poll(ID, 200, view(status, "why")) == expected


@pytest.mark.parametrize(
    "body",
    [b"", b"<html>ok</html>", b'{"status": "pending"}', b'{"charge_id": "ch-1", "status": "?"}'],
)
def test_an_unreadable_2xx_is_unknown(body: bytes) -> None:
    assert answer_to_request(ID, 202, body).outcome is ChargeOutcome.UNKNOWN
    assert answer_to_poll(ID, 200, body).outcome is ChargeOutcome.UNKNOWN


def test_an_answer_about_another_charge_is_unknown() -> None:
    body = view(WireStatus.CONFIRMED, charge_id="someone-else")

    assert answer_to_request(ID, 200, body).outcome is ChargeOutcome.UNKNOWN
    assert answer_to_poll(ID, 200, body).outcome is ChargeOutcome.UNKNOWN


def test_error_details_come_from_the_error_body() -> None:
    answer = answer_to_request(ID, 409, error_body("conflict", "another charge"))

    assert answer == ChargeAnswer(ChargeOutcome.FAILED, None, "http 409: conflict: another charge")
    assert answer_to_request(ID, 400, b"nope").detail == "http 400"
    assert len(answer_to_request(ID, 400, error_body("e", "x" * 5000)).detail) == 200


client_errors = st.integers(400, 499).filter(lambda s: s not in TRANSIENT_CLIENT_ERRORS)


@settings(max_examples=200)
@given(status=client_errors, body=st.binary(max_size=64))
def test_a_4xx_refusal_of_the_request_is_failed(status: int, body: bytes) -> None:
    assert answer_to_request(ID, status, body).outcome is ChargeOutcome.FAILED


@settings(max_examples=200)
@given(
    status=st.integers(500, 599) | st.sampled_from(sorted(TRANSIENT_CLIENT_ERRORS)),
    body=st.binary(max_size=64),
)
def test_server_errors_and_throttling_are_unknown(status: int, body: bytes) -> None:
    assert answer_to_request(ID, status, body).outcome is ChargeOutcome.UNKNOWN
    assert answer_to_poll(ID, status, body).outcome is ChargeOutcome.UNKNOWN


@settings(max_examples=200)
@given(status=st.integers(100, 599).filter(lambda s: s != 200), body=st.binary(max_size=64))
def test_only_a_200_poll_can_decide_anything(status: int, body: bytes) -> None:
    assert answer_to_poll(ID, status, body).outcome is ChargeOutcome.UNKNOWN
