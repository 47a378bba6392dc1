"""Fuzz: mutated valid PDUs into decode and the Framer; only SmppError may come out.

The suite runs 10^5 mutations (about 2 s); `python bench/smpp_fuzz.py` runs millions with
the same engine and other seeds.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator

from smsgw.smpp.codec import Framer, decode, encode
from smsgw.smpp.constants import CommandId
from smsgw.smpp.errors import SmppError
from tests.smpp.test_codec import TABLE

SUITE_MUTATIONS = 100_000
SEED = 20261122


def _flip_bits(rng: random.Random, wire: bytearray) -> None:
    for _ in range(rng.randint(1, 4)):
        position = rng.randrange(len(wire))
        wire[position] ^= 1 << rng.randrange(8)


def _truncate(rng: random.Random, wire: bytearray) -> None:
    del wire[rng.randrange(len(wire)) :]


def _insert(rng: random.Random, wire: bytearray) -> None:
    position = rng.randrange(len(wire) + 1)
    wire[position:position] = rng.randbytes(rng.randint(1, 8))


def _delete(rng: random.Random, wire: bytearray) -> None:
    position = rng.randrange(len(wire))
    del wire[position : position + rng.randint(1, 8)]


def _edit_body_octet(rng: random.Random, wire: bytearray) -> None:
    # Length-like octets (sm_length, TLV lengths, number_of_dests) sit in the body.
    if len(wire) > 16:
        wire[rng.randrange(16, len(wire))] = rng.choice((0, 1, 2, 16, 254, 255, rng.randrange(256)))


def _edit_command_length(rng: random.Random, wire: bytearray) -> None:
    length = rng.choice((0, 15, 16, len(wire) - 1, len(wire) + 1, rng.randrange(1 << 32)))
    wire[0:4] = length.to_bytes(4, "big")


def _swap_command_id(rng: random.Random, wire: bytearray) -> None:
    wire[4:8] = int(rng.choice(list(CommandId))).to_bytes(4, "big")


def _fix_command_length(rng: random.Random, wire: bytearray) -> None:
    # After an edit of the body, keep the framing right so the body checks are reached.
    if len(wire) >= 4:
        wire[0:4] = len(wire).to_bytes(4, "big")


MUTATORS: list[Callable[[random.Random, bytearray], None]] = [
    _flip_bits,
    _truncate,
    _insert,
    _delete,
    _edit_body_octet,
    _edit_command_length,
    _swap_command_id,
]


def mutated_frames(rng: random.Random, corpus: list[bytes], count: int) -> Iterator[bytes]:
    for _ in range(count):
        wire = bytearray(rng.choice(corpus))
        for _ in range(rng.randint(1, 3)):
            if wire:
                rng.choice(MUTATORS)(rng, wire)
        if rng.random() < 0.7:
            _fix_command_length(rng, wire)
        yield bytes(wire)


def corpus() -> list[bytes]:
    return [wire for _, wire in TABLE]


def check_one(wire: bytes, outcomes: Counter[str]) -> None:
    """Decode `wire`; a PDU that decodes must encode back to itself."""
    try:
        pdu = decode(wire)
    except SmppError as error:
        outcomes[type(error).__name__] += 1
        return
    outcomes["decoded"] += 1
    assert decode(encode(pdu)) == pdu


def check_stream(rng: random.Random, frames: list[bytes], outcomes: Counter[str]) -> None:
    """Feed the frames as one stream in random chunks; only SmppError may come out."""
    stream = b"".join(frames)
    framer = Framer(max_pdu_size=4096)
    position = 0
    try:
        while position < len(stream):
            step = rng.randint(1, 64)
            for wire in framer.feed(stream[position : position + step]):
                check_one(wire, outcomes)
            position += step
    except SmppError:
        outcomes["stream closed"] += 1


def fuzz(count: int, seed: int = SEED) -> Counter[str]:
    rng = random.Random(seed)
    outcomes: Counter[str] = Counter()
    batch: list[bytes] = []
    for wire in mutated_frames(rng, corpus(), count):
        check_one(wire, outcomes)
        batch.append(wire)
        if len(batch) == 20:
            check_stream(rng, batch, outcomes)
            batch = []
    return outcomes


def test_mutated_pdus_only_ever_raise_smpp_errors() -> None:
    outcomes = fuzz(SUITE_MUTATIONS)
    assert sum(outcomes.values()) >= SUITE_MUTATIONS
    # The mutations reach deep: many distinct errors, and some frames still decode.
    assert outcomes["decoded"] > 100
    assert len(outcomes) >= 10, outcomes
