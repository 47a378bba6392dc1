"""Encode/decode rates of smsgw.smpp.codec against smpplib, in the same run.

Run: .venv/bin/python bench/smpp_codec.py [--seconds 0.3] [--repeats 5]

Two PDUs: a submit_sm with a short command text, and a delivery-receipt deliver_sm
(esm_class 0x04, receipt text, receipted_message_id and message_state TLVs). "encode"
turns an existing PDU object into bytes; "decode" turns bytes into a PDU object.
Prints the median rate of each (PDUs/s) over the repeats and the ratio ours/smpplib.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import timeit
from collections.abc import Callable
from typing import Any, cast

import smpplib.smpp

from smsgw.smpp import tlv
from smsgw.smpp.codec import decode, encode
from smsgw.smpp.constants import ESM_DELIVERY_RECEIPT, MessageState, Tag
from smsgw.smpp.pdu import DeliverSm, Pdu, SubmitSm

TARGET_RATIO = 15
RECEIPT_ID = "5f3a9c2e-0001"
RECEIPT_TEXT = (
    f"id:{RECEIPT_ID} sub:001 dlvrd:001 submit date:2611220312 "
    "done date:2611220313 stat:DELIVRD err:000 text:1001*A123BC77*2"
).encode("latin-1")

SUBMIT_FIELDS: dict[str, Any] = {
    "source_addr_ton": 5,
    "source_addr_npi": 0,
    "source_addr": "7757",
    "dest_addr_ton": 1,
    "dest_addr_npi": 1,
    "destination_addr": "79001234567",
    "registered_delivery": 1,
    "data_coding": 0,
    "short_message": b"1001*A123BC77*2",
}
RECEIPT_FIELDS: dict[str, Any] = {
    "source_addr_ton": 1,
    "source_addr_npi": 1,
    "source_addr": "79001234567",
    "dest_addr_ton": 5,
    "dest_addr_npi": 0,
    "destination_addr": "7757",
    "esm_class": ESM_DELIVERY_RECEIPT,
    "short_message": RECEIPT_TEXT,
}


class _SmpplibClient:
    """smpplib wants a client object that hands out sequence numbers."""

    sequence = 1

    def next_sequence(self) -> int:
        return self.sequence


def our_pdus() -> dict[str, Pdu]:
    receipt = DeliverSm(sequence_number=2, **RECEIPT_FIELDS)
    # smpplib writes network_error_code/message_state/receipted_message_id in this order.
    tlv.set_int(receipt.tlvs, Tag.MESSAGE_STATE, MessageState.DELIVERED)
    tlv.set_cstring(receipt.tlvs, Tag.RECEIPTED_MESSAGE_ID, RECEIPT_ID)
    return {"submit_sm": SubmitSm(sequence_number=1, **SUBMIT_FIELDS), "deliver_sm DLR": receipt}


def smpplib_pdus(client: _SmpplibClient) -> dict[str, Any]:
    make_pdu = cast(Callable[..., Any], smpplib.smpp.make_pdu)
    submit = make_pdu(
        "submit_sm", client=client, sequence=1, **(_smpplib_defaults() | SUBMIT_FIELDS)
    )
    receipt = make_pdu(
        "deliver_sm",
        client=client,
        sequence=2,
        message_state=int(MessageState.DELIVERED),
        receipted_message_id=RECEIPT_ID,
        **(_smpplib_defaults() | RECEIPT_FIELDS),
    )
    # smpplib takes the client's sequence over the keyword; set it as ours.
    receipt.sequence = 2
    return {"submit_sm": submit, "deliver_sm DLR": receipt}


def _smpplib_defaults() -> dict[str, Any]:
    # smpplib leaves unset mandatory fields as None; give it the same values we use.
    return {
        "service_type": "",
        "esm_class": 0,
        "protocol_id": 0,
        "priority_flag": 0,
        "schedule_delivery_time": "",
        "validity_period": "",
        "registered_delivery": 0,
        "replace_if_present_flag": 0,
        "data_coding": 0,
        "sm_default_msg_id": 0,
    }


def rates(
    statements: tuple[str, str], namespace: dict[str, Any], seconds: float, repeats: int
) -> tuple[float, float]:
    """Median operations per second of each statement over `repeats` runs.

    The two are timed alternately, so a noisy neighbour on a shared machine slows both.
    """
    timers = [timeit.Timer(statement, globals=namespace) for statement in statements]
    numbers = []
    for timer in timers:
        number, elapsed = timer.autorange()
        numbers.append(max(1, int(number * seconds / max(elapsed, 1e-9))))
    samples: list[list[float]] = [[], []]
    for _ in range(repeats):
        for index, timer in enumerate(timers):
            samples[index].append(numbers[index] / timer.timeit(numbers[index]))
    return statistics.median(samples[0]), statistics.median(samples[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.3, help="time per repeat")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    client = _SmpplibClient()
    ours = our_pdus()
    theirs = smpplib_pdus(client)
    parse_pdu = cast(Callable[..., Any], smpplib.smpp.parse_pdu)
    print(f"{'PDU':<16}{'op':<8}{'smsgw /s':>12}{'smpplib /s':>12}{'ratio':>8}")
    ratios: list[float] = []
    for name, pdu in ours.items():
        frame = encode(pdu)
        their_pdu = theirs[name]
        if their_pdu.generate() != frame:
            print(f"warning: {name} encodings differ", file=sys.stderr)
        namespace: dict[str, Any] = {
            "encode": encode,
            "decode": decode,
            "pdu": pdu,
            "frame": frame,
            "their_pdu": their_pdu,
            "parse_pdu": parse_pdu,
            "client": client,
        }
        cases = (
            ("encode", "encode(pdu)", "their_pdu.generate()"),
            ("decode", "decode(frame)", "parse_pdu(frame, client=client)"),
        )
        for op, our_statement, their_statement in cases:
            our_rate, their_rate = rates(
                (our_statement, their_statement), namespace, args.seconds, args.repeats
            )
            ratios.append(our_rate / their_rate)
            print(
                f"{name:<16}{op:<8}{our_rate:>12,.0f}{their_rate:>12,.0f}"
                f"{our_rate / their_rate:>7.1f}x"
            )
    print(f"lowest ratio {min(ratios):.1f}x (target: at least {TARGET_RATIO}x)")


if __name__ == "__main__":
    main()
