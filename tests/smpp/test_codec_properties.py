"""Properties of the codec for all inputs: round trips, framing across splits."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsgw.smpp.codec import DEFAULT_MAX_PDU_SIZE, Framer, decode, encode
from smsgw.smpp.constants import CommandId
from smsgw.smpp.decoders import _decode_short_message_checked
from smsgw.smpp.errors import InvalidCommandLength
from smsgw.smpp.pdu import PDU_CLASSES, DeliverSm, EnquireLink, Pdu, SubmitSm
from tests.smpp.test_codec_support import any_pdu, frame, pdus

EXAMPLES = settings(max_examples=200, deadline=None)
CLASSES = sorted(PDU_CLASSES.values(), key=lambda cls: cls.__name__)


@pytest.mark.parametrize("cls", CLASSES, ids=[cls.__name__ for cls in CLASSES])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_encode_then_decode_gives_the_same_pdu(cls: type[Pdu], data: st.DataObject) -> None:
    pdu = data.draw(pdus(cls))
    wire = encode(pdu)
    assert int.from_bytes(wire[:4], "big") == len(wire)
    assert decode(wire) == pdu


@EXAMPLES
@given(pdu=any_pdu)
def test_decode_then_encode_gives_the_same_bytes(pdu: Pdu) -> None:
    wire = encode(pdu)
    assert encode(decode(wire)) == wire


@EXAMPLES
@given(pdu=st.one_of(pdus(SubmitSm), pdus(DeliverSm)))
def test_fast_and_checked_short_message_decoders_agree(pdu: Pdu) -> None:
    assert isinstance(pdu, SubmitSm | DeliverSm)
    wire = encode(pdu)
    checked = _decode_short_message_checked(
        type(pdu), wire, pdu.command_status, pdu.sequence_number
    )
    assert checked == decode(wire) == pdu


@EXAMPLES
@given(pdus_=st.lists(any_pdu, min_size=1, max_size=6), cuts=st.lists(st.integers(0, 4000)))
def test_framer_yields_the_frames_whatever_the_split(pdus_: list[Pdu], cuts: list[int]) -> None:
    wires = [encode(pdu) for pdu in pdus_]
    stream = b"".join(wires)
    points = sorted({cut % (len(stream) + 1) for cut in cuts})
    chunks = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    framer = Framer()
    received = [wire for chunk in chunks for wire in framer.feed(chunk)]
    assert received == wires
    assert framer.buffered == 0


def test_framer_fed_one_byte_at_a_time() -> None:
    wires = [encode(EnquireLink(n)) for n in range(3)] + [encode(SubmitSm(9, short_message=b"x"))]
    framer = Framer()
    received: list[bytes] = []
    for index, byte in enumerate(b"".join(wires)):
        received += framer.feed(bytes([byte]))
        assert framer.buffered == index + 1 - sum(map(len, received))
    assert received == wires


def test_framer_keeps_a_partial_frame_until_it_completes() -> None:
    wire = encode(SubmitSm(1, short_message=b"abc"))
    framer = Framer()
    assert framer.feed(wire[:20]) == []
    assert framer.buffered == 20
    assert framer.feed(wire[20:] + wire[:3]) == [wire]
    assert framer.buffered == 3


@pytest.mark.parametrize("length", [0, 15, DEFAULT_MAX_PDU_SIZE + 1, 0xFFFFFFFF])
def test_framer_rejects_an_impossible_command_length(length: int) -> None:
    framer = Framer()
    header = length.to_bytes(4, "big") + bytes.fromhex("00000004 00000000 0000002a")
    with pytest.raises(InvalidCommandLength) as caught:
        framer.feed(header)
    assert caught.value.sequence_number == 42
    assert caught.value.command_id == CommandId.SUBMIT_SM
    with pytest.raises(InvalidCommandLength):  # the stream cannot be resynchronised
        framer.feed(encode(EnquireLink(1)))


def test_framer_rejects_as_soon_as_the_length_is_known() -> None:
    with pytest.raises(InvalidCommandLength) as caught:
        Framer().feed(b"\x00\x00\x00\x05")
    assert caught.value.sequence_number is None


def test_framer_maximum_is_configurable() -> None:
    wire = encode(SubmitSm(1, short_message=b"x" * 100))
    assert Framer(max_pdu_size=len(wire)).feed(wire) == [wire]
    with pytest.raises(InvalidCommandLength):
        Framer(max_pdu_size=len(wire) - 1).feed(wire)


def test_framer_passes_undecodable_frames_on_for_decode_to_judge() -> None:
    wire = frame(0x99, "0102")
    assert Framer().feed(wire) == [wire]
