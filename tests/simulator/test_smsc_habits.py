"""The simulated SMSC's receipts and link habits, read as an outsider would read them."""

from __future__ import annotations

import asyncio
import struct
from datetime import UTC, datetime

import pytest

from simulator.config import SmscAccount, SmscSettings
from simulator.faults import Faults, FaultsError
from simulator.smsc import SimulatedSmsc, receipt_text
from smsgw.smpp.codec import Framer, decode
from smsgw.smpp.constants import CommandId, CommandStatus
from smsgw.smpp.pdu import GenericNack
from smsgw.smpp.receipts import parse_receipt_text

GUARD = 5.0


def test_the_receipt_text_has_every_appendix_b_field() -> None:
    submitted = datetime(2026, 3, 10, 9, 5, 59, tzinfo=UTC)
    done = datetime(2026, 3, 10, 9, 7, 1, tzinfo=UTC)

    text = receipt_text("3eb", "DELIVRD", submitted, done)
    parsed = parse_receipt_text(text)

    assert text == (
        "id:3eb sub:001 dlvrd:001 submit date:2603100905 done date:2603100907"
        " stat:DELIVRD err:000 text:"
    )
    assert parsed is not None
    assert parsed.message_id == "3eb"
    assert parsed.submit_date == datetime(2026, 3, 10, 9, 5)
    assert parsed.done_date == datetime(2026, 3, 10, 9, 7)
    assert (parsed.submitted, parsed.delivered, parsed.stat) == (1, 1, "DELIVRD")
    assert parse_receipt_text(receipt_text("1", "UNDELIV", None, done)).delivered == 0  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("receipt_bind", "transmitter"),
        ("message_id_format", "octal"),
        ("receipt_id_format", "base64"),
        ("receipt_before_resp", "yes"),
        ("unknown_receipts", -1),
        ("close_on_unbind", 1),
        ("enquire_link_ms", 10**9),
    ],
)
def test_a_bad_habit_setting_names_its_key(key: str, value: object) -> None:
    with pytest.raises(FaultsError, match=f"^faults.{key}:"):
        Faults.from_mapping({key: value})


def test_the_habits_round_trip_through_json() -> None:
    faults = Faults(
        receipt_before_resp=True,
        receipt_bind="receiver",
        message_id_format="decimal",
        receipt_id_format="hex",
        unknown_receipts=2,
        close_on_unbind=True,
        enquire_link_ms=500,
    )
    assert Faults.from_mapping(faults.to_dict()) == faults


async def _raw_exchange(data: bytes) -> list[bytes]:
    """Send `data` to a fresh simulated SMSC; every frame it sends back until it closes."""
    smsc = SimulatedSmsc(SmscSettings("127.0.0.1", 0, (SmscAccount("gw", "pw", "mts"),)))
    await smsc.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", smsc.port)
        writer.write(data)
        await writer.drain()
        async with asyncio.timeout(GUARD):
            received = await reader.read()  # until the SMSC closes
        writer.close()
    finally:
        await smsc.close()
    return Framer().feed(received)


async def test_an_impossible_length_with_a_readable_header_is_nacked_with_its_sequence() -> None:
    frames = await _raw_exchange(struct.pack(">IIII", 5, CommandId.SUBMIT_SM, 0, 42))

    (nack,) = [decode(frame) for frame in frames]
    assert isinstance(nack, GenericNack)
    assert (nack.sequence_number, nack.command_status) == (42, CommandStatus.ESME_RINVCMDLEN)


async def test_a_stream_broken_before_its_sequence_number_is_closed_unanswered() -> None:
    # only the command_length arrives, and it is impossible: there is no sequence
    # number to echo, and 0 is not one (1..0x7FFFFFFF)
    assert await _raw_exchange(struct.pack(">I", 5)) == []
