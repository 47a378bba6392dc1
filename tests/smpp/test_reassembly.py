from __future__ import annotations

from random import Random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsgw.smpp.reassembly import (
    ConcatInfo,
    IncompleteMessage,
    MalformedUdhError,
    MessageKey,
    Reassembler,
    UserData,
    concat_from_sar,
    parse_udh,
    read_user_data,
)
from smsgw.smpp.segmentation import segment
from smsgw.smpp.text import decode_text

LINK = "kcell-1"
PHONE = "77011234567"
SHORT = "7757"


@pytest.mark.parametrize(
    ("short_message", "concat", "body", "udh_length"),
    [
        (bytes([5, 0, 3, 9, 2, 1]) + b"hi", ConcatInfo(9, 2, 1), b"hi", 6),
        (bytes([6, 8, 4, 1, 2, 3, 3]) + b"x", ConcatInfo(0x0102, 3, 3, ref16=True), b"x", 7),
        # National-language shift IE (0x24) before the concatenation IE is skipped.
        (bytes([8, 0x24, 1, 1, 0, 3, 7, 2, 2]) + b"b", ConcatInfo(7, 2, 2), b"b", 9),
        # Repeated concatenation IEs: the last one wins.
        (bytes([10, 0, 3, 1, 2, 1, 0, 3, 4, 2, 2]), ConcatInfo(4, 2, 2), b"", 11),
        # A concatenation IE of the wrong length is ignored.
        (bytes([3, 0, 1, 1]) + b"z", None, b"z", 4),
        (bytes([8, 0, 3, 1, 2, 1, 0, 1, 1]), ConcatInfo(1, 2, 1), b"", 9),
        (bytes([0]) + b"abc", None, b"abc", 1),
        (bytes([2, 0x70, 0]) + b"q", None, b"q", 3),
    ],
)
def test_parse_udh(
    short_message: bytes, concat: ConcatInfo | None, body: bytes, udh_length: int
) -> None:
    assert parse_udh(short_message) == (concat, body, udh_length)


@pytest.mark.parametrize(
    "short_message",
    [
        b"",
        bytes([5, 0, 3, 1]),  # UDHL beyond the message
        bytes([3, 0, 3, 1, 2, 1]),  # IE overruns the UDH
        bytes([1, 0]),  # IE header cut
    ],
)
def test_malformed_udh(short_message: bytes) -> None:
    with pytest.raises(MalformedUdhError):
        parse_udh(short_message)
    data = read_user_data(short_message, udhi=True)
    assert data == UserData(None, short_message, 0, udh_malformed=True)


@settings(max_examples=200)
@given(st.binary(max_size=40), st.booleans())
def test_udh_parsing_never_raises_anything_else(short_message: bytes, udhi: bool) -> None:
    try:
        _, body, udh_length = parse_udh(short_message)
    except MalformedUdhError:
        pass
    else:
        assert short_message[udh_length:] == body
    data = read_user_data(short_message, udhi=udhi)
    assert short_message.endswith(data.body)


def test_read_user_data() -> None:
    sar = concat_from_sar(300, 2, 1)
    assert sar == ConcatInfo(300, 2, 1, ref16=True)
    assert read_user_data(b"plain", udhi=False, sar=sar) == UserData(sar, b"plain", 0)
    with_udh = bytes([5, 0, 3, 9, 2, 1]) + b"hi"
    assert read_user_data(with_udh, udhi=True, sar=sar) == UserData(ConcatInfo(9, 2, 1), b"hi", 6)
    assert read_user_data(bytes([0]) + b"hi", udhi=True, sar=sar) == UserData(sar, b"hi", 1)
    assert concat_from_sar(300, None, 1) is None


@pytest.mark.parametrize(
    ("concat", "valid"),
    [
        (ConcatInfo(1, 2, 1), True),
        (ConcatInfo(1, 2, 2), True),
        (ConcatInfo(1, 2, 0), False),
        (ConcatInfo(1, 2, 3), False),
        (ConcatInfo(1, 1, 1), False),
        (ConcatInfo(1, 0, 0), False),
    ],
)
def test_concat_validity(concat: ConcatInfo, valid: bool) -> None:
    assert concat.is_valid is valid


def add(
    r: Reassembler, seqnum: int, payload: bytes, *, now: float = 0.0, **key: object
) -> bytes | None:
    fields: dict[str, object] = {
        "link_id": LINK,
        "source": PHONE,
        "destination": SHORT,
        "reference": 7,
        "total": 3,
    }
    fields.update(key)
    return r.add(
        str(fields["link_id"]),
        str(fields["source"]),
        str(fields["destination"]),
        int(str(fields["reference"])),
        int(str(fields["total"])),
        seqnum,
        payload,
        now,
    )


def test_parts_in_any_order_and_duplicates_dropped() -> None:
    r = Reassembler()
    assert add(r, 3, b"C") is None
    assert add(r, 1, b"A") is None
    assert add(r, 1, b"X") is None  # same seqnum again: the first one stays
    assert add(r, 2, b"B") == b"ABC"
    assert r.open_count == 0
    assert r.buffered_octets == 0
    assert (r.stats.completed, r.stats.duplicates) == (1, 1)


def test_same_reference_from_other_senders_does_not_mix() -> None:
    r = Reassembler()
    assert add(r, 1, b"a1", source="1") is None
    assert add(r, 1, b"b1", source="2") is None
    assert add(r, 1, b"c1", link_id="other-link") is None
    assert add(r, 1, b"d1", destination="9878") is None
    assert add(r, 1, b"e1", total=2) is None
    assert add(r, 2, b"e2", total=2) == b"e1e2"
    assert add(r, 2, b"a2", source="1") is None
    assert add(r, 3, b"a3", source="1") == b"a1a2a3"
    assert add(r, 2, b"b2", source="2") is None
    assert add(r, 3, b"b3", source="2") == b"b1b2b3"
    assert r.open_count == 2


@pytest.mark.parametrize(("total", "seqnum"), [(1, 1), (0, 0), (0, 1), (3, 0), (3, 4), (255, 256)])
def test_impossible_concatenation_passes_the_part_on_alone(total: int, seqnum: int) -> None:
    r = Reassembler()
    assert add(r, seqnum, b"part", total=total) == b"part"
    assert r.stats.standalone == 1
    assert r.open_count == 0


def test_expiry_drops_and_reports() -> None:
    r = Reassembler(timeout=300)
    add(r, 2, b"B", now=1000.0)
    add(r, 1, b"x", now=1100.0, source="other")
    assert r.next_expiry() == 1300.0
    assert r.expire(1299.9) == []
    [dropped] = r.expire(1300.0)
    assert dropped == IncompleteMessage(
        MessageKey(LINK, PHONE, SHORT, 7, 3), ((2, b"B"),), 1000.0, "expired"
    )
    assert dropped.missing == (1, 3)
    assert r.open_count == 1
    assert r.stats.expired == 1
    # A late part after expiry starts afresh rather than completing a dropped message.
    assert add(r, 1, b"A", now=1301.0) is None
    assert add(r, 3, b"C", now=1302.0) is None


def test_eviction_beyond_max_open() -> None:
    r = Reassembler(max_open=2)
    add(r, 1, b"a", reference=1, now=1.0)
    add(r, 1, b"b", reference=2, now=2.0)
    add(r, 1, b"c", reference=3, now=3.0)
    assert r.open_count == 2
    assert r.next_expiry() == float("-inf")
    [evicted] = r.expire(3.0)
    assert (evicted.key.reference, evicted.reason, evicted.parts) == (1, "evicted", ((1, b"a"),))
    assert r.stats.evicted == 1
    assert add(r, 2, b"b", reference=2) is None
    assert add(r, 3, b"b", reference=2) == b"bbb"


def test_eviction_beyond_max_buffered_octets() -> None:
    r = Reassembler(max_buffered_octets=250)
    add(r, 1, bytes(100), reference=1)
    add(r, 1, bytes(100), reference=2)
    assert r.buffered_octets == 200
    add(r, 1, bytes(100), reference=3)
    assert r.buffered_octets == 200
    assert [m.key.reference for m in r.expire(0.0)] == [1]


def test_redelivered_part_after_completion_is_dropped() -> None:
    r = Reassembler(timeout=300)
    add(r, 1, b"A", total=2, now=0.0)
    assert add(r, 2, b"B", total=2, now=1.0) == b"AB"
    assert add(r, 2, b"B", total=2, now=5.0) is None  # its deliver_sm_resp was lost
    assert r.open_count == 0
    assert r.stats.duplicates == 1
    # The reference reused for another text is reassembled as a new message.
    assert add(r, 1, b"C", total=2, now=6.0) is None
    assert add(r, 2, b"D", total=2, now=7.0) == b"CD"


def test_redelivery_memory_ends_with_its_window() -> None:
    r = Reassembler(timeout=300, redelivery_window=10)
    add(r, 1, b"A", total=2, now=0.0)
    add(r, 2, b"B", total=2, now=1.0)
    r.expire(11.0)
    assert add(r, 1, b"A", total=2, now=12.0) is None
    assert add(r, 2, b"B", total=2, now=12.0) == b"AB"


def test_rebuilding_from_stored_parts_keeps_their_arrival_time() -> None:
    r = Reassembler(timeout=300)
    add(r, 1, b"A", now=500.0)
    add(r, 2, b"B", now=100.0)  # an older stored part added after a restart
    assert [m.first_seen for m in r.expire(400.0)] == [100.0]


def test_ucs2_pair_split_by_a_foreign_smsc_is_joined_before_decoding() -> None:
    r = Reassembler()
    assert add(r, 2, b"\xde\x00", total=2) is None
    joined = add(r, 1, b"\x00a\xd8\x3d", total=2)
    assert joined is not None
    assert decode_text(joined, 8) == "a😀"


@settings(max_examples=200)
@given(
    st.text(alphabet=st.sampled_from("aД€{😀 1*"), min_size=80, max_size=600),
    st.randoms(use_true_random=False),
    st.integers(min_value=0, max_value=0xFFFF),
)
def test_shuffled_parts_with_duplicates_give_the_original(
    text: str, random: Random, reference: int
) -> None:
    parts = segment(text, reference=reference, ref16=True)
    infos = [read_user_data(p.short_message, udhi=p.esm_class_udhi) for p in parts]
    deliveries = infos + [random.choice(infos) for _ in range(random.randint(0, 3))]
    random.shuffle(deliveries)
    r = Reassembler()
    results: list[bytes] = []
    for info in deliveries:
        if info.concat is None:
            results.append(info.body)
            continue
        joined = r.add_concat(LINK, PHONE, SHORT, info.concat, info.body, now=0.0)
        if joined is not None:
            results.append(joined)
    assert len(results) == 1
    assert decode_text(results[0], parts[0].data_coding) == text
    assert r.open_count == 0


def test_expiry_is_a_pure_function_of_now() -> None:
    from smsgw.smpp.reassembly import expiry_cutoff, is_expired

    assert expiry_cutoff(1000.0, 300.0) == 700.0
    assert is_expired(700.0, 1000.0, 300.0)
    assert not is_expired(700.5, 1000.0, 300.0)


def test_evicted_messages_are_bounded_when_nobody_asks_for_them() -> None:
    from smsgw.smpp.reassembly import Reassembler

    reassembler = Reassembler(max_open=3)
    for reference in range(50):
        reassembler.add("l", "7903", "7757", reference, 2, 1, b"x", float(reference))
    assert reassembler.open_count == 3
    assert len(reassembler.expire(100.0)) <= 3 + 3  # the evicted kept, then the open ones


def test_the_timer_fires_when_an_open_message_times_out() -> None:
    r = Reassembler(timeout=300, redelivery_window=10)
    assert r.get_timer() is None
    add(r, 1, b"A", total=2, now=100.0)
    assert r.get_timer() == 400.0
    assert r.handle_timer(399.0) == []
    (dropped,) = r.handle_timer(400.0)
    assert dropped.first_seen == 100.0 and dropped.missing == (2,)
    assert r.get_timer() is None


def test_the_timer_ends_a_completed_message_redelivery_window() -> None:
    r = Reassembler(timeout=300, redelivery_window=10)
    add(r, 1, b"A", total=2, now=0.0)
    add(r, 2, b"B", total=2, now=1.0)
    assert r.get_timer() == 11.0  # until then a lost answer's part is a redelivery
    assert r.handle_timer(11.0) == []
    assert r.get_timer() is None
    assert add(r, 1, b"A", total=2, now=12.0) is None, "a new message, not a redelivery"


@settings(max_examples=100)
@given(st.lists(st.tuples(st.integers(1, 4), st.floats(0, 100)), max_size=20))
def test_following_the_timer_expires_each_message_at_its_timeout(
    parts: list[tuple[int, float]],
) -> None:
    """Whatever arrives, firing the timer whenever it asks drops every open message
    exactly `timeout` after its first part, never earlier."""
    r = Reassembler(timeout=50, redelivery_window=5)
    now = 0.0
    opened: dict[int, float] = {}
    for reference, step in parts:
        now += step
        while (at := r.get_timer()) is not None and at <= now:
            for message in r.handle_timer(at):
                assert at == message.first_seen + 50
                opened.pop(message.key.reference, None)
        if add(r, 1, b"x", reference=reference, total=2, now=now) is None:
            opened.setdefault(reference, now)
    while (at := r.get_timer()) is not None:
        for message in r.handle_timer(at):
            assert at == opened.pop(message.key.reference) + 50
    assert r.open_count == 0
