"""The simulated SMSC's hooks the bench uses: MT subscriptions beside the world's own
phones and events, and the reassembler as a constructor option. A real ESME submits
over TCP; what the phones, the event bus and the load generator see is checked."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from simulator.bench.driver import LoadGenerator, PhoneReassembler, bench_world, msisdn_of
from simulator.bench.settings import LoadSettings
from simulator.config import SmscAccount, SmscSettings
from simulator.smsc import ReceivedMt
from simulator.world import SimulatedWorld
from smsgw.smpp.constants import ESM_UDHI, CommandStatus
from smsgw.smpp.pdu import BindTransceiver, Pdu, SubmitSm, SubmitSmResp
from smsgw.smpp.segmentation import concat_udh
from smsgw.smpp.text import encode_text
from tests.bench.esme import BareEsme

UCS2 = 8


async def _bound(world: SimulatedWorld, system_id: str, password: str) -> BareEsme:
    esme = await BareEsme.connect(world.smsc.port)
    esme.send(BindTransceiver(system_id=system_id, password=password))
    answer = await esme.read()
    assert answer.command_status == CommandStatus.ESME_ROK
    return esme


async def _submit(esme: BareEsme, pdu: SubmitSm) -> Pdu:
    esme.send(pdu)
    while True:
        answer = await esme.read()
        if isinstance(answer, SubmitSmResp):
            return answer


def _text(destination: str, text: str) -> SubmitSm:
    return SubmitSm(
        source_addr="7757",
        destination_addr=destination,
        data_coding=UCS2,
        short_message=encode_text(text, UCS2),
    )


@pytest.fixture
async def world() -> AsyncIterator[SimulatedWorld]:
    accounts = (SmscAccount("gw-mts", "pw", "mts"),)
    world = SimulatedWorld(SmscSettings("127.0.0.1", 0, accounts), [])
    await world.start()
    try:
        yield world
    finally:
        await world.close()


async def test_a_load_generator_leaves_the_phones_and_events_connected(
    world: SimulatedWorld,
) -> None:
    generator = LoadGenerator(world, LoadSettings(phones=1, operators=("mts",)))
    msisdn = msisdn_of(0)
    esme = await _bound(world, "gw-mts", "pw")
    try:
        async with world.events.subscription() as events:
            answer = await _submit(esme, _text(msisdn, "Активных парковок нет"))
            assert answer.command_status == CommandStatus.ESME_ROK
            assert [entry.text for entry in world.inbox(msisdn)] == ["Активных парковок нет"]
            kinds = []
            while (event := await events.get()) is not None and event.type != "sms":
                kinds.append(event.type)
            assert event is not None and event.data["msisdn"] == msisdn
        assert generator.tally.replies == 1  # and the generator saw it too
        generator.unsubscribe()
        await _submit(esme, _text(msisdn, "ещё"))
        assert generator.tally.replies == 1
    finally:
        await esme.close()


async def test_the_bench_world_shows_a_repeated_long_reply_every_time() -> None:
    reassembler = PhoneReassembler()
    world = bench_world(("mts",), {"mts": "secret"}, reassembler)
    seen: list[ReceivedMt] = []
    world.smsc.subscribe_mt(seen.append)
    await world.start()
    esme = await _bound(world, "bench-mts", "bench")
    try:
        for _ in range(2):  # the same reference again, as an 8-bit counter comes round
            for seqnum, body in enumerate(("первая ", "вторая"), start=1):
                part = _text("79000000001", "")
                part.esm_class = ESM_UDHI
                part.short_message = concat_udh(7, 2, seqnum, ref16=False) + encode_text(body, UCS2)
                await _submit(esme, part)
        assert [message.text for message in seen] == ["первая вторая"] * 2
        assert reassembler.repeats == 2
        assert world.smsc.inbox == {}  # the bench keeps no history
        assert world.inbox("79000000001") == []
    finally:
        await esme.close()
        await world.close()
