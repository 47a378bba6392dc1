"""The load generator behind `smsgw bench`: virtual phones text the gateway through the
simulated SMSC and every reply is matched to the text that caused it.

Each phone holds one conversation at a time, as a driver does: it texts, waits for the
answer (for a payment: the "confirm with the operator" notice, then the operator's
confirmation and callback, then "parking started"), and only then texts again. Phones
are taken in turn; with `rate` set, texts are started at that rate (an offered text no
phone is free for is counted as `skipped`), otherwise every phone that gets its answer
texts again at once, with at most `in_flight` conversations open.

Replies are recognised by matching them against the gateway's own reply templates
(`smsgw.replies`), so a reply is known by its key whatever the language. A text's answer
is complete with its first reply that is not an intermediate notice; a reply that has no
open conversation to answer is a duplicate; a conversation with no answer by the end of
the grace period is lost. Latency is measured from the moment the deliver_sm is sent to
the moment the reply's submit_sm arrives in the SMSC.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from simulator.bench.gcwatch import GcWatch
from simulator.bench.settings import LoadSettings
from simulator.bench.tally import LoadReport, Progress, Tally, percentiles_ms
from simulator.bench.texts import (
    EXTENDED_KEYS,
    INTERMEDIATE_KEYS,
    STARTED_KEYS,
    STOPPED_KEY,
    UNSOLICITED_KEYS,
    PlateMaker,
    ReplyClassifier,
    TextMaker,
    padded_variants,
)
from simulator.config import SmscAccount, SmscSettings
from simulator.phones import ConfirmationPolicy
from simulator.smsc import NoGatewayBoundError, ReceivedMt
from simulator.world import OperatorEndpoint, SimulatedWorld
from smsgw.smpp.constants import CommandStatus
from smsgw.smpp.reassembly import MessageKey, Reassembler
from smsgw.transport.smpp_protocol import LinkError

# How long a phone's repeated text is padded (see `_unique`): the window older gateways
# took an identical MO for an SMSC's redelivery in.
REDELIVERY_WINDOW_SECONDS: Final = 600

# A deliver_sm refused with a temporary error (or unanswered) is sent again, as an SMSC
# would; the gateway recognises the redelivery.
DELIVER_ATTEMPTS: Final = 20
DELIVER_RETRY_SECONDS: Final = 0.05
RATE_TICK_SECONDS: Final = 0.002
MAX_LOST_SHOWN: Final = 10
MAX_RECENT_TEXTS: Final = 64  # per phone, before the old ones are looked for
# a reply arriving this soon after the last conversation closed is still counted
QUIET_SECONDS: Final = 0.3


# --- the phones ----------------------------------------------------------------------------


@dataclass(slots=True)
class Conversation:
    """One text waiting for its answer."""

    command: str
    plate: str | None
    text: str = ""
    sent_at: float = 0.0
    measured: bool = False
    first_reply_at: float | None = None
    intermediates: int = 0


@dataclass(slots=True)
class LoadPhone:
    msisdn: str
    operator: str
    # running sessions: plate -> hours paid so far
    plates: dict[str, int] = field(default_factory=dict)
    # texts sent lately, with when (see LoadGenerator._unique)
    recent: dict[str, float] = field(default_factory=dict)
    conversation: Conversation | None = None


def msisdn_of(index: int) -> str:
    return f"7900{index:07d}"


# --- the generator -------------------------------------------------------------------------


class LoadGenerator:
    """Drives a started `SimulatedWorld` whose SMSC a gateway is bound to.

    Create it before the gateway binds (it sets the SMSC's window), start the world, then
    `await run()`. Build the world with `bench_world` (or pass the `reassembler` the
    world's SMSC was given) to have repeated parts counted.
    """

    def __init__(
        self,
        world: SimulatedWorld,
        settings: LoadSettings,
        *,
        clock: Callable[[], float] = time.perf_counter,
        on_progress: Callable[[Progress], None] | None = None,
        progress_interval: float = 1.0,
        reassembler: PhoneReassembler | None = None,
    ) -> None:
        self.world = world
        self.settings = settings
        self.tally = Tally()
        self._clock = clock
        self._on_progress = on_progress
        self._progress_interval = progress_interval
        self._rng = random.Random(settings.seed)
        plates = PlateMaker(self._rng)
        self._plates = plates
        self._texts = TextMaker(settings.zone, settings.max_hours, self._rng, plates)
        self._classifier = ReplyClassifier(settings.language)
        self._phones = self._make_phones()
        self._idle: deque[LoadPhone] = deque(self._phones.values())
        self._slots = {op: asyncio.Semaphore(settings.smsc_window) for op in settings.operators}
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_flight = 0
        self._all_answered = asyncio.Event()
        self._sending = False
        self._window_start = float("inf")
        self._window_end = float("inf")
        self._parts = reassembler
        self.unsubscribe = world.smsc.subscribe_mt(self._on_mt)
        # deliver_sm in flight per bind: the SMSC's window (the gateway answers each one
        # only once it is stored, so this bounds what waits on the gateway's disk)
        world.smsc.set_window(settings.smsc_window)

    def _make_phones(self) -> dict[str, LoadPhone]:
        phones: dict[str, LoadPhone] = {}
        operators = self.settings.operators
        for index in range(self.settings.phones):
            operator = operators[index % len(operators)]
            msisdn = msisdn_of(index)
            self.world.phone(
                msisdn,
                operator,
                balance_minor=self.settings.phone_balance_minor,
                policy=ConfirmationPolicy.CONFIRM,
            )
            phones[msisdn] = LoadPhone(msisdn, operator)
        return phones

    # --- running ---------------------------------------------------------------------------

    async def run(self) -> LoadReport:
        settings = self.settings
        started = self._clock()
        cpu_started = time.process_time()
        self._window_start = started + settings.warmup
        self._window_end = self._window_start + settings.duration
        progress = asyncio.create_task(self._report_progress(started))
        self._sending = True
        watch = GcWatch()
        try:
            with watch:
                if settings.rate is None:
                    await self._send_as_answered()
                else:
                    await self._send_at_rate(settings.rate, started)
                self._sending = False
                sending_seconds = self._clock() - started
                cpu_used = time.process_time() - cpu_started
                await self._wait_for_answers(settings.grace)
        finally:
            self._sending = False
            progress.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await progress
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        unanswered = self._unanswered()
        window = min(self._clock(), self._window_end) - self._window_start
        return LoadReport(
            settings=settings,
            window=max(0.0, window),
            tally=self.tally,
            lost=len(unanswered),
            sending_seconds=sending_seconds,
            loadgen_cpu_seconds=cpu_used,
            run_seconds=self._clock() - started,
            loadgen_gc=watch.to_json(),
            lost_examples=unanswered[:MAX_LOST_SHOWN],
            repeated_parts=self._parts.repeats if self._parts is not None else 0,
        )

    def _unanswered(self) -> list[dict[str, Any]]:
        """The conversations still open: what was sent, by whom, how long ago."""
        now = self._clock()
        return [
            {
                "msisdn": phone.msisdn,
                "operator": phone.operator,
                "command": conversation.command,
                "text": conversation.text,
                "age_s": round(now - conversation.sent_at, 3),
                "notices": conversation.intermediates,
            }
            for phone in self._phones.values()
            if (conversation := phone.conversation) is not None
        ]

    async def _send_as_answered(self) -> None:
        for _ in range(min(self.settings.in_flight, len(self._idle))):
            self._start_next()
        await self._sleep_until(self._window_end)

    async def _send_at_rate(self, rate: float, started: float) -> None:
        offered = 0
        while (now := self._clock()) < self._window_end:
            due = int((now - started) * rate) - offered
            for _ in range(due):
                offered += 1
                if not self._start_next():
                    self.tally.skipped += 1
            await asyncio.sleep(RATE_TICK_SECONDS)

    async def _sleep_until(self, moment: float) -> None:
        delay = moment - self._clock()
        if delay > 0:
            await asyncio.sleep(delay)

    async def _wait_for_answers(self, grace: float) -> None:
        if self._in_flight:
            self._all_answered.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._all_answered.wait(), timeout=grace)
        await asyncio.sleep(QUIET_SECONDS)  # a duplicate close behind the last answer

    # --- one conversation ----------------------------------------------------------------

    def _start_next(self) -> bool:
        """Start a conversation on the next free phone; False when none is free."""
        if not self._idle:
            return False
        phone = self._idle.popleft()
        command = self._choose_command(phone)
        plate, text = self._compose(phone, command)
        conversation = Conversation(command, plate, text)
        phone.conversation = conversation
        self._in_flight += 1
        self.tally.sent[command] += 1
        task = asyncio.get_running_loop().create_task(self._deliver(phone, conversation, text))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    def _choose_command(self, phone: LoadPhone) -> str:
        settings = self.settings
        allowed = {"status", "bad"}
        if len(phone.plates) < settings.max_sessions_per_phone:
            allowed.add("pay")
        if phone.plates:
            allowed.add("stop")
        if any(hours < settings.max_hours for hours in phone.plates.values()):
            allowed.add("extend")
        chosen = settings.mix.choose(frozenset(allowed), self._rng)
        if chosen is not None:
            return chosen
        return "stop" if phone.plates else "pay"  # the only way this phone can go on

    def _compose(self, phone: LoadPhone, command: str) -> tuple[str | None, str]:
        texts = self._texts
        plate: str | None = None
        if command == "pay":
            plate = self._plates.next()
            text = texts.pay(plate, self._rng.randint(1, 2))
        elif command == "extend":
            plate = self._rng.choice(
                [p for p, hours in phone.plates.items() if hours < self.settings.max_hours]
            )
            text = texts.extend(plate, 1)
        elif command == "stop":
            plate = self._rng.choice(list(phone.plates))
            text = texts.stop(plate)
        elif command == "status":
            text = texts.status()
        else:
            text = texts.bad()
        return plate, self._unique(phone, text)

    def _unique(self, phone: LoadPhone, text: str) -> str:
        """The text, with spaces around it (which the gateway ignores) if this phone sent
        it within the redelivery window. Older gateways took such a repeat for an SMSC's
        redelivery and left it unanswered; the gateway now does so only for a repeat on
        a newer bind whose first answer may have been lost, so this is a precaution."""
        now = self._clock()
        recent = phone.recent
        if len(recent) > MAX_RECENT_TEXTS:
            for old, at in list(recent.items()):
                if now - at >= REDELIVERY_WINDOW_SECONDS:
                    del recent[old]
        for candidate in padded_variants(text):
            seen = recent.get(candidate)
            if seen is None or now - seen >= REDELIVERY_WINDOW_SECONDS:
                recent[candidate] = now
                return candidate
        raise AssertionError("padded_variants never ends")

    async def _deliver(self, phone: LoadPhone, conversation: Conversation, text: str) -> None:
        async with self._slots[phone.operator]:
            conversation.sent_at = now = self._clock()
            conversation.measured = self._window_start <= now < self._window_end
            if conversation.measured:
                self.tally.sent_in_window += 1
            for attempt in range(DELIVER_ATTEMPTS):
                if attempt:
                    self.tally.retries += 1
                    await asyncio.sleep(DELIVER_RETRY_SECONDS)
                if await self._deliver_once(phone, text) == CommandStatus.ESME_ROK:
                    return
        if phone.conversation is conversation:  # never taken in: nothing will answer it
            self.tally.refused += 1
            self._close(phone)

    async def _deliver_once(self, phone: LoadPhone, text: str) -> int | None:
        try:
            return await self.world.smsc.send_mo(
                phone.operator, phone.msisdn, self.world.short_number, text
            )
        except (LinkError, NoGatewayBoundError):
            return None

    # --- the replies -----------------------------------------------------------------------

    def _on_mt(self, message: ReceivedMt) -> None:
        now = self._clock()
        tally = self.tally
        tally.replies += 1
        if self._window_start <= now < self._window_end:
            tally.replies_in_window += 1
        phone = self._phones.get(message.destination)
        if phone is None:
            tally.unknown_receiver += 1
            return
        key = self._classifier.key_of(message.text)
        tally.outcomes[key] += 1
        if key in UNSOLICITED_KEYS:
            tally.unsolicited += 1
            return
        conversation = phone.conversation
        if conversation is None:
            tally.duplicated += 1
            return
        if conversation.first_reply_at is None:
            conversation.first_reply_at = now
            if conversation.measured:
                latency = now - conversation.sent_at
                tally.latencies.append(latency)
                tally.recent_latencies.append(latency)
        if key in INTERMEDIATE_KEYS:
            conversation.intermediates += 1
            if conversation.intermediates > 1 or conversation.command not in ("pay", "extend"):
                tally.duplicated += 1
            return
        self._answered(phone, conversation, key, now)

    def _answered(self, phone: LoadPhone, conversation: Conversation, key: str, now: float) -> None:
        tally = self.tally
        tally.completed += 1
        if self._window_start <= now < self._window_end:
            tally.completed_in_window += 1
        plate = conversation.plate
        if conversation.command == "pay" and key in STARTED_KEYS and plate is not None:
            phone.plates[plate] = 0
            self._count_session(conversation, now)
        elif conversation.command == "extend" and key in EXTENDED_KEYS and plate is not None:
            phone.plates[plate] = phone.plates.get(plate, 0) + 1
        elif conversation.command == "stop" and key == STOPPED_KEY and plate is not None:
            phone.plates.pop(plate, None)
        self._close(phone)

    def _count_session(self, conversation: Conversation, now: float) -> None:
        tally = self.tally
        if not conversation.intermediates:
            tally.sessions_from_balance += 1
            return
        tally.paid_sessions += 1  # the whole way: charge, confirmation, callback, session
        if self._window_start <= now < self._window_end:
            tally.paid_in_window += 1
        if conversation.measured:
            tally.paid_latencies.append(now - conversation.sent_at)

    def _close(self, phone: LoadPhone) -> None:
        phone.conversation = None
        self._in_flight -= 1
        self._idle.append(phone)
        if self._sending and self.settings.rate is None:
            self._start_next()
        elif not self._in_flight:
            self._all_answered.set()

    # --- progress --------------------------------------------------------------------------

    async def _report_progress(self, started: float) -> None:
        if self._on_progress is None:
            return
        previous = (started, 0, 0)
        while True:
            await asyncio.sleep(self._progress_interval)
            now = self._clock()
            sent = sum(self.tally.sent.values())
            replies = self.tally.replies
            span = max(1e-9, now - previous[0])
            recent, self.tally.recent_latencies = self.tally.recent_latencies, []
            p99 = percentiles_ms(recent)["p99"]
            self._on_progress(
                Progress(
                    elapsed=now - started,
                    measuring=self._window_start <= now < self._window_end,
                    sent=sent,
                    completed=self.tally.completed,
                    replies=replies,
                    paid_sessions=self.tally.paid_sessions,
                    in_flight=self._in_flight,
                    sent_per_s=(sent - previous[1]) / span,
                    replies_per_s=(replies - previous[2]) / span,
                    p99_ms=float(p99) if p99 is not None else None,
                )
            )
            previous = (now, sent, replies)


class PhoneReassembler(Reassembler):
    """Joins the parts of the texts a phone receives, showing every message.

    The SMSC's reassembler is the gateway's MO one, which takes a completed message's
    parts coming again (same reference, same octets) for a redelivery. On the MT side
    that is wrong: the gateway numbers its parts with an 8-bit reference per link, which
    comes round every 256 messages, so a phone that is sent the same long reply twice
    (an unchanged status) within minutes had the second one swallowed, and the bench
    counted it lost. `repeats` counts the parts it would have swallowed."""

    repeats = 0

    def _is_redelivered(self, key: MessageKey, seqnum: int, payload: bytes) -> bool:
        if super()._is_redelivered(key, seqnum, payload):
            self.repeats += 1
        return False


def bench_world(
    operators: Sequence[str], secret_of: Mapping[str, str], reassembler: PhoneReassembler
) -> SimulatedWorld:
    """A world for the bench: an SMSC that shows every message (`reassembler`) and keeps
    no history, one operator per name, credentials `bench-<operator>`."""
    accounts = tuple(SmscAccount(f"bench-{op}", "bench", op) for op in operators)
    endpoints = [OperatorEndpoint(op, "127.0.0.1", 0, secret_of[op]) for op in operators]
    return SimulatedWorld(
        SmscSettings("127.0.0.1", 0, accounts),
        endpoints,
        smsc_reassembler=reassembler,
        mt_to_phones=False,
    )
