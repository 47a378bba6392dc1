"""Each SMSC fault against the REAL gateway (tests/e2e/rig.py: every part real, one
settable clock): whatever the SMSC does wrong, each command is answered, and once.

Waiting is on events (texts arriving, binds) under a timeout; the links' own timing
(reconnect back-off, throttling pause) runs on a timer the test moves. Where the gateway
retries on its own clock (the outbox's back-off after a temporary error), the test waits
until the retry is recorded, then moves the clock past the back-off (5 s, well inside the
60 s lease) and drains the outbox once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest

from simulator.faults import Faults
from smsgw.smpp.constants import ESM_UDHI, CommandStatus
from smsgw.smpp.pdu import DeliverSm
from smsgw.smpp.segmentation import concat_udh
from tests.e2e.rig import Rig, running_rig
from tests.transport.fast_timer import FastLinkTimer
from tests.transport.manual_timer import ManualTimer

DRIVER = "79161234567"
HELP = "1001*A123BC77*2"  # in every help text
# The outbox's first retry comes 5 s (gateway time) after a temporary error.
PAST_BACKOFF = timedelta(seconds=6)


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    async with running_rig(tmp_path) as rig:
        rig.phone(DRIVER)
        yield rig


@pytest.fixture
async def fast_rig(tmp_path: Path) -> AsyncIterator[Rig]:
    """The rig with the SMPP links' timing ten times faster: a throttled link's pause
    passes in a tenth of its length, where that it pauses matters, not for how long."""
    async with running_rig(tmp_path, link_timer=FastLinkTimer(10.0)) as rig:
        rig.phone(DRIVER)
        yield rig


TimedRig = tuple[Rig, ManualTimer]


@pytest.fixture
async def timed(tmp_path: Path) -> AsyncIterator[TimedRig]:
    """The rig with the SMPP links' timing on a timer the test moves."""
    timer = ManualTimer()
    async with running_rig(tmp_path, link_timer=timer) as rig:
        rig.phone(DRIVER)
        yield rig, timer


async def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """A guard for what no event announces (a row written by the gateway)."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


async def reconnect_now(timer: ManualTimer) -> None:
    """Once a dropped link is backing off, move its timer to the end of the back-off."""
    await eventually(lambda: timer.next_deadline() is not None)
    timer.advance_to_next()


def mt_results(rig: Rig, result: str) -> float:
    value = rig.gateway.metrics.registry.get_sample_value(
        "mt_sent_total", {"operator": "mts", "result": result}
    )
    return value or 0.0


async def retry_now(rig: Rig) -> None:
    """Once the gateway recorded a retry, move its clock past the back-off and send."""
    await eventually(lambda: mt_results(rig, "retry") >= 1)
    rig.clock.advance(PAST_BACKOFF)
    await rig.gateway.service.outbox.drain()


async def only_these_replies(rig: Rig, count: int) -> list[str]:
    """Wait for `count` replies, then prove no other one was queued before: a status
    request is answered after everything queued earlier for the phone."""
    texts = await rig.replies(DRIVER, count)
    (status,) = await rig.converse(DRIVER, "I")
    assert status not in texts[:count]
    assert len(rig.smsc.inbox[DRIVER]) == count + 1
    return texts[:count]


async def rebound(rig: Rig, since: int) -> None:
    """Wait until mts has bound again after the bind log's first `since` entries."""
    await rig.smsc.wait_until(
        lambda: any(
            link.state == "bound" and link.operator == "mts" for link in rig.smsc.binds[since:]
        ),
        timeout=10,
    )


def outbox_states(tmp_path: Path) -> list[str]:
    uri = f"file:{tmp_path / 'gateway.sqlite3'}?mode=ro"
    with sqlite3.connect(uri, uri=True) as db:
        return [
            row[0] for row in db.execute("SELECT state FROM outbox WHERE receiver = ?", (DRIVER,))
        ]


async def test_throttled_reply_arrives_once_after_the_pause(timed: TimedRig) -> None:
    rig, timer = timed
    rig.smsc.faults = Faults(throttle_count=1)
    assert await rig.text(DRIVER, "?") == CommandStatus.ESME_ROK
    link = rig.gateway.links["mts-1"]
    await eventually(lambda: link.paused)
    deadline = timer.next_deadline()
    assert deadline is not None
    assert 0.8 <= deadline - timer.now <= 1.2  # the first pause: 1 s ± 20 %
    timer.advance((deadline - timer.now) * 0.9)
    assert link.paused and not rig.smsc.inbox[DRIVER], "resent before the pause ended"
    timer.advance_to_next()
    (reply,) = await only_these_replies(rig, 1)
    assert HELP in reply
    assert rig.smsc.faults.throttle_count == 0
    assert link.stats.throttled == 1


async def test_queue_full_is_retried_by_the_outbox(rig: Rig) -> None:
    rig.smsc.faults = Faults(queue_full_count=1)
    await rig.text(DRIVER, "?")
    await retry_now(rig)
    (reply,) = await only_these_replies(rig, 1)
    assert HELP in reply


async def test_temporary_generic_nack_is_retried(rig: Rig) -> None:
    rig.smsc.faults = Faults(nack_count=1, nack_status=CommandStatus.ESME_RSYSERR)
    await rig.text(DRIVER, "?")
    await retry_now(rig)
    (reply,) = await only_these_replies(rig, 1)
    assert HELP in reply


async def test_permanent_generic_nack_fails_the_reply(rig: Rig, tmp_path: Path) -> None:
    rig.smsc.faults = Faults(nack_count=1, nack_status=CommandStatus.ESME_RINVCMDLEN)
    await rig.text(DRIVER, "?")
    await eventually(lambda: mt_results(rig, "failed") >= 1)
    (status,) = await rig.converse(DRIVER, "I")  # the next reply goes through
    assert HELP not in status
    assert rig.smsc.inbox[DRIVER][0].text == status
    await eventually(lambda: sorted(outbox_states(tmp_path)) == ["failed", "sent"])


async def test_missing_response_times_out_and_is_retried(timed: TimedRig) -> None:
    rig, timer = timed
    # The response timeout is 10 s by default; a test cannot wait that long, so this
    # bind reconnects with a short one.
    link = rig.gateway.links["mts-1"]
    session = dataclasses.replace(link.config.session, response_timeout=0.3)
    link.config = dataclasses.replace(link.config, session=session)
    since = len(rig.smsc.binds)
    rig.smsc.drop_links("mts")
    await reconnect_now(timer)
    await rebound(rig, since)
    rig.smsc.faults = Faults(no_response_count=1)
    await rig.text(DRIVER, "?")
    await retry_now(rig)
    (reply,) = await only_these_replies(rig, 1)
    assert HELP in reply


async def test_link_dropped_instead_of_an_answer_reconnects_and_resends(
    timed: TimedRig,
) -> None:
    rig, timer = timed
    since = len(rig.smsc.binds)
    rig.smsc.faults = Faults(drop_on_submit_count=1)
    await rig.text(DRIVER, "?")
    await reconnect_now(timer)
    await rebound(rig, since)
    await retry_now(rig)
    (reply,) = await only_these_replies(rig, 1)
    assert HELP in reply
    assert [link.state for link in rig.smsc.binds[since:] if link.operator == "mts"] == [
        "unbound",
        "bound",
    ]


async def test_dropped_link_reconnects_and_the_reply_arrives(timed: TimedRig) -> None:
    rig, timer = timed
    assert rig.smsc.drop_links("mts") == 1
    # held until rebound
    sent = asyncio.create_task(rig.smsc.send_mo("mts", DRIVER, "7757", "?", wait=10))
    await reconnect_now(timer)
    status = await sent
    assert status == CommandStatus.ESME_ROK
    (reply,) = await only_these_replies(rig, 1)
    assert HELP in reply
    assert rig.gateway.links["mts-1"].stats.connects == 2


async def test_refused_bind_makes_the_link_back_off(timed: TimedRig) -> None:
    rig, timer = timed
    since = len(rig.smsc.binds)
    rig.smsc.faults = Faults(operator="mts", refuse_binds=1)
    rig.smsc.drop_links("mts")
    await eventually(lambda: timer.next_deadline() is not None)
    first = timer.advance_to_next()
    assert 0.8 <= first <= 1.2  # the first delay: 1 s ± 20 %
    await rig.smsc.wait_until(
        lambda: any(link.state == "refused" for link in rig.smsc.binds[since:]), timeout=10
    )
    await eventually(lambda: timer.next_deadline() is not None)
    # after a refusal the next attempt waits twice the first delay (2 s ± 20 %)
    assert 1.6 <= timer.advance_to_next() <= 2.4
    await rebound(rig, since)
    events = [link for link in rig.smsc.binds[since:] if link.operator == "mts"]
    assert [link.state for link in events] == ["unbound", "refused", "bound"]
    assert events[1].status == CommandStatus.ESME_RBINDFAIL
    assert rig.gateway.links["mts-1"].stats.bind_failures == 1
    (reply,) = await rig.converse(DRIVER, "?")
    assert HELP in reply


async def test_the_same_deliver_sm_on_one_bind_is_the_driver_texting_again(rig: Rig) -> None:
    # This used to be "a duplicate deliver_sm is processed once". An SMSC sends a message
    # again only when it did not get its answer, and then on a new bind (README, "Running
    # the gateway"); on the same bind each copy is a text of its own and is answered.
    # The driver still pays once: the repeats find the payment pending.
    rig.smsc.faults = Faults(mo_duplicates=2)
    await rig.text(DRIVER, "1001*A123BC77*1")
    await rig.settle()
    rig.smsc.faults = Faults()
    replies = await rig.replies(DRIVER, 4)
    assert any("A123BC77" in reply for reply in replies)
    assert len(rig.operators["mts"].charges) == 1


async def test_the_same_text_twice_seconds_apart_gets_two_replies(rig: Rig) -> None:
    (first,) = await rig.converse(DRIVER, "I")
    rig.clock.advance(timedelta(seconds=3))
    (second,) = await rig.converse(DRIVER, "I")
    assert first == second


async def test_a_long_text_that_never_completes_is_answered_incomplete(rig: Rig) -> None:
    pdu = DeliverSm(
        source_addr_ton=1,
        source_addr=DRIVER,
        destination_addr="7757",
        esm_class=ESM_UDHI,
        data_coding=8,
        short_message=concat_udh(9, 2, 1, ref16=False) + "1001*А123".encode("utf-16-be"),
    )
    (connection,) = [c for c in rig.smsc.server.bound if rig.smsc.operator_of(c) == "mts"]
    assert (await connection.deliver(pdu)).command_status == CommandStatus.ESME_ROK
    rig.clock.advance(timedelta(minutes=6))
    (intake,) = [i for i in rig.gateway.inbound if i.link_id == "mts-1"]
    assert await intake.tick(rig.clock.now()) == 1
    (reply,) = await rig.replies(DRIVER, 1)
    assert "не полностью" in reply


async def test_parts_out_of_order_make_one_mo(rig: Rig) -> None:
    rig.smsc.faults = Faults(mo_parts=4, mo_parts_order="shuffled", seed=7)
    await rig.text(DRIVER, "1001*А123ВС77*1")
    await rig.settle()
    rig.smsc.faults = Faults()
    _, started = await only_these_replies(rig, 2)
    assert "A123BC77" in started
    assert len(rig.operators["mts"].charges) == 1


async def test_slow_responses_still_arrive(rig: Rig) -> None:
    rig.smsc.faults = Faults(submit_delay_ms=300)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await rig.text(DRIVER, "?")
    (reply,) = await rig.replies(DRIVER, 1)
    assert HELP in reply
    assert loop.time() - started >= 0.3


@pytest.mark.parametrize(
    "faults",
    [Faults(window=1, submit_delay_ms=100), Faults(submits_per_second=1.5)],
    ids=["window", "throughput"],
)
async def test_smsc_limits_on_a_two_part_reply(fast_rig: Rig, faults: Faults) -> None:
    rig = fast_rig
    rig.smsc.faults = faults
    await rig.text(DRIVER, "?")  # the Russian help text takes two UCS-2 parts
    (reply,) = await rig.replies(DRIVER, 1)
    assert HELP in reply and len(reply) > 70
    assert rig.smsc.segments_received == 2
    assert rig.gateway.links["mts-1"].stats.throttled >= 1


@pytest.mark.parametrize(("stat", "state"), [("DELIVRD", "delivered"), ("UNDELIV", "failed")])
async def test_delivery_receipts_reach_the_outbox(
    rig: Rig, tmp_path: Path, stat: str, state: str
) -> None:
    # the delay lets the gateway record the message id before the receipt comes
    rig.smsc.faults = Faults(receipts=True, receipt_stat=stat, receipt_delay_ms=300)
    await rig.text(DRIVER, "I")
    await rig.replies(DRIVER, 1)
    await rig.smsc.wait_until(lambda: bool(rig.smsc.receipts_sent))
    assert rig.smsc.receipts_sent[0].status == CommandStatus.ESME_ROK
    await eventually(lambda: outbox_states(tmp_path) == [state])
