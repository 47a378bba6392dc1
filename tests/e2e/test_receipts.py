"""Delivery receipts as real SMSCs send them, end to end over TCP.

The whole gateway (SQLite, HTTP, the outbox loop, SMPP links) against the simulator's
SMSC misbehaving one way at a time, in transceiver and in transmitter + receiver mode:
the receipt before the submit_sm_resp, on the receiver bind only, one per part of a
long reply, ids in the other base, receipts for ids never issued, an SMSC that closes
TCP instead of answering unbind and one that sends enquire_link itself. Every reply
ends delivered (or failed, as the receipt says) and nothing is left unmatched.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from simulator.config import SmscAccount, SmscSettings
from simulator.faults import Faults
from simulator.smsc import SimulatedSmsc
from smsgw.bootstrap import RunningGateway, start_gateway
from smsgw.service.messages import OutboundSms
from smsgw.service.ports import OutboxState, StoredOutbound
from smsgw.service.store_port import Tx
from tests.e2e.rig import TOKEN, SettableClock, gateway_config

GUARD = 10.0
PHONE = "79030000001"
LONG = "Парковка в зоне 1001 оплачена до 18:00, номер А123ВС77. " * 2  # two UCS-2 parts
MODES = ("transceiver", "transmitter_receiver")
FINAL = (OutboxState.DELIVERED, OutboxState.FAILED)


@dataclass
class Rig:
    gateway: RunningGateway
    smsc: SimulatedSmsc
    clock: SettableClock
    ids: itertools.count[int] = dataclasses.field(default_factory=lambda: itertools.count(1))

    async def reply(self, text: str = "Оплачено до 18:00") -> str:
        outbox_id = f"reply-{next(self.ids)}"
        sms = OutboundSms(outbox_id, "mts", "7757", PHONE, text, self.clock.now())

        async def queue(tx: Tx) -> None:
            await tx.enqueue_outbound(sms)

        await self.gateway.store.transact(queue)
        self.gateway.service.outbox.wake()
        return outbox_id

    async def row(self, outbox_id: str) -> StoredOutbound:
        row = await self.gateway.store.transact(lambda tx: tx.get_outbound(outbox_id))
        assert row is not None
        return row

    async def wait_final(self, outbox_ids: list[str]) -> list[OutboxState]:
        """The replies' states once every one is delivered or failed."""
        async with asyncio.timeout(GUARD):
            while True:
                rows = [await self.row(outbox_id) for outbox_id in outbox_ids]
                if all(row.state in FINAL for row in rows):
                    return [row.state for row in rows]
                await asyncio.sleep(0.02)  # a condition, polled; no timing depends on it

    async def held(self) -> int:
        return len(await self.gateway.store.transact(lambda tx: tx.held_receipts(100)))

    def counted(self, outcome: str) -> float:
        metric = self.gateway.metrics.receipts.labels(operator="mts", outcome=outcome)
        return float(metric._value.get())

    async def view(self, outbox_id: str) -> dict[str, object]:
        url = f"{self.gateway.base_url}/v1/outbox/{outbox_id}"
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as answer:
            assert answer.status == 200
            body: dict[str, object] = await answer.json()
            return body


@asynccontextmanager
async def running(tmp_path: Path, mode: str, faults: Faults) -> AsyncIterator[Rig]:
    clock = SettableClock()
    smsc = SimulatedSmsc(
        SmscSettings("127.0.0.1", 0, (SmscAccount("gw-mts", "pw", "mts"),)), faults=faults
    )
    await smsc.start()
    # every paying operator of the rig's links needs a charging API; none is called here
    nowhere = "http://127.0.0.1:9/charging"
    config = gateway_config(tmp_path, smsc.port, {"mts": nowhere, "beeline": nowhere})
    links = tuple(
        dataclasses.replace(link, bind_mode=mode)  # type: ignore[arg-type]
        for link in config.links
        if link.operator == "mts"
    )
    gateway = await start_gateway(dataclasses.replace(config, links=links), clock=clock)
    try:
        async with asyncio.timeout(GUARD):
            await gateway.wait_links_bound()
        yield Rig(gateway, smsc, clock)
    finally:
        async with asyncio.timeout(GUARD):  # a stop must not wait on a silent SMSC
            await gateway.stop()
        await smsc.close()


def receipts(**settings: object) -> Faults:
    return Faults.from_mapping({"receipts": True, **settings})


# (name, faults, replies as texts, the state every reply must end in)
CASES: list[tuple[str, Callable[[], Faults], int, OutboxState]] = [
    ("receipt_right_behind_resp", lambda: receipts(), 5, OutboxState.DELIVERED),
    ("receipt_before_resp", lambda: receipts(receipt_before_resp=True), 5, OutboxState.DELIVERED),
    ("receipt_late", lambda: receipts(receipt_delay_ms=150), 3, OutboxState.DELIVERED),
    (
        "decimal_receipt_for_hex_ids",
        lambda: receipts(receipt_id_format="decimal"),
        12,  # past id "a": the two forms differ
        OutboxState.DELIVERED,
    ),
    (
        "hex_receipt_for_decimal_ids",
        lambda: receipts(message_id_format="decimal", receipt_id_format="hex"),
        12,
        OutboxState.DELIVERED,
    ),
    ("undeliverable", lambda: receipts(receipt_stat="UNDELIV"), 3, OutboxState.FAILED),
    (
        "undeliverable_before_resp",
        lambda: receipts(receipt_stat="EXPIRED", receipt_before_resp=True),
        3,
        OutboxState.FAILED,
    ),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("name", "faults", "count", "final"), CASES, ids=[case[0] for case in CASES]
)
async def test_every_reply_ends_as_its_receipts_say(
    tmp_path: Path,
    mode: str,
    name: str,
    faults: Callable[[], Faults],
    count: int,
    final: OutboxState,
) -> None:
    async with running(tmp_path, mode, faults()) as rig:
        outbox_ids = [await rig.reply(f"Ответ {n}") for n in range(count)]
        outbox_ids.append(await rig.reply(LONG))

        states = await rig.wait_final(outbox_ids)
        assert states == [final] * len(outbox_ids)
        # every receipt answered (so stored: matched, or held); a failed part settles its
        # reply at once, and a later part's receipt that came between that part's resp
        # and its record was held: the outbox's next sweep applies it
        await rig.smsc.wait_until(lambda: len(rig.smsc.receipts_sent) == count + 2, GUARD)
        outbox = rig.gateway.service.outbox
        _, expired = await outbox.sweep_receipts(rig.clock.advance(timedelta(seconds=10)))

        assert expired == 0
        assert await rig.held() == 0
        assert rig.counted("matched") == len(rig.smsc.receipts_sent) == count + 2
        assert all(sent.status == 0 for sent in rig.smsc.receipts_sent)
        assert await outbox.sweep_receipts(rig.clock.advance(timedelta(hours=1))) == (0, 0)
        assert rig.counted("expired") == 0


@pytest.mark.parametrize("mode", MODES)
async def test_every_part_of_a_long_reply_keeps_its_id_and_receipt(
    tmp_path: Path, mode: str
) -> None:
    async with running(tmp_path, mode, receipts(receipt_before_resp=True)) as rig:
        outbox_id = await rig.reply(LONG)
        await rig.wait_final([outbox_id])

        view = await rig.view(outbox_id)

    sent_ids = [sent.message_id for sent in rig.smsc.receipts_sent]
    assert view["state"] == "delivered"
    parts = view["parts"]
    assert isinstance(parts, list)
    assert [(p["part"], p["of"], p["state"]) for p in parts] == [
        (1, 2, "delivered"),
        (2, 2, "delivered"),
    ]
    assert sorted(p["message_id"] for p in parts) == sorted(sent_ids)
    assert view["message_id"] == parts[0]["message_id"]


async def test_receipts_only_on_the_receiver_bind(tmp_path: Path) -> None:
    faults = receipts(receipt_bind="receiver", receipt_before_resp=True)
    async with running(tmp_path, "transmitter_receiver", faults) as rig:
        outbox_ids = [await rig.reply(f"Ответ {n}") for n in range(5)]

        states = await rig.wait_final(outbox_ids)
        await rig.smsc.wait_until(lambda: len(rig.smsc.receipts_sent) == 5, GUARD)
        outbox = rig.gateway.service.outbox
        _, expired = await outbox.sweep_receipts(rig.clock.advance(timedelta(seconds=10)))

        assert states == [OutboxState.DELIVERED] * 5
        assert expired == 0
        assert await rig.held() == 0


@pytest.mark.parametrize("mode", MODES)
async def test_a_receipt_for_an_unknown_id_is_held_then_reported_unmatched(
    tmp_path: Path, mode: str
) -> None:
    async with running(tmp_path, mode, receipts(unknown_receipts=1)) as rig:
        outbox_id = await rig.reply()
        await rig.wait_final([outbox_id])
        await rig.smsc.wait_until(lambda: len(rig.smsc.receipts_sent) == 2, GUARD)
        outbox = rig.gateway.service.outbox

        early = await outbox.sweep_receipts(rig.clock.advance(timedelta(minutes=1)))
        held = await rig.held()
        late = await outbox.sweep_receipts(rig.clock.advance(timedelta(minutes=10)))

        assert (early, held) == ((0, 0), 1)
        assert late == (0, 1)
        assert await rig.held() == 0
        assert (rig.counted("matched"), rig.counted("expired")) == (1, 1)
        assert rig.counted("held") >= 1  # the reply's own receipt may have waited too
        assert (await rig.row(outbox_id)).state == OutboxState.DELIVERED


@pytest.mark.parametrize("mode", MODES)
async def test_an_smsc_that_closes_instead_of_answering_unbind(tmp_path: Path, mode: str) -> None:
    faults = receipts(close_on_unbind=True)
    async with running(tmp_path, mode, faults) as rig:
        outbox_id = await rig.reply()
        assert await rig.wait_final([outbox_id]) == [OutboxState.DELIVERED]
        links = list(rig.gateway.links.values())
    # leaving `running` stopped the gateway (within its guard): its unbind got a closed
    # connection, and the stop did not wait for an answer that never comes
    assert all(link.state.value == "closed" for link in links)
    assert [change.state for change in rig.smsc.binds][-1] == "unbound"


@pytest.mark.parametrize("mode", MODES)
async def test_an_smsc_sending_its_own_enquire_link(tmp_path: Path, mode: str) -> None:
    async with running(tmp_path, mode, receipts(enquire_link_ms=20)) as rig:
        binds = len(rig.smsc.binds)
        await rig.smsc.wait_until(lambda: rig.smsc.enquire_links_answered >= 3 * binds, GUARD)
        outbox_id = await rig.reply()

        assert await rig.wait_final([outbox_id]) == [OutboxState.DELIVERED]
        assert len(rig.smsc.binds) == binds  # answered, never dropped


async def test_the_outbox_view_needs_the_token_and_a_known_id(tmp_path: Path) -> None:
    async with running(tmp_path, "transceiver", receipts()) as rig:
        base = f"{rig.gateway.base_url}/v1/outbox"
        token = {"Authorization": f"Bearer {TOKEN}"}
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/reply-1") as answer:
                assert answer.status == 401
            async with http.get(f"{base}/no-such-reply", headers=token) as answer:
                assert answer.status == 404
                body = await answer.json()
        assert body["error"] == "unknown_outbox_id" and body["message"]
