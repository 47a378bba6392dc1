"""The protocol's bodies: requests round-trip, bad fields are named, repeats compared."""

from __future__ import annotations

from dataclasses import replace

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsgw.charging.protocol import (
    ChargeRequest,
    ChargeView,
    MalformedBodyError,
    WireStatus,
    callback_body,
    charge_path,
)
from smsgw.domain.money import Money

REQUEST = ChargeRequest(
    charge_id="ch-1",
    msisdn="79161234567",
    amount=Money(12000, "RUB"),
    text="Парковка 1001, A123BC77, 2 ч: 120,00 ₽",
    callback_url="https://gw.example/callbacks/mts",
    confirmed_by_subscriber=False,
)


def test_the_request_body_has_the_documented_fields() -> None:
    assert orjson.loads(REQUEST.to_json()) == {
        "charge_id": "ch-1",
        "msisdn": "79161234567",
        "amount": 12000,
        "currency": "RUB",
        "text": "Парковка 1001, A123BC77, 2 ч: 120,00 ₽",
        "callback_url": "https://gw.example/callbacks/mts",
        "confirmed_by_subscriber": False,
    }


@settings(max_examples=200)
@given(
    charge_id=st.text(min_size=1, max_size=128),
    msisdn=st.from_regex(r"[0-9]{5,15}", fullmatch=True),
    minor=st.integers(1, 2**53),
    currency=st.sampled_from(["RUB", "KZT"]),
    text=st.text(min_size=1, max_size=1000),
    confirmed=st.booleans(),
)
def test_any_request_round_trips(
    charge_id: str, msisdn: str, minor: int, currency: str, text: str, confirmed: bool
) -> None:
    request = ChargeRequest(
        charge_id, msisdn, Money(minor, currency), text, "http://gw/cb", confirmed
    )

    assert ChargeRequest.from_json(request.to_json()) == request


def _with(**changes: object) -> bytes:
    fields = orjson.loads(REQUEST.to_json())
    fields.update(changes)
    return orjson.dumps(fields)


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (_with(amount=0), "amount"),
        (_with(amount=1.5), "amount"),
        (_with(amount="120.00"), "amount"),
        (_with(amount=True), "amount"),
        (_with(currency="rub"), "currency"),
        (_with(currency=None), "currency"),
        (_with(msisdn="+79161234567"), "msisdn"),
        (_with(msisdn="7916"), "msisdn"),
        (_with(callback_url="ftp://gw/cb"), "callback_url"),
        (_with(confirmed_by_subscriber="false"), "confirmed_by_subscriber"),
        (_with(text=""), "text"),
        (_with(charge_id="x" * 129), "charge_id"),
        (b"null", "object"),
    ],
)
def test_a_bad_field_is_named(body: bytes, named: str) -> None:
    with pytest.raises(MalformedBodyError, match=named):
        ChargeRequest.from_json(body)


def test_only_phone_and_money_make_a_repeat_another_charge() -> None:
    retried = replace(
        REQUEST, text="other", callback_url="http://moved/cb", confirmed_by_subscriber=True
    )

    assert REQUEST.same_charge(retried)
    assert not REQUEST.same_charge(replace(REQUEST, msisdn="79160000000"))
    assert not REQUEST.same_charge(replace(REQUEST, amount=Money(12001, "RUB")))
    assert not REQUEST.same_charge(replace(REQUEST, amount=Money(12000, "KZT")))


def test_views_and_callbacks_carry_reason_only_when_there_is_one() -> None:
    pending = ChargeView("ch-1", WireStatus.PENDING, "R-1")
    failed = ChargeView("ch-1", WireStatus.FAILED, None, "insufficient_funds")

    assert "reason" not in orjson.loads(pending.to_json())
    assert ChargeView.from_json(failed.to_json()) == failed
    assert orjson.loads(callback_body(failed, nonce="n", timestamp="1767225600")) == {
        "charge_id": "ch-1",
        "status": "failed",
        "operator_reference": None,
        "nonce": "n",
        "timestamp": 1767225600,
        "reason": "insufficient_funds",
    }


def test_the_charge_id_is_one_path_segment() -> None:
    assert charge_path("a/b c?") == "/charges/a%2Fb%20c%3F"
