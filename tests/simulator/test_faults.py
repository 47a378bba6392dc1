"""Faults on demand: the pure `FaultInjector`, and the simulated SMSC carrying each fault
out on the wire to a bare SMPP client (our own session in the ESME role)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.config import SmscAccount, SmscSettings
from simulator.faults import (
    BindLimiter,
    FaultInjector,
    Faults,
    FaultsError,
    SubmitAction,
)
from simulator.smsc import LinkChange, NoGatewayBoundError, SimulatedSmsc
from smsgw.smpp.constants import ESM_DELIVERY_RECEIPT, ESM_UDHI, CommandStatus, Tag
from smsgw.smpp.events import Event, PduReceived, Role
from smsgw.smpp.pdu import (
    BindTransceiver,
    BindTransmitter,
    DeliverSm,
    GenericNack,
    Pdu,
    SubmitSm,
    SubmitSmResp,
)
from smsgw.smpp.reassembly import Reassembler, parse_udh
from smsgw.smpp.session import SessionConfig
from smsgw.smpp.text import decode_text, encode_text
from smsgw.transport.smpp_protocol import LinkLostError, ResponseTimeoutError, SmppProtocol

ACCOUNTS = (SmscAccount("gw-mts", "pw", "mts"), SmscAccount("gw-beeline", "pw", "beeline"))


# --- the pure injector -------------------------------------------------------------------


def test_no_faults_answer_everything() -> None:
    injector = FaultInjector()
    limiter = BindLimiter()
    decisions = {injector.on_submit("mts", limiter, float(n)).action for n in range(50)}
    assert decisions == {SubmitAction.ANSWER}
    assert injector.on_bind("mts") == CommandStatus.ESME_ROK
    assert injector.mo_copies("mts") == 1


def test_counts_are_spent_in_order_and_left_readable() -> None:
    injector = FaultInjector(Faults(throttle_count=2, queue_full_count=1, nack_count=1))
    limiter = BindLimiter()
    got = [injector.on_submit("mts", limiter, 0.0) for _ in range(5)]
    assert [d.action for d in got] == [
        SubmitAction.NACK,
        SubmitAction.REFUSE,
        SubmitAction.REFUSE,
        SubmitAction.REFUSE,
        SubmitAction.ANSWER,
    ]
    assert [d.status for d in got[1:4]] == [
        CommandStatus.ESME_RTHROTTLED,
        CommandStatus.ESME_RTHROTTLED,
        CommandStatus.ESME_RMSGQFUL,
    ]
    assert injector.faults.throttle_count == 0 and injector.faults.nack_count == 0


def test_faults_limited_to_one_operator_leave_the_others_alone() -> None:
    injector = FaultInjector(Faults(operator="beeline", throttle_count=1, refuse_binds=1))
    limiter = BindLimiter()
    assert injector.on_submit("mts", limiter, 0.0).action is SubmitAction.ANSWER
    assert injector.on_bind("mts") == CommandStatus.ESME_ROK
    assert injector.on_submit("beeline", limiter, 0.0).action is SubmitAction.REFUSE
    assert injector.on_bind("beeline") == CommandStatus.ESME_RBINDFAIL


@settings(max_examples=200, deadline=None)
@given(share=st.floats(min_value=0, max_value=1), submits=st.integers(0, 300))
def test_a_share_hits_exactly_floor_of_n_times_share(share: float, submits: int) -> None:
    injector = FaultInjector(Faults(throttle_share=share))
    limiter = BindLimiter()
    hit = sum(
        injector.on_submit("mts", limiter, 0.0).action is SubmitAction.REFUSE
        for _ in range(submits)
    )
    expected = int(submits * share + 1e-6)
    assert expected - 1 <= hit <= expected


def test_setting_faults_starts_the_shares_afresh() -> None:
    injector = FaultInjector(Faults(queue_full_share=0.5))
    limiter = BindLimiter()
    injector.on_submit("mts", limiter, 0.0)  # half a hit banked
    injector.faults = Faults(queue_full_share=0.5)
    assert injector.on_submit("mts", limiter, 0.0).action is SubmitAction.ANSWER


def test_throughput_cap_refills_with_time() -> None:
    faults = Faults(submits_per_second=2)
    limiter = BindLimiter()
    assert [limiter.admits(faults, 0.0) for _ in range(3)] == [True, True, False]
    assert limiter.admits(faults, 0.5) is True
    assert limiter.admits(faults, 0.5) is False


def test_window_counts_what_is_outstanding() -> None:
    faults = Faults(window=2)
    limiter = BindLimiter()
    limiter.outstanding = 1
    assert limiter.admits(faults, 0.0)
    limiter.outstanding = 2
    assert not limiter.admits(faults, 0.0)


@settings(max_examples=200, deadline=None)
@given(count=st.integers(2, 40), seed=st.integers(0, 2**32))
def test_shuffled_parts_are_a_permutation_never_in_order(count: int, seed: int) -> None:
    injector = FaultInjector(Faults(mo_parts_order="shuffled", seed=seed))
    order = injector.part_order("mts", count)
    assert sorted(order) == list(range(count))
    assert order != list(range(count))


def test_receipts_follow_registered_delivery() -> None:
    injector = FaultInjector(Faults(receipts=True, receipt_stat="UNDELIV", receipt_delay_ms=20))
    assert injector.receipt_for("mts", 1) == ("UNDELIV", 0.02)
    assert injector.receipt_for("mts", 2) == ("UNDELIV", 0.02)  # asked for on failure only
    assert injector.receipt_for("mts", 0) is None
    injector.faults = Faults(receipts=True)
    assert injector.receipt_for("mts", 2) is None  # delivered: no receipt on failure only


FAULT_VALUES = st.fixed_dictionaries(
    {},
    optional={
        "operator": st.sampled_from([None, "mts", "beeline"]),
        "throttle_count": st.integers(0, 10),
        "throttle_share": st.floats(0, 1),
        "nack_status": st.sampled_from(["ESME_RSYSERR", "ESME_RINVCMDLEN", 0]),
        "submit_delay_ms": st.integers(0, 5000),
        "window": st.none() | st.integers(1, 100),
        "submits_per_second": st.none() | st.floats(0.5, 1000),
        "refuse_bind_status": st.sampled_from(["ESME_RBINDFAIL", "ESME_RINVPASWD"]),
        "mo_parts": st.integers(0, 10),
        "mo_parts_order": st.sampled_from(["in_order", "reversed", "shuffled"]),
        "receipts": st.booleans(),
        "receipt_stat": st.sampled_from(["DELIVRD", "UNDELIV"]),
    },
)


@settings(max_examples=200, deadline=None)
@given(values=FAULT_VALUES)
def test_faults_survive_a_json_round_trip(values: dict[str, object]) -> None:
    faults = Faults.from_mapping(values)
    assert Faults.from_mapping(faults.to_dict()) == faults


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"throttle_cnt": 1}, "faults.throttle_cnt"),
        ({"throttle_share": 1.5}, "faults.throttle_share"),
        ({"throttle_count": -1}, "faults.throttle_count"),
        ({"throttle_count": True}, "faults.throttle_count"),
        ({"refuse_bind_status": "ESME_ROK"}, "faults.refuse_bind_status"),
        ({"nack_status": "ESME_NOPE"}, "faults.nack_status"),
        ({"mo_parts_order": "sideways"}, "faults.mo_parts_order"),
        ({"receipt_stat": "LOST"}, "faults.receipt_stat"),
        ({"window": 0}, "faults.window"),
        ({"submits_per_second": 0}, "faults.submits_per_second"),
    ],
)
def test_bad_fault_settings_name_their_key(values: dict[str, object], key: str) -> None:
    with pytest.raises(FaultsError, match=f"^{re.escape(key)}:"):
        Faults.from_mapping(values)


def test_updated_keeps_the_other_faults() -> None:
    faults = Faults(throttle_count=3).updated({"mo_duplicates": 1})
    assert (faults.throttle_count, faults.mo_duplicates) == (3, 1)


# --- on the wire -------------------------------------------------------------------------


class Client(SmppProtocol):
    """A bare ESME: what the SMSC sends is kept, and every deliver_sm answered ESME_ROK."""

    def __init__(self, config: SessionConfig | None = None) -> None:
        super().__init__(Role.ESME, config)
        self.delivered: list[DeliverSm] = []
        self.got_deliver = asyncio.Event()

    def event_received(self, event: Event) -> None:
        pdu = getattr(event, "pdu", None)
        if isinstance(pdu, DeliverSm):
            self.delivered.append(pdu)
            self.respond(pdu)
            self.got_deliver.set()
        elif isinstance(event, PduReceived):
            self.respond(event.pdu, CommandStatus.ESME_RINVCMDID)

    async def wait_delivered(self, count: int) -> list[DeliverSm]:
        async with asyncio.timeout(5):
            while len(self.delivered) < count:
                self.got_deliver.clear()
                await self.got_deliver.wait()
        return self.delivered


@dataclass
class Wire:
    smsc: SimulatedSmsc
    links: list[LinkChange] = field(default_factory=list)
    clients: list[Client] = field(default_factory=list)

    async def connect(
        self, system_id: str = "gw-mts", config: SessionConfig | None = None
    ) -> tuple[Client, Pdu]:
        loop = asyncio.get_running_loop()
        _, client = await loop.create_connection(
            lambda: Client(config), "127.0.0.1", self.smsc.port
        )
        self.clients.append(client)
        answer = await client.send_request(BindTransceiver(system_id=system_id, password="pw"))
        return client, answer

    async def bound(self, system_id: str = "gw-mts") -> Client:
        client, answer = await self.connect(system_id)
        assert answer.command_status == CommandStatus.ESME_ROK
        return client


@pytest.fixture
async def wire() -> AsyncIterator[Wire]:
    links: list[LinkChange] = []
    smsc = SimulatedSmsc(SmscSettings("127.0.0.1", 0, ACCOUNTS), on_link=links.append)
    await smsc.start()
    wire = Wire(smsc, links)
    try:
        yield wire
    finally:
        for client in wire.clients:
            client.abort()
        await smsc.close()


def submit(text: str = "hi", registered_delivery: int = 0) -> SubmitSm:
    return SubmitSm(
        source_addr="7757",
        destination_addr="79161234567",
        registered_delivery=registered_delivery,
        data_coding=8,
        short_message=encode_text(text, 8),
    )


async def accepted(client: Client, pdu: SubmitSm) -> SubmitSmResp:
    answer = await client.send_request(pdu)
    assert isinstance(answer, SubmitSmResp) and answer.command_status == CommandStatus.ESME_ROK
    return answer


async def test_throttled_then_accepted(wire: Wire) -> None:
    client = await wire.bound()
    wire.smsc.faults = Faults(throttle_count=2)
    statuses = [(await client.send_request(submit())).command_status for _ in range(3)]
    assert statuses == [CommandStatus.ESME_RTHROTTLED] * 2 + [CommandStatus.ESME_ROK]
    assert [m.text for m in wire.smsc.inbox["79161234567"]] == ["hi"]


async def test_queue_full_for_a_share(wire: Wire) -> None:
    client = await wire.bound()
    wire.smsc.faults = Faults(queue_full_share=0.5)
    statuses = [(await client.send_request(submit())).command_status for _ in range(4)]
    assert statuses == [CommandStatus.ESME_ROK, CommandStatus.ESME_RMSGQFUL] * 2


async def test_generic_nack_instead_of_a_response(wire: Wire) -> None:
    client = await wire.bound()
    wire.smsc.faults = Faults(nack_count=1, nack_status=CommandStatus.ESME_RINVCMDLEN)
    answer = await client.send_request(submit())
    assert isinstance(answer, GenericNack)
    assert answer.command_status == CommandStatus.ESME_RINVCMDLEN
    assert (await client.send_request(submit())).command_status == CommandStatus.ESME_ROK


async def test_missing_response_times_out_at_the_client(wire: Wire) -> None:
    client, _ = await wire.connect(config=SessionConfig(response_timeout=0.2))
    wire.smsc.faults = Faults(no_response_count=1)
    with pytest.raises(ResponseTimeoutError):
        await client.send_request(submit())
    assert (await client.send_request(submit())).command_status == CommandStatus.ESME_ROK


async def test_slow_response_arrives_late(wire: Wire) -> None:
    client = await wire.bound()
    wire.smsc.faults = Faults(submit_delay_ms=150)
    loop = asyncio.get_running_loop()
    started = loop.time()
    answer = await client.send_request(submit())
    assert answer.command_status == CommandStatus.ESME_ROK
    assert loop.time() - started >= 0.15


async def test_drop_on_submit_closes_the_connection(wire: Wire) -> None:
    client = await wire.bound()
    wire.smsc.faults = Faults(drop_on_submit_count=1)
    with pytest.raises(LinkLostError):
        await client.send_request(submit())
    await wire.smsc.wait_until(lambda: not wire.smsc.server.bound)
    assert [link.state for link in wire.links] == ["bound", "unbound"]


async def test_window_enforced_by_the_smsc(wire: Wire) -> None:
    client = await wire.bound()
    wire.smsc.faults = Faults(window=1, submit_delay_ms=100)
    first = client.send_request(submit("one"))
    second = client.send_request(submit("two"))
    answers = await asyncio.gather(first, second)
    assert [a.command_status for a in answers] == [
        CommandStatus.ESME_ROK,
        CommandStatus.ESME_RTHROTTLED,
    ]


async def test_throughput_cap_enforced_by_the_smsc(wire: Wire) -> None:
    client = await wire.bound()
    wire.smsc.faults = Faults(submits_per_second=2)
    answers = await asyncio.gather(*(client.send_request(submit()) for _ in range(3)))
    assert sorted(a.command_status for a in answers) == [
        CommandStatus.ESME_ROK,
        CommandStatus.ESME_ROK,
        CommandStatus.ESME_RTHROTTLED,
    ]


async def test_refused_bind_then_accepted(wire: Wire) -> None:
    wire.smsc.faults = Faults(refuse_binds=1, refuse_bind_status=CommandStatus.ESME_RINVPASWD)
    _, refused = await wire.connect()
    assert refused.command_status == CommandStatus.ESME_RINVPASWD
    _, accepted = await wire.connect()
    assert accepted.command_status == CommandStatus.ESME_ROK
    assert [(link.state, link.status) for link in wire.links] == [
        ("refused", CommandStatus.ESME_RINVPASWD),
        ("bound", CommandStatus.ESME_ROK),
    ]
    assert wire.links[0].operator == "mts" and wire.links[0].bind == "transceiver"


async def test_drop_links_closes_only_that_operator(wire: Wire) -> None:
    mts = await wire.bound("gw-mts")
    beeline = await wire.bound("gw-beeline")
    assert wire.smsc.drop_links("mts") == 1
    await asyncio.wait_for(mts.closed, 5)
    assert not beeline.closed.done()
    with pytest.raises(NoGatewayBoundError):
        await wire.smsc.send_mo("mts", "79161234567", "7757", "I")
    assert [link.system_id for link in wire.smsc.bound_links()] == ["gw-beeline"]


async def test_mo_waits_for_a_bind_when_asked(wire: Wire) -> None:
    sending = asyncio.ensure_future(wire.smsc.send_mo("mts", "79161234567", "7757", "I", wait=5))
    client = await wire.bound()
    assert await sending == CommandStatus.ESME_ROK
    assert decode_text(client.delivered[0].short_message, 8) == "I"


async def test_duplicate_deliver_sm(wire: Wire) -> None:
    client = await wire.bound()
    wire.smsc.faults = Faults(mo_duplicates=2)
    assert await wire.smsc.send_mo("mts", "79161234567", "7757", "1001*A123BC77") == 0
    delivered = await client.wait_delivered(3)
    assert {decode_text(pdu.short_message, 8) for pdu in delivered} == {"1001*A123BC77"}


@pytest.mark.parametrize("ref16", [False, True])
async def test_mo_parts_out_of_order(wire: Wire, ref16: bool) -> None:
    client = await wire.bound()
    wire.smsc.faults = Faults(mo_parts=3, mo_parts_order="reversed", mo_parts_ref16=ref16)
    text = "1001*А123ВС77*2"
    await wire.smsc.send_mo("mts", "79161234567", "7757", text)
    parts = await client.wait_delivered(3)
    infos = [parse_udh(pdu.short_message) for pdu in parts]
    assert all(pdu.esm_class & ESM_UDHI for pdu in parts)
    assert [info.seqnum for info, _, _ in infos if info] == [3, 2, 1]
    assert {info.ref16 for info, _, _ in infos if info} == {ref16}
    ordered = sorted(infos, key=lambda item: item[0].seqnum if item[0] else 0)
    assert decode_text(b"".join(body for _, body, _ in ordered), 8) == text


async def test_long_mo_is_cut_into_parts_in_order(wire: Wire) -> None:
    client = await wire.bound()
    text = "Ж" * 150  # 300 octets in UCS-2: three parts of at most 134
    await wire.smsc.send_mo("mts", "79161234567", "7757", text)
    parts = await client.wait_delivered(3)
    infos = [parse_udh(pdu.short_message) for pdu in parts]
    assert [info.seqnum for info, _, _ in infos if info] == [1, 2, 3]
    assert all(len(body) <= 134 for _, body, _ in infos)
    assert decode_text(b"".join(body for _, body, _ in infos), 8) == text


async def test_a_long_mt_missing_parts_is_dropped_when_it_times_out() -> None:
    # the first of two parts, and no second: the SMSC's reassembler times it out by its
    # own timer, not only when some later part happens to arrive
    parts = Reassembler(timeout=0.2, redelivery_window=0.2)
    smsc = SimulatedSmsc(SmscSettings("127.0.0.1", 0, ACCOUNTS), reassembler=parts)
    await smsc.start()
    wire = Wire(smsc)
    try:
        client = await wire.bound()
        first_of_two = SubmitSm(
            source_addr="7757",
            destination_addr="79161234567",
            esm_class=ESM_UDHI,
            data_coding=8,
            short_message=bytes([5, 0, 3, 42, 2, 1]) + encode_text("half", 8),
        )
        await accepted(client, first_of_two)
        assert parts.open_count == 1
        async with asyncio.timeout(5):
            while parts.open_count:
                await asyncio.sleep(0.05)
        assert parts.stats.expired == 1
        assert wire.smsc.inbox["79161234567"] == []
    finally:
        for client in wire.clients:
            client.abort()
        await smsc.close()


@pytest.mark.parametrize(("stat", "state"), [("DELIVRD", 2), ("UNDELIV", 5)])
async def test_delivery_receipts_with_outcome(wire: Wire, stat: str, state: int) -> None:
    client = await wire.bound()
    wire.smsc.faults = Faults(receipts=True, receipt_stat=stat, receipt_delay_ms=10)
    answer = await accepted(client, submit(registered_delivery=1))
    (receipt,) = await client.wait_delivered(1)
    assert receipt.esm_class == ESM_DELIVERY_RECEIPT
    text = receipt.short_message.decode("ascii")
    assert f"id:{answer.message_id} " in text and f"stat:{stat}" in text
    assert receipt.tlvs[Tag.MESSAGE_STATE] == bytes([state])
    await wire.smsc.wait_until(lambda: bool(wire.smsc.receipts_sent))
    assert wire.smsc.receipts_sent[0].status == CommandStatus.ESME_ROK


async def test_no_receipt_unless_asked_for(wire: Wire) -> None:
    client = await wire.bound()
    wire.smsc.faults = Faults(receipts=True)
    await client.send_request(submit(registered_delivery=0))
    asked = await accepted(client, submit(registered_delivery=1))
    await wire.smsc.wait_until(lambda: bool(wire.smsc.receipts_sent))
    assert [receipt.message_id for receipt in wire.smsc.receipts_sent] == [asked.message_id]
    assert len(await client.wait_delivered(1)) == 1


async def test_transmitter_binds_never_get_mo(wire: Wire) -> None:
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(Client, "127.0.0.1", wire.smsc.port)
    wire.clients.append(client)
    await client.send_request(BindTransmitter(system_id="gw-mts", password="pw"))
    assert wire.smsc.bound_links()[0].bind == "transmitter"
    assert not wire.smsc.is_bound("mts")
    with pytest.raises(NoGatewayBoundError):
        await wire.smsc.send_mo("mts", "79161234567", "7757", "I")


def test_hostile_mo_faults_read_and_name_their_key() -> None:
    faults = Faults.from_mapping(
        {
            "mo_bad_sender": "EVIL'--",
            "mo_bad_receiver": "",
            "mo_flood": 5,
            "mo_payload_bytes": 60_000,
        }
    )
    assert (faults.mo_bad_sender, faults.mo_bad_receiver) == ("EVIL'--", "")
    assert (faults.mo_flood, faults.mo_payload_bytes) == (5, 60_000)
    assert Faults.from_mapping(faults.to_dict()) == faults
    for key, value in (("mo_flood", -1), ("mo_payload_bytes", 70_000), ("mo_bad_sender", 5)):
        with pytest.raises(FaultsError, match=f"^faults.{key}:"):
            Faults.from_mapping({key: value})


def test_hostile_mo_faults_apply_to_their_operator_only() -> None:
    injector = FaultInjector(Faults(operator="mts", mo_bad_sender="", mo_flood=3))
    assert injector.mo_addresses("mts", "79161234567", "7757") == ("", "7757")
    assert injector.mo_addresses("beeline", "79161234567", "7757") == ("79161234567", "7757")
    assert (injector.mo_flood("mts"), injector.mo_flood("beeline")) == (3, 0)
