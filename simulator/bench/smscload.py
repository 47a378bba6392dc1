"""A lean SMSC-side load generator, a process of its own: `python -m simulator.bench.smscload`.

It listens as the SMSC on 127.0.0.1 (a port from the OS), takes the bind of whatever
relays MO to an application (Kannel's bearerbox, or smsgw), and once told `go` on stdin
delivers phones' texts as deliver_sm and counts the replies that come back as submit_sm,
answering each with submit_sm_resp (and no delivery receipt unless `--receipts`).

Each phone holds one conversation at a time: a text, then the reply addressed to it. In
closed loop (`--in-flight N`) a phone texts again as soon as it is answered, N open at
once; in open loop (`--rate R`) texts are started at R per second, and one offered when
no phone is free is counted `skipped`. Latency is from the deliver_sm sent to the reply's
last submit_sm part received. A reply to a phone with no open text is `duplicated`; a
text still unanswered `--grace` seconds after the load stopped is `lost`.

Only the SMPP codec (smsgw.smpp) and asyncio: no session machinery, no simulator world,
so that this process is far from being the bottleneck (its CPU is reported).

It speaks JSON lines on stdout: `{"event": "listening", "port": P}`, `{"event": "bound",
...}`, `{"event": "sent"}` when the load stops, and `{"event": "report", ...}` at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from simulator.bench.tally import percentiles_ms
from simulator.smsc import mo_deliver_sm
from smsgw.smpp.codec import Framer, decode, encode
from smsgw.smpp.constants import ESM_DELIVERY_RECEIPT, ESM_UDHI, CommandStatus
from smsgw.smpp.errors import SmppError
from smsgw.smpp.pdu import (
    BindReceiver,
    BindReceiverResp,
    BindTransceiver,
    BindTransceiverResp,
    BindTransmitter,
    BindTransmitterResp,
    DeliverSm,
    DeliverSmResp,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    Pdu,
    SubmitSm,
    SubmitSmResp,
    Unbind,
    UnbindResp,
)
from smsgw.smpp.reassembly import read_user_data
from smsgw.smpp.text import encode_text

SHORT_NUMBER: Final = "7757"
UCS2: Final = 8
RATE_TICK_SECONDS: Final = 0.002
RETRY_SECONDS: Final = 0.05
MAX_ATTEMPTS: Final = 20
QUIET_SECONDS: Final = 0.3
MAX_LOST_SHOWN: Final = 5


def msisdn_of(index: int) -> str:
    return f"7901{index:07d}"


def padded(text: str, count: int) -> str:
    """The `count`-th spelling of `text` with spaces around it (which a gateway ignores):
    a phone's texts are never identical, so none looks like an SMSC's redelivery."""
    total = math.isqrt(2 * count)
    while total * (total + 1) // 2 > count:
        total -= 1
    left = count - total * (total + 1) // 2
    return " " * left + text + " " * (total - left)


# --- what is counted -----------------------------------------------------------------------


@dataclass(slots=True)
class Counts:
    sent: int = 0
    answered: int = 0
    replies: int = 0  # whole messages (a long reply's parts count once)
    parts: int = 0
    duplicated: int = 0
    skipped: int = 0
    refused: int = 0
    retries: int = 0
    receipts: int = 0
    latencies: list[float] = field(default_factory=list)


# --- one ESME connection -------------------------------------------------------------------


class EsmeConnection(asyncio.Protocol):
    """The SMSC's end of one bind: answers binds, enquire_link, unbind and submit_sm, sends
    deliver_sm and resolves each with its deliver_sm_resp."""

    def __init__(self, load: SmscLoad) -> None:
        self.load = load
        self.framer = Framer()
        self.transport: asyncio.Transport | None = None
        self.receiving = False
        self.system_id = ""
        self._sequence = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[int]] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.load.unbound(self)
        for future in self._waiting.values():
            if not future.done():
                future.set_result(-1)
        self._waiting.clear()

    def data_received(self, data: bytes) -> None:
        try:
            frames = self.framer.feed(data)
        except SmppError:
            self._close()
            return
        for frame in frames:
            try:
                pdu = decode(frame)
            except SmppError:
                sequence = int.from_bytes(frame[12:16], "big") if len(frame) >= 16 else 0
                self._send(GenericNack(sequence, CommandStatus.ESME_RINVCMDID))
                continue
            self._take(pdu)

    def _take(self, pdu: Pdu) -> None:
        if isinstance(pdu, SubmitSm):
            self._send(SubmitSmResp(pdu.sequence_number, message_id=self.load.submitted(pdu, self)))
        elif isinstance(pdu, DeliverSmResp):
            future = self._waiting.pop(pdu.sequence_number, None)
            if future is not None and not future.done():
                future.set_result(pdu.command_status)
        elif isinstance(pdu, EnquireLink):
            self._send(EnquireLinkResp(pdu.sequence_number))
        elif isinstance(pdu, BindTransceiver | BindReceiver | BindTransmitter):
            self._bind(pdu)
        elif isinstance(pdu, Unbind):
            self._send(UnbindResp(pdu.sequence_number))
            self._close()
        elif not pdu.command_id & 0x80000000:  # a request we do not serve
            self._send(GenericNack(pdu.sequence_number, CommandStatus.ESME_RINVCMDID))

    def _bind(self, pdu: BindTransceiver | BindReceiver | BindTransmitter) -> None:
        answer = {
            BindTransceiver: BindTransceiverResp,
            BindReceiver: BindReceiverResp,
            BindTransmitter: BindTransmitterResp,
        }[type(pdu)]
        if (pdu.system_id, pdu.password) != (self.load.system_id, self.load.password):
            self._send(answer(pdu.sequence_number, CommandStatus.ESME_RBINDFAIL))
            return
        self._send(answer(pdu.sequence_number, system_id="smscload"))
        self.system_id = pdu.system_id
        self.receiving = not isinstance(pdu, BindTransmitter)
        self.load.bound(self)

    async def deliver(self, pdu: DeliverSm) -> int:
        """Send `pdu`; its deliver_sm_resp status (-1: the connection went)."""
        sequence = next(self._sequence)
        pdu.sequence_number = sequence
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting[sequence] = future
        self._send(pdu)
        return await future

    def _send(self, pdu: Pdu) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(encode(pdu))

    def _close(self) -> None:
        if self.transport is not None:
            self.transport.close()


# --- the load ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoadPlan:
    in_flight: int | None  # closed loop: this many open at once
    rate: float | None  # open loop: texts started per second
    duration: float
    warmup: float
    grace: float
    phones: int
    text: str
    window: int  # outstanding deliver_sm at most
    receipts: bool


class OfferedPlan(Protocol):
    """What says how a load is offered: closed loop (`in_flight`) or open (`rate`)."""

    @property
    def in_flight(self) -> int | None: ...

    @property
    def rate(self) -> float | None: ...

    @property
    def duration(self) -> float: ...


def offered_load(plan: OfferedPlan) -> dict[str, Any]:
    """The fields every bench report starts with: how the load was offered, how long."""
    return {
        "mode": "closed" if plan.in_flight is not None else "open",
        "in_flight": plan.in_flight,
        "rate": plan.rate,
        "duration_s": plan.duration,
    }


class SmscLoad:
    def __init__(self, plan: LoadPlan, system_id: str, password: str) -> None:
        self.plan = plan
        self.system_id = system_id
        self.password = password
        self.counts = Counts()
        self.connections: list[EsmeConnection] = []
        self.binds = asyncio.Event()
        self._turns = itertools.count()
        self._message_ids = itertools.count(1)
        self._open: dict[str, float] = {}  # msisdn -> when its text was sent
        self._texts_by_phone = [0] * plan.phones
        self._idle: deque[int] = deque(range(plan.phones))
        self._window = asyncio.Semaphore(plan.window)
        self._tasks: set[asyncio.Task[None]] = set()
        self._sending = False
        self._all_answered = asyncio.Event()
        self._window_start = math.inf
        self._window_end = math.inf
        self._in_window = {"sent": 0, "answered": 0}

    # --- binds -------------------------------------------------------------------------

    def bound(self, connection: EsmeConnection) -> None:
        self.connections.append(connection)
        _emit({"event": "bound", "system_id": connection.system_id})
        if connection.receiving:
            self.binds.set()

    def unbound(self, connection: EsmeConnection) -> None:
        if connection in self.connections:
            self.connections.remove(connection)

    def _receiver(self) -> EsmeConnection | None:
        receivers = [c for c in self.connections if c.receiving]
        if not receivers:
            return None
        return receivers[next(self._turns) % len(receivers)]

    # --- replies -----------------------------------------------------------------------

    def submitted(self, pdu: SubmitSm, connection: EsmeConnection) -> str:
        message_id = f"{next(self._message_ids):x}"
        self.counts.parts += 1
        data = read_user_data(pdu.short_message, udhi=bool(pdu.esm_class & ESM_UDHI))
        concat = data.concat
        if concat is None or concat.seqnum == concat.total:  # the message is whole
            self._replied(pdu.destination_addr)
        if self.plan.receipts and pdu.registered_delivery & 0x01:
            self._spawn(self._receipt(connection, pdu, message_id))
        return message_id

    def _replied(self, msisdn: str) -> None:
        now = time.perf_counter()
        self.counts.replies += 1
        sent_at = self._open.pop(msisdn, None)
        if sent_at is None:
            self.counts.duplicated += 1
            return
        self.counts.answered += 1
        if self._window_start <= sent_at < self._window_end:
            self.counts.latencies.append(now - sent_at)
        if self._window_start <= now < self._window_end:
            self._in_window["answered"] += 1
        self._idle.append(int(msisdn[4:]))
        if self._sending and self.plan.in_flight is not None:
            self._start()
        elif not self._open:
            self._all_answered.set()

    async def _receipt(self, connection: EsmeConnection, pdu: SubmitSm, message_id: str) -> None:
        text = f"id:{message_id} sub:001 dlvrd:001 stat:DELIVRD err:000 text:"
        receipt = DeliverSm(
            source_addr=pdu.destination_addr,
            destination_addr=pdu.source_addr,
            esm_class=ESM_DELIVERY_RECEIPT,
            short_message=text.encode("ascii"),
        )
        if await connection.deliver(receipt) == CommandStatus.ESME_ROK:
            self.counts.receipts += 1

    # --- texts -------------------------------------------------------------------------

    def _start(self) -> bool:
        if not self._idle:
            return False
        index = self._idle.popleft()
        msisdn = msisdn_of(index)
        count = self._texts_by_phone[index]
        self._texts_by_phone[index] = count + 1
        self._spawn(self._deliver(msisdn, padded(self.plan.text, count)))
        return True

    async def _deliver(self, msisdn: str, text: str) -> None:
        pdu_text = encode_text(text, UCS2)
        async with self._window:
            sent_at = time.perf_counter()
            self._open[msisdn] = sent_at
            self.counts.sent += 1
            if self._window_start <= sent_at < self._window_end:
                self._in_window["sent"] += 1
            for attempt in range(MAX_ATTEMPTS):
                if attempt:
                    self.counts.retries += 1
                    await asyncio.sleep(RETRY_SECONDS)
                connection = self._receiver()
                if connection is None:
                    continue
                pdu = mo_deliver_sm(msisdn, SHORT_NUMBER, pdu_text, esm_class=0)
                if await connection.deliver(pdu) == CommandStatus.ESME_ROK:
                    return
        if self._open.pop(msisdn, None) is not None:  # never taken: nothing will answer
            self.counts.refused += 1
            self._idle.append(int(msisdn[4:]))

    async def run(self) -> dict[str, Any]:
        plan = self.plan
        started = time.perf_counter()
        cpu_started = time.process_time()
        self._window_start = started + plan.warmup
        self._window_end = self._window_start + plan.duration
        self._sending = True
        if plan.in_flight is not None:
            for _ in range(min(plan.in_flight, plan.phones)):
                self._start()
            await asyncio.sleep(max(0.0, self._window_end - time.perf_counter()))
        else:
            await self._at_rate(plan.rate or 1.0, started)
        self._sending = False
        sending_seconds = time.perf_counter() - started
        sending_cpu = time.process_time() - cpu_started
        _emit({"event": "sent"})
        if self._open:
            self._all_answered.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._all_answered.wait(), plan.grace)
        await asyncio.sleep(QUIET_SECONDS)  # a duplicate close behind the last answer
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        return self._report(sending_seconds, sending_cpu)

    async def _at_rate(self, rate: float, started: float) -> None:
        offered = 0
        while (now := time.perf_counter()) < self._window_end:
            for _ in range(int((now - started) * rate) - offered):
                offered += 1
                if not self._start():
                    self.counts.skipped += 1
            await asyncio.sleep(RATE_TICK_SECONDS)

    def _report(self, sending_seconds: float, sending_cpu: float) -> dict[str, Any]:
        counts, plan = self.counts, self.plan
        now = time.perf_counter()
        return {
            "event": "report",
            **offered_load(plan),
            "mo_sent": self._in_window["sent"],
            "mo_per_s": round(self._in_window["sent"] / plan.duration, 1),
            "replies": self._in_window["answered"],
            "replies_per_s": round(self._in_window["answered"] / plan.duration, 1),
            "latency_ms": percentiles_ms(counts.latencies, ranks=(50, 99)),
            "lost": len(self._open),
            "lost_examples": [
                {"msisdn": msisdn, "age_s": round(now - at, 3)}
                for msisdn, at in list(self._open.items())[:MAX_LOST_SHOWN]
            ],
            "duplicated": counts.duplicated,
            "refused": counts.refused,
            "skipped": counts.skipped,
            "retries": counts.retries,
            "receipts": counts.receipts,
            "totals": {
                "mo_sent": counts.sent,
                "replies": counts.replies,
                "answered": counts.answered,
                "submit_sm": counts.parts,
            },
            "cpu_seconds_sending": round(sending_cpu, 3),
            "cpu_per_s": round(sending_cpu / sending_seconds, 3) if sending_seconds else None,
        }

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _emit(event: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


# --- the process ---------------------------------------------------------------------------


async def serve(plan: LoadPlan, system_id: str, password: str, bind_timeout: float) -> int:
    load = SmscLoad(plan, system_id, password)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: EsmeConnection(load), "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        _emit({"event": "listening", "port": port})
        try:
            await asyncio.wait_for(load.binds.wait(), bind_timeout)
        except TimeoutError:
            _emit({"event": "error", "message": f"no bind in {bind_timeout:g} s"})
            return 2
        # the parent says when the other side is ready (Kannel: its smsbox connected)
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if line.strip() != "go":
            return 2
        report = await load.run()
        _emit(report)
        return 0
    finally:
        server.close()
        for connection in list(load.connections):
            if connection.transport is not None:
                connection.transport.abort()


def parse_args(argv: list[str] | None = None) -> tuple[LoadPlan, argparse.Namespace]:
    parser = argparse.ArgumentParser(prog="python -m simulator.bench.smscload")
    pace = parser.add_mutually_exclusive_group(required=True)
    pace.add_argument("--in-flight", type=int, help="closed loop: texts open at once")
    pace.add_argument("--rate", type=float, help="open loop: texts started per second")
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--grace", type=float, default=10.0)
    parser.add_argument("--phones", type=int, default=20_000)
    parser.add_argument("--text", default="I")
    parser.add_argument("--window", type=int, default=1000, help="outstanding deliver_sm")
    parser.add_argument("--receipts", action="store_true", help="answer receipt requests")
    parser.add_argument("--system-id", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--bind-timeout", type=float, default=30.0)
    args = parser.parse_args(argv)
    plan = LoadPlan(
        in_flight=args.in_flight,
        rate=args.rate,
        duration=args.duration,
        warmup=args.warmup,
        grace=args.grace,
        phones=max(args.phones, args.in_flight or 1),
        text=args.text,
        window=args.window,
        receipts=args.receipts,
    )
    return plan, args


def main(argv: list[str] | None = None) -> int:
    plan, args = parse_args(argv)
    return asyncio.run(serve(plan, args.system_id, args.password, args.bind_timeout))


if __name__ == "__main__":
    sys.exit(main())
