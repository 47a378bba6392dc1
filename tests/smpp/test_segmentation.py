from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsgw.smpp.gsm7 import pack_septets, udh_fill_bits
from smsgw.smpp.reassembly import parse_udh
from smsgw.smpp.segmentation import (
    MessageTooLongError,
    Method,
    Segment,
    concat_udh,
    segment,
    segment_count,
    segment_octets,
)
from smsgw.smpp.text import Encoding, decode_text

METHODS: list[Method] = ["udh", "sar", "payload"]
SMS_OCTETS = 140
# Characters that stress the rules: escapes, Cyrillic, Kazakh, surrogate pairs.
CHARS = st.sampled_from([*"aZ9 *@€{}^[]~|\\\fДжәҚ", "😀", "🚗", "\U00010348"])
LONG_TEXT = st.text(alphabet=CHARS, min_size=200, max_size=700)
# Mostly GSM with rare escapes, so GSM parts with escapes at the cut are common too.
GSM_LONG_TEXT = st.text(alphabet=st.sampled_from("a" * 10 + "€"), min_size=200, max_size=700)
MIXED_TEXT = st.one_of(st.text(alphabet=CHARS, max_size=100), LONG_TEXT, GSM_LONG_TEXT)


def short_id(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 24 else f"{text[:12]}..{len(text)}"


def bodies(segments: list[Segment]) -> list[bytes]:
    out: list[bytes] = []
    for part in segments:
        if part.message_payload is not None:
            out.append(part.message_payload)
        elif part.esm_class_udhi:
            out.append(parse_udh(part.short_message)[1])
        else:
            out.append(part.short_message)
    return out


def air_octets(part: Segment) -> int:
    """Octets the part takes in the SMS user data on the air (GSM packed by the SMSC)."""
    udh = parse_udh(part.short_message)[2] if part.esm_class_udhi else 0
    if part.sar is not None:
        udh = 6 if part.sar[0] <= 0xFF else 7  # the UDH the SMSC will build
    body = part.short_message[udh:] if part.esm_class_udhi else part.short_message
    if part.data_coding == Encoding.GSM7:
        return udh + len(pack_septets(body, udh_fill_bits(udh)))
    return udh + len(body)


@pytest.mark.parametrize(
    ("text", "sizes"),
    [
        ("a" * 160, [160]),
        ("a" * 161, [153, 8]),
        ("a" * 306, [153, 153]),
        ("a" * 307, [153, 153, 1]),
        ("€" * 80, [160]),
        ("€" * 81, [152, 10]),  # 153 would cut the 77th escape in half
        ("Д" * 70, [140]),
        ("Д" * 71, [134, 8]),
        ("Д" * 134, [134, 134]),
        ("a" * 66 + "😀" + "b" * 10, [132, 24]),  # 67 units would end on a high surrogate
        ("", [0]),
    ],
    ids=short_id,
)
def test_part_sizes_with_8bit_reference(text: str, sizes: list[int]) -> None:
    assert [len(body) for body in bodies(segment(text, reference=1))] == sizes


@pytest.mark.parametrize(
    ("text", "sizes"),
    [
        ("a" * 161, [152, 9]),
        ("a" * 304, [152, 152]),
        ("Д" * 71, [132, 10]),
        ("x" * 140, [140]),
    ],
    ids=short_id,
)
def test_part_sizes_with_16bit_reference(text: str, sizes: list[int]) -> None:
    assert [len(body) for body in bodies(segment(text, reference=1, ref16=True))] == sizes


def test_udh_headers() -> None:
    parts = segment("a" * 200, reference=0x1FF)
    assert [p.short_message[:6] for p in parts] == [
        bytes([5, 0, 3, 0xFF, 2, 1]),
        bytes([5, 0, 3, 0xFF, 2, 2]),
    ]
    assert all(p.esm_class_udhi and p.sar is None and p.message_payload is None for p in parts)
    parts16 = segment("a" * 200, reference=0x1FF, ref16=True)
    assert parts16[1].short_message[:7] == bytes([6, 8, 4, 0x01, 0xFF, 2, 2])
    assert concat_udh(0x1234, 3, 1, ref16=True) == bytes([6, 8, 4, 0x12, 0x34, 3, 1])


def test_sar_segments() -> None:
    parts = segment("Д" * 100, method="sar", reference=300, ref16=True)
    assert [p.sar for p in parts] == [(300, 2, 1), (300, 2, 2)]
    assert all(not p.esm_class_udhi and p.data_coding == Encoding.UCS2 for p in parts)
    assert segment("a" * 200, method="sar", reference=300)[0].sar == (300 & 0xFF, 2, 1)


def test_payload_segment() -> None:
    [part] = segment("a" * 1000, method="payload", reference=1)
    assert part == Segment(Encoding.GSM7, False, b"", None, b"a" * 1000)


def test_single_part_is_plain_for_every_method() -> None:
    for method in METHODS:
        assert segment("hi", method=method, reference=9) == [
            Segment(Encoding.GSM7, False, b"hi", None, None)
        ]


def test_forced_data_coding() -> None:
    [part] = segment("hi", data_coding=Encoding.UCS2, reference=1)
    assert part.data_coding == Encoding.UCS2
    assert part.short_message == b"\x00h\x00i"
    assert segment("hé", allow_latin1=True, reference=1)[0].data_coding == Encoding.GSM7
    assert segment("hê", allow_latin1=True, reference=1)[0].data_coding == Encoding.LATIN1


def test_too_many_parts() -> None:
    with pytest.raises(MessageTooLongError):
        segment("a" * 154 * 3, reference=1, max_parts=3)
    with pytest.raises(MessageTooLongError):
        segment("a" * 153 * 255 + "a", reference=1, max_parts=1000)
    assert len(segment("a" * 153 * 255, reference=1)) == 255
    with pytest.raises(MessageTooLongError):
        segment("a" * 0x10000, method="payload", reference=1)


def test_binary_octets() -> None:
    payload = bytes(range(256)) + bytes(44)
    parts = segment_octets(payload, 4, reference=5)
    assert [len(body) for body in bodies(parts)] == [134, 134, 32]
    assert b"".join(bodies(parts)) == payload


@settings(max_examples=200)
@given(
    MIXED_TEXT,
    st.sampled_from(METHODS),
    st.booleans(),
    st.integers(min_value=0, max_value=0xFFFF),
)
def test_segments_rejoin_fit_and_never_split_a_character(
    text: str, method: Method, ref16: bool, reference: int
) -> None:
    parts = segment(text, method=method, reference=reference, ref16=ref16)
    coding = parts[0].data_coding
    assert all(p.data_coding == coding for p in parts)
    assert decode_text(b"".join(bodies(parts)), coding) == text
    # Each part decodes on its own: no escape or surrogate pair was cut.
    assert "".join(decode_text(body, coding) for body in bodies(parts)) == text
    assert segment_count(text, method=method, ref16=ref16) == len(parts)
    if method != "payload":
        assert all(air_octets(p) <= SMS_OCTETS for p in parts)
        assert all(len(p.short_message) <= 254 for p in parts)


@settings(max_examples=200)
@given(st.one_of(LONG_TEXT, GSM_LONG_TEXT), st.booleans())
def test_parts_are_full_but_for_the_last(text: str, ref16: bool) -> None:
    parts = segment(text, reference=1, ref16=ref16)
    assert len(parts) > 1
    if parts[0].data_coding == Encoding.GSM7:
        size, slack = (152 if ref16 else 153), 1  # one septet lost before an escape
    else:
        size, slack = (132 if ref16 else 134), 2  # one unit lost before a surrogate pair
    for body in bodies(parts)[:-1]:
        assert size - slack <= len(body) <= size
    total = len(parts)
    seqnums = [parse_udh(p.short_message)[0] for p in parts]
    assert [(c.total, c.seqnum) for c in seqnums if c] == [(total, n) for n in range(1, total + 1)]
