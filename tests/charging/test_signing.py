"""sign/verify: known answers (checked with openssl), a table of refusals, properties."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsgw.charging.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
    signature_headers,
    unix_timestamp,
    verify,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "operator-charging.md"
VECTOR = re.compile(
    r"secret:\s+(?P<secret>\S+)\ntimestamp:\s+(?P<timestamp>\d+)\n"
    r"signed:\s+(?P<signed>.+)\nsignature:\s+(?P<signature>\S+)\n"
)
SECRET = b"operator-shared-secret-0001"
BODY = b'{"charge_id":"c-1","status":"confirmed"}'
# printf '%s' '1767225600.{"charge_id":"c-1","status":"confirmed"}' \
#   | openssl dgst -sha256 -hmac 'operator-shared-secret-0001'
KNOWN = "sha256=14b1219e6f1f461cb3c247eb2c3a8f4261fec32d522968861fd11f6f810139a7"


def test_known_answer() -> None:
    assert sign(SECRET, "1767225600", BODY) == KNOWN
    assert verify(SECRET, "1767225600", BODY, KNOWN)


def test_the_documents_test_vectors_hold() -> None:
    vectors = list(VECTOR.finditer(DOC.read_text("utf-8")))

    assert len(vectors) == 3
    for vector in vectors:
        secret = vector["secret"].encode("utf-8")
        signed = vector["signed"].encode("utf-8")
        assert sign(secret, vector["timestamp"], signed) == vector["signature"]


@pytest.mark.parametrize(
    ("secret", "timestamp", "body", "signature", "valid"),
    [
        (SECRET, "1767225600", BODY, KNOWN, True),
        (SECRET, "1767225600", BODY, KNOWN.upper().replace("SHA256=", "sha256="), True),
        (SECRET, "1767225600", BODY, f"  {KNOWN} ", True),
        (b"another-secret", "1767225600", BODY, KNOWN, False),
        (SECRET, "1767225601", BODY, KNOWN, False),
        (SECRET, "1767225600", BODY + b" ", KNOWN, False),
        (SECRET, "1767225600", BODY, KNOWN.removeprefix("sha256="), False),
        (SECRET, "1767225600", BODY, "sha1=" + KNOWN.removeprefix("sha256="), False),
        (SECRET, "1767225600", BODY, KNOWN[:-1], False),
        (SECRET, "1767225600", BODY, "", False),
        (SECRET, "1767225600", BODY, "sha256=ключ\udcff", False),
        (SECRET, "1767225600\ud800", BODY, KNOWN, False),
    ],
)
def test_verify_table(
    secret: bytes, timestamp: str, body: bytes, signature: str, valid: bool
) -> None:
    assert verify(secret, timestamp, body, signature) is valid


def test_signature_headers_carry_timestamp_and_signature() -> None:
    headers = signature_headers(SECRET, "1767225600", BODY)

    assert headers == {TIMESTAMP_HEADER: "1767225600", SIGNATURE_HEADER: KNOWN}


def test_unix_timestamp_is_whole_utc_seconds() -> None:
    moscow = timezone(timedelta(hours=3))

    assert unix_timestamp(datetime(2026, 1, 1, tzinfo=UTC)) == "1767225600"
    assert unix_timestamp(datetime(2026, 1, 1, 3, 0, 0, 999_999, tzinfo=moscow)) == "1767225600"
    with pytest.raises(ValueError, match="timezone-aware"):
        unix_timestamp(datetime(2026, 1, 1))


secrets_ = st.binary(min_size=1, max_size=64)
timestamps = st.text(max_size=20)
bodies = st.binary(max_size=512)


@settings(max_examples=200)
@given(secret=secrets_, timestamp=timestamps, body=bodies)
def test_any_signed_message_verifies(secret: bytes, timestamp: str, body: bytes) -> None:
    signature = sign(secret, timestamp, body)

    assert re.fullmatch(r"sha256=[0-9a-f]{64}", signature)
    assert verify(secret, timestamp, body, signature)


@settings(max_examples=200)
@given(
    secret=secrets_,
    timestamp=timestamps,
    body=bodies.filter(bool),
    data=st.data(),
)
def test_any_single_byte_change_of_the_body_fails(
    secret: bytes, timestamp: str, body: bytes, data: st.DataObject
) -> None:
    signature = sign(secret, timestamp, body)
    index = data.draw(st.integers(0, len(body) - 1), label="index")
    new_byte = data.draw(st.integers(0, 255).filter(lambda b: b != body[index]), label="byte")
    changed = body[:index] + bytes([new_byte]) + body[index + 1 :]

    assert not verify(secret, timestamp, changed, signature)


@settings(max_examples=200)
@given(secret=secrets_, timestamp=timestamps, other=timestamps, body=bodies)
def test_another_timestamp_fails(secret: bytes, timestamp: str, other: str, body: bytes) -> None:
    signature = sign(secret, timestamp, body)

    assert verify(secret, other, body, signature) is (
        other.encode("utf-8", "surrogatepass") == timestamp.encode("utf-8", "surrogatepass")
    )


@settings(max_examples=200)
@given(secret=secrets_, body=bodies, data=st.data())
def test_any_changed_hex_digit_of_the_signature_fails(
    secret: bytes, body: bytes, data: st.DataObject
) -> None:
    signature = sign(secret, "1767225600", body)
    index = data.draw(st.integers(len("sha256="), len(signature) - 1), label="index")
    digit = data.draw(st.sampled_from("0123456789abcdef").filter(lambda d: d != signature[index]))
    changed = signature[:index] + digit + signature[index + 1 :]

    assert not verify(secret, "1767225600", body, changed)
