"""parse_callback: a valid callback, each refusal with its verdict (and the HTTP status
the listener answers for it), properties."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsgw.charging.callbacks import (
    BadSignatureError,
    CallbackRejected,
    ConflictingCallbackError,
    MalformedCallbackError,
    ReplayedCallbackError,
    StaleCallbackError,
    UnknownChargeCallbackError,
    UnknownOperatorCallbackError,
    UnsignedCallbackError,
    parse_callback,
)
from smsgw.charging.protocol import MAX_BODY_BYTES
from smsgw.charging.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from smsgw.service.ports import CallbackRefusedError, ChargeCallback, ChargeOutcome
from smsgw.transport.http_callbacks import STATUS_OF_VERDICT

SECRET = b"callback-secret-0123456789"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
TS = "1767225600"  # NOW in unix seconds


def body_of(**changes: object) -> bytes:
    fields: dict[str, object] = {
        "charge_id": "ch-42",
        "status": "confirmed",
        "operator_reference": "MTS-000042",
        "nonce": "n-1",
        "timestamp": int(TS),
    }
    fields.update(changes)
    return orjson.dumps({key: value for key, value in fields.items() if value is not ...})


def signed(body: bytes, timestamp: str = TS, secret: bytes = SECRET) -> dict[str, str]:
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(secret, timestamp, body)}


def test_a_valid_callback_is_parsed() -> None:
    body = body_of()

    callback = parse_callback("mts", SECRET, signed(body), body, NOW)

    assert callback == ChargeCallback("mts", "ch-42", ChargeOutcome.CONFIRMED, "MTS-000042", "n-1")


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("confirmed", ChargeOutcome.CONFIRMED),
        ("declined", ChargeOutcome.DECLINED),
        ("failed", ChargeOutcome.FAILED),
    ],
)
def test_each_final_status_maps_to_its_outcome(status: str, outcome: ChargeOutcome) -> None:
    body = body_of(status=status, operator_reference=None, reason="insufficient_funds")

    callback = parse_callback("mts", SECRET, signed(body), body, NOW)

    assert (callback.outcome, callback.operator_reference) == (outcome, None)


def test_header_names_are_case_insensitive_in_a_plain_dict() -> None:
    body = body_of()
    headers = {name.lower(): value for name, value in signed(body).items()}

    assert parse_callback("mts", SECRET, headers, body, NOW).charge_id == "ch-42"


def test_exactly_five_minutes_of_skew_is_accepted_either_way() -> None:
    body = body_of()

    for now in (NOW - timedelta(minutes=5), NOW + timedelta(minutes=5)):
        assert parse_callback("mts", SECRET, signed(body), body, now).nonce == "n-1"


def _without(headers: Mapping[str, str], name: str) -> dict[str, str]:
    return {key: value for key, value in headers.items() if key != name}


GOOD = body_of()
BAD_BODY = 400, MalformedCallbackError
NOT_AUTHENTIC = 401, BadSignatureError
UNSIGNED = 401, UnsignedCallbackError
STALE = 401, StaleCallbackError
Expected = tuple[int, type[CallbackRejected]]


def case(
    name: str,
    body: bytes,
    expected: Expected,
    headers: Mapping[str, str] | None = None,
    now: datetime = NOW,
) -> object:
    """One refusal; the headers sign `body` properly unless given."""
    sent = signed(body) if headers is None else headers
    return pytest.param(sent, body, now, expected[1], expected[0], id=name)


REJECTIONS = [
    case("no headers", GOOD, UNSIGNED, headers={}),
    case("no signature", GOOD, UNSIGNED, headers=_without(signed(GOOD), SIGNATURE_HEADER)),
    case("no timestamp", GOOD, UNSIGNED, headers=_without(signed(GOOD), TIMESTAMP_HEADER)),
    case("wrong secret", GOOD, NOT_AUTHENTIC, headers=signed(GOOD, secret=b"x" * 20)),
    case("body changed", body_of(status="declined"), NOT_AUTHENTIC, headers=signed(GOOD)),
    case("timestamp moved", GOOD, NOT_AUTHENTIC, headers={**signed(GOOD), TIMESTAMP_HEADER: "1"}),
    case("stale", GOOD, STALE, now=NOW + timedelta(minutes=5, seconds=1)),
    case("from the future", GOOD, STALE, now=NOW - timedelta(minutes=6)),
    case("timestamp not seconds", GOOD, BAD_BODY, headers=signed(GOOD, "2026-01-01T00:00:00Z")),
    case("not JSON", b"status=confirmed", BAD_BODY),
    case("not UTF-8", b'{"status": "\xff"}', BAD_BODY),
    case("not an object", b"[]", BAD_BODY),
    case("pending is not a result", body_of(status="pending"), BAD_BODY),
    case("unknown status", body_of(status="ok"), BAD_BODY),
    case("no nonce", body_of(nonce=...), BAD_BODY),
    case("empty nonce", body_of(nonce=""), BAD_BODY),
    case("no charge id", body_of(charge_id=...), BAD_BODY),
    case("numeric charge id", body_of(charge_id=42), BAD_BODY),
    case("body timestamp differs", body_of(timestamp=1), BAD_BODY),
    case("body timestamp a string", body_of(timestamp=TS), BAD_BODY),
    case("reason not text", body_of(reason=7), BAD_BODY),
    case("too big", body_of(pad="x" * MAX_BODY_BYTES), BAD_BODY),
]


@pytest.mark.parametrize(
    ("headers", "body", "now", "error", "http_status"),
    REJECTIONS,
)
def test_rejections_carry_their_http_status(
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
    error: type[CallbackRejected],
    http_status: int,
) -> None:
    with pytest.raises(error) as raised:
        parse_callback("mts", SECRET, headers, body, now)

    assert STATUS_OF_VERDICT[raised.value.verdict] == http_status
    assert raised.value.reason == error.verdict.value
    assert str(raised.value)


@pytest.mark.parametrize(
    ("error", "http_status", "reason"),
    [
        (ReplayedCallbackError, 409, "replayed"),
        (ConflictingCallbackError, 409, "conflict"),
        (UnknownChargeCallbackError, 404, "unknown_charge"),
        (UnknownOperatorCallbackError, 404, "unknown_operator"),
    ],
)
def test_refusals_for_the_service_and_the_listener(
    error: type[CallbackRejected], http_status: int, reason: str
) -> None:
    refusal = error("detail for the operator")

    assert (STATUS_OF_VERDICT[refusal.verdict], refusal.reason) == (http_status, reason)
    assert str(refusal) == "detail for the operator"
    assert isinstance(refusal, CallbackRefusedError)  # what the service catches


ids = st.text(min_size=1, max_size=128)


@settings(max_examples=200)
@given(
    charge_id=ids,
    nonce=ids,
    reference=st.none() | ids,
    status=st.sampled_from(["confirmed", "declined", "failed"]),
    skew=st.integers(-300, 300),
)
def test_any_well_formed_callback_round_trips(
    charge_id: str, nonce: str, reference: str | None, status: str, skew: int
) -> None:
    body = body_of(charge_id=charge_id, nonce=nonce, operator_reference=reference, status=status)

    callback = parse_callback("op", SECRET, signed(body), body, NOW + timedelta(seconds=skew))

    assert (callback.charge_id, callback.nonce, callback.operator_reference) == (
        charge_id,
        nonce,
        reference,
    )
    assert callback.outcome.value == status


@settings(max_examples=200)
@given(data=st.data())
def test_any_single_byte_change_is_a_bad_signature(data: st.DataObject) -> None:
    body = body_of(nonce=data.draw(ids, label="nonce"))
    headers = signed(body)
    index = data.draw(st.integers(0, len(body) - 1), label="index")
    new_byte = data.draw(st.integers(0, 255).filter(lambda b: b != body[index]), label="byte")
    changed = body[:index] + bytes([new_byte]) + body[index + 1 :]

    with pytest.raises(BadSignatureError):
        parse_callback("op", SECRET, headers, changed, NOW)


@settings(max_examples=200)
@given(body=st.binary(max_size=300), timestamp=st.text(max_size=30))
def test_no_input_raises_anything_but_a_rejection(body: bytes, timestamp: str) -> None:
    headers = signed(body, timestamp)

    try:
        parse_callback("op", SECRET, headers, body, NOW)
    except CallbackRejected as error:
        assert 400 <= STATUS_OF_VERDICT[error.verdict] < 500
