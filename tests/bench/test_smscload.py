"""The lean SMSC-side load generator: what it answers an ESME (real TCP), how it counts
answered, lost and duplicated texts, and its spellings of one text."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.bench.smscload import EsmeConnection, LoadPlan, SmscLoad, padded
from smsgw.smpp.constants import CommandStatus
from smsgw.smpp.pdu import (
    BindTransceiver,
    DeliverSm,
    DeliverSmResp,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    QuerySm,
    SubmitSm,
    SubmitSmResp,
)
from smsgw.smpp.text import decode_text
from tests.bench.esme import BareEsme


@given(st.text(min_size=1, max_size=5).filter(lambda t: t.strip() == t), st.integers(1, 300))
def test_a_phones_spellings_differ_and_read_the_same(text: str, count: int) -> None:
    spellings = [padded(text, n) for n in range(count)]
    assert len(set(spellings)) == count
    assert {spelling.strip(" ") for spelling in spellings} == {text}


def _plan(**changes: object) -> LoadPlan:
    values: dict[str, object] = {
        "in_flight": 5,
        "rate": None,
        "duration": 0.3,
        "warmup": 0.0,
        "grace": 2.0,
        "phones": 50,
        "text": "I",
        "window": 100,
        "receipts": False,
    }
    values.update(changes)
    return LoadPlan(**values)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def _listening(load: SmscLoad) -> AsyncIterator[int]:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: EsmeConnection(load), "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for connection in list(load.connections):
            if connection.transport is not None:
                connection.transport.abort()


async def _bound_esme(port: int, password: str = "pw") -> tuple[BareEsme, int]:
    esme = await BareEsme.connect(port)
    esme.send(BindTransceiver(system_id="relay", password=password))
    answer = await esme.read()
    return esme, answer.command_status


async def test_a_wrong_password_is_refused_with_bind_fail() -> None:
    load = SmscLoad(_plan(), "relay", "pw")
    async with _listening(load) as port:
        esme, status = await _bound_esme(port, password="nope")
        assert status == CommandStatus.ESME_RBINDFAIL
        assert not load.binds.is_set()
        await esme.close()


async def test_enquire_link_is_answered_and_an_unserved_request_nacked() -> None:
    load = SmscLoad(_plan(), "relay", "pw")
    async with _listening(load) as port:
        esme, status = await _bound_esme(port)
        assert status == CommandStatus.ESME_ROK and load.binds.is_set()
        link = esme.send(EnquireLink())
        answer = await esme.read()
        assert isinstance(answer, EnquireLinkResp)
        assert answer.sequence_number == link.sequence_number
        query = esme.send(QuerySm(message_id="1", source_addr="7757"))
        nack = await esme.read()
        assert isinstance(nack, GenericNack)
        assert nack.sequence_number == query.sequence_number
        assert nack.command_status == CommandStatus.ESME_RINVCMDID
        await esme.close()


async def _relay(esme: BareEsme, answer: Callable[[DeliverSm], int]) -> None:
    """As a relay does: take each MO, then reply `answer(mo)` times to its sender."""
    while True:
        pdu = await esme.read()
        if isinstance(pdu, DeliverSm):
            esme.send(DeliverSmResp(pdu.sequence_number))
            for _ in range(answer(pdu)):
                esme.send(
                    SubmitSm(
                        source_addr="7757",
                        destination_addr=pdu.source_addr,
                        short_message=b"Balance 0",
                    )
                )
        elif not isinstance(pdu, SubmitSmResp):
            raise AssertionError(f"unexpected {pdu!r}")


async def _run(load: SmscLoad, answer: Callable[[DeliverSm], int]) -> dict[str, Any]:
    texts: list[str] = []

    def counted(pdu: DeliverSm) -> int:
        texts.append(decode_text(pdu.short_message, pdu.data_coding))
        return answer(pdu)

    async with _listening(load) as port:
        esme, _ = await _bound_esme(port)
        relay = asyncio.create_task(_relay(esme, counted))
        try:
            report = await load.run()
        finally:
            relay.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await relay
            await esme.close()
    assert texts and {text.strip() for text in texts} == {"I"}
    return report


async def test_every_text_answered_once_is_counted_with_nothing_lost() -> None:
    report = await _run(SmscLoad(_plan(), "relay", "pw"), lambda _mo: 1)
    assert report["lost"] == 0 and report["duplicated"] == 0 and report["refused"] == 0
    totals = report["totals"]
    assert isinstance(totals, dict) and totals["answered"] == totals["mo_sent"] > 5
    latency = report["latency_ms"]
    assert isinstance(latency, dict) and latency["samples"] > 0


async def test_a_second_reply_is_a_duplicate_and_no_reply_is_lost() -> None:
    doubled = await _run(SmscLoad(_plan(), "relay", "pw"), lambda _mo: 2)
    assert doubled["lost"] == 0 and doubled["duplicated"] > 0
    silent = await _run(SmscLoad(_plan(grace=0.2), "relay", "pw"), lambda _mo: 0)
    assert silent["lost"] == 5 and silent["replies"] == 0


@pytest.mark.parametrize("rate", [50.0])
async def test_open_loop_offers_texts_at_the_rate(rate: float) -> None:
    load = SmscLoad(_plan(in_flight=None, rate=rate, duration=1.0), "relay", "pw")
    report = await _run(load, lambda _mo: 1)
    assert report["mode"] == "open" and report["lost"] == 0
    mo_sent = report["mo_sent"]
    assert isinstance(mo_sent, int) and 40 <= mo_sent <= 55
