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
import gc
import itertools
import math
import random
import re
import string
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from simulator.phones import ConfirmationPolicy
from simulator.smsc import NoGatewayBoundError, ReceivedMt
from simulator.world import SimulatedWorld
from smsgw.commands.errors import PARSE_REPLY_KEYS
from smsgw.domain.language import Language
from smsgw.replies.catalogue import SHARED_REPLY_FACTS
from smsgw.replies.render import template_texts
from smsgw.smpp.constants import CommandStatus
from smsgw.smpp.reassembly import MessageKey, Reassembler
from smsgw.transport.smpp_mo import REDELIVERY_WINDOW_SECONDS
from smsgw.transport.smpp_protocol import LinkError

COMMANDS: Final = ("pay", "extend", "stop", "status", "bad")
DEFAULT_MIX: Final = "pay=30,extend=10,stop=15,status=30,bad=15"
DEFAULT_OPERATORS: Final = ("mts", "megafon", "beeline", "t2")

# notices sent before the answer proper: the payment waits for the subscriber's "1"
INTERMEDIATE_KEYS: Final = frozenset({"pay.charge_requested", "pay.confirm_request"})
# texts the gateway sends on its own, answering no text
UNSOLICITED_KEYS: Final = frozenset({"session.reminder", "session.ended"})
STARTED_KEYS: Final = frozenset({"pay.started", "pay.started_min_charge"})
EXTENDED_KEYS: Final = frozenset({"extend.done", "extend.done_min_charge"})
STOPPED_KEY: Final = "stop.done"
UNRECOGNISED: Final = "unrecognised"

# A deliver_sm refused with a temporary error (or unanswered) is sent again, as an SMSC
# would; the gateway recognises the redelivery.
DELIVER_ATTEMPTS: Final = 20
DELIVER_RETRY_SECONDS: Final = 0.05
RATE_TICK_SECONDS: Final = 0.002
MAX_PHONES: Final = 1_000_000
MAX_LOST_SHOWN: Final = 10
MAX_RECENT_TEXTS: Final = 64  # per phone, before the old ones are looked for
MAX_SECONDS: Final = 3600.0
MAX_RATE: Final = 100_000.0
# a reply arriving this soon after the last conversation closed is still counted
QUIET_SECONDS: Final = 0.3

# Letters a Russian plate may hold, with the Cyrillic letter each one looks like.
PLATE_LETTERS: Final = "ABEKMHOPCTYX"
CYRILLIC_OF: Final = dict(zip(PLATE_LETTERS, "АВЕКМНОРСТУХ", strict=True))
PLATE_REGIONS: Final = ("77", "97", "99", "177", "197", "777", "36", "136", "50", "750")


class MixError(ValueError):
    """`--mix` cannot be read; the message says which part and why."""


# --- the mix of commands -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Mix:
    """Relative weights of the commands the phones send."""

    weights: tuple[tuple[str, float], ...]

    @classmethod
    def parse(cls, text: str) -> Mix:
        """`pay=30,status=50,bad=20`: commands not named get weight 0."""
        weights: dict[str, float] = {}
        for part in filter(None, (piece.strip() for piece in text.split(","))):
            name, sep, value = part.partition("=")
            name = name.strip().lower()
            if not sep or name not in COMMANDS:
                raise MixError(f"{part!r}: expected COMMAND=WEIGHT, COMMAND one of {COMMANDS}")
            if name in weights:
                raise MixError(f"{name}: named twice")
            try:
                weight = float(value)
            except ValueError:
                raise MixError(f"{name}: weight {value.strip()!r} is not a number") from None
            if not weight >= 0 or weight == float("inf"):
                raise MixError(f"{name}: weight must be a finite number >= 0")
            weights[name] = weight
        if sum(weights.values()) <= 0:
            raise MixError("at least one command needs a weight above 0")
        return cls(tuple((name, weights.get(name, 0.0)) for name in COMMANDS))

    def as_dict(self) -> dict[str, float]:
        total = sum(weight for _, weight in self.weights)
        return {name: round(weight / total, 4) for name, weight in self.weights if weight}

    def choose(self, allowed: frozenset[str], rng: random.Random) -> str | None:
        """A command drawn by weight among `allowed`; None when none of them has weight."""
        names = [name for name, weight in self.weights if weight > 0 and name in allowed]
        if not names:
            return None
        weights = [weight for name, weight in self.weights if weight > 0 and name in allowed]
        return rng.choices(names, weights)[0]


# --- recognising replies -------------------------------------------------------------------


class ReplyClassifier:
    """The reply key of a text, by the gateway's templates in one language."""

    def __init__(self, language: Language) -> None:
        keys = sorted(set(SHARED_REPLY_FACTS) | PARSE_REPLY_KEYS)
        alternatives: list[tuple[int, str, str]] = []
        for key in keys:
            for text in template_texts(key, language):
                pattern, literal = _template_pattern(text)
                alternatives.append((literal, key, pattern))
        # the most specific template first: `fullmatch` takes the first that fits
        alternatives.sort(key=lambda item: -item[0])
        self._keys = [key for _, key, _ in alternatives]
        joined = "|".join(f"(?P<k{i}>{pattern})" for i, (_, _, pattern) in enumerate(alternatives))
        self._pattern = re.compile(joined, re.DOTALL)

    def key_of(self, text: str) -> str:
        match = self._pattern.fullmatch(text)
        if match is None or match.lastgroup is None:
            return UNRECOGNISED
        return self._keys[int(match.lastgroup[1:])]


def _template_pattern(text: str) -> tuple[str, int]:
    """A template as a regular expression (each fact: any text), and its literal length."""
    parts: list[str] = []
    literal = 0
    for before, name, _, _ in string.Formatter().parse(text):
        parts.append(re.escape(before))
        literal += len(before)
        if name is not None:
            parts.append(".*?")
    return "".join(parts), literal


# --- what the phones text ------------------------------------------------------------------


class PlateMaker:
    """Fresh Russian plates, never the same twice (a plate has one session at a time)."""

    def __init__(self, rng: random.Random, *, first: int = 0) -> None:
        self._rng = rng
        self._numbers = itertools.count(first)

    def next(self) -> str:
        n = next(self._numbers)
        letters = len(PLATE_LETTERS)
        first = PLATE_LETTERS[n % letters]
        digits = (n // letters) % 999 + 1
        rest = n // (letters * 999)
        pair = PLATE_LETTERS[rest % letters] + PLATE_LETTERS[(rest // letters) % letters]
        region = PLATE_REGIONS[(rest // letters**2) % len(PLATE_REGIONS)]
        if rest // (letters**2 * len(PLATE_REGIONS)):
            raise RuntimeError("the plate numbers ran out")
        return f"{first}{digits:03d}{pair}{region}"

    def spelled(self, plate: str) -> str:
        """As a driver types it: Latin or Cyrillic, upper or lower case."""
        if self._rng.random() < 0.3:
            plate = "".join(CYRILLIC_OF.get(char, char) for char in plate)
        return plate.lower() if self._rng.random() < 0.2 else plate


class TextMaker:
    """The texts of each command, spelled the many ways drivers type them."""

    def __init__(self, zone: str, max_hours: int, rng: random.Random, plates: PlateMaker) -> None:
        self.zone = zone
        self.max_hours = max_hours
        self._rng = rng
        self._plates = plates
        self._bad_count = 0

    def pay(self, plate: str, hours: int) -> str:
        spelled = self._plates.spelled(plate)
        separator = "#" if self._rng.random() < 0.1 else "*"
        if hours == 1 and self._rng.random() < 0.3:
            return f"{self.zone}{separator}{spelled}"
        return f"{self.zone}{separator}{spelled}{separator}{hours}"

    def extend(self, plate: str, hours: int) -> str:
        letter = self._rng.choice(("X", "x", "Х", "х"))
        return f"{letter}*{hours}*{self._plates.spelled(plate)}"

    def stop(self, plate: str) -> str:
        letter = self._rng.choice(("S", "s", "С", "с", "C", "c"))
        return f"{letter}*{self._plates.spelled(plate)}"

    def status(self) -> str:
        return self._rng.choice(("I", "i", "Й", "й"))

    def bad(self) -> str:
        """A mistake drivers make; each kind gets its own reply."""
        self._bad_count += 1
        n = self._bad_count
        plate = self._plates.next()
        kinds = (
            f"{self.zone}*A{n % 100:02d}*2",  # a plate too short
            f"{self.zone}*{plate}*{self.max_hours + 1 + n % 50}",  # too many hours
            f"{self.zone} {plate} 2",  # no separators
            f"{9000 + n % 999}*{plate}*1",  # no such zone
            f"{self.zone}*Z{n % 1000:03d}ZZ77*1",  # letters no plate has
            f"привет {n}",  # not a command at all
            f"LANG*F{PLATE_LETTERS[n % 12]}",  # no such language
        )
        return kinds[n % len(kinds)]


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


# --- settings and results ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoadSettings:
    phones: int = 1000
    rate: float | None = None  # texts per second; None: as fast as the gateway answers
    duration: float = 10.0  # seconds measured
    warmup: float = 1.0  # seconds of load before measuring starts
    grace: float = 10.0  # seconds to wait for the last answers
    in_flight: int = 200  # open conversations at most (without `rate`)
    smsc_window: int = 100  # outstanding deliver_sm per operator
    mix: Mix = field(default_factory=lambda: Mix.parse(DEFAULT_MIX))
    zone: str = "1001"
    max_hours: int = 24
    max_sessions_per_phone: int = 3
    operators: tuple[str, ...] = DEFAULT_OPERATORS
    language: Language = Language.RU
    phone_balance_minor: int = 1_000_000_00
    seed: int = 1

    def __post_init__(self) -> None:
        # a bench is bounded in count and time, whatever it is asked
        _check_range("phones", self.phones, 1, MAX_PHONES)
        _check_range("in_flight", self.in_flight, 1, 10_000)
        _check_range("smsc_window", self.smsc_window, 1, 1000)
        _check_range("duration", self.duration, 0.1, MAX_SECONDS)
        _check_range("warmup", self.warmup, 0, MAX_SECONDS)
        _check_range("grace", self.grace, 0, MAX_SECONDS)
        if self.rate is not None:
            _check_range("rate", self.rate, 0.1, MAX_RATE)
        if not self.operators:
            raise ValueError("operators: at least one")


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise ValueError(f"{name}: must be from {_number(low)} to {_number(high)}, got {value}")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


@dataclass(frozen=True, slots=True)
class Progress:
    elapsed: float
    measuring: bool
    sent: int
    completed: int
    replies: int
    paid_sessions: int
    in_flight: int
    sent_per_s: float  # since the previous report
    replies_per_s: float
    p99_ms: float | None  # of the first replies since the previous report


def percentiles_ms(samples: list[float]) -> dict[str, float | int | None]:
    """p50/p95/p99/max (nearest rank) of latencies in seconds, in milliseconds."""
    if not samples:
        return {"p50": None, "p95": None, "p99": None, "max": None, "samples": 0}
    ordered = sorted(samples)

    def rank(fraction: float) -> float:
        index = min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))
        return round(ordered[index] * 1000, 2)

    return {
        "p50": rank(0.50),
        "p95": rank(0.95),
        "p99": rank(0.99),
        "max": round(ordered[-1] * 1000, 2),
        "samples": len(ordered),
    }


@dataclass(slots=True)
class Tally:
    """Counters; `*_in_window` count only what happened while measuring."""

    sent: Counter[str] = field(default_factory=Counter)
    sent_in_window: int = 0
    replies: int = 0
    replies_in_window: int = 0
    completed: int = 0
    completed_in_window: int = 0
    paid_sessions: int = 0
    paid_in_window: int = 0
    sessions_from_balance: int = 0
    duplicated: int = 0
    unsolicited: int = 0
    unknown_receiver: int = 0
    refused: int = 0
    skipped: int = 0
    retries: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    paid_latencies: list[float] = field(default_factory=list)
    recent_latencies: list[float] = field(default_factory=list)


class GcWatch:
    """The garbage collector's pauses in this process while the load runs: a pause here
    is latency the gateway did not cause, so the report shows it beside the figures."""

    def __init__(self) -> None:
        self.collections = 0
        self.total = 0.0
        self.longest = 0.0
        self._started = 0.0

    def __enter__(self) -> GcWatch:
        gc.freeze()  # the phones and the world, made before the run, are never garbage
        gc.callbacks.append(self._on_gc)
        return self

    def __exit__(self, *_: object) -> None:
        gc.callbacks.remove(self._on_gc)
        gc.unfreeze()

    def _on_gc(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        pause = time.perf_counter() - self._started
        self.collections += 1
        self.total += pause
        self.longest = max(self.longest, pause)

    def to_json(self) -> dict[str, float | int]:
        return {
            "collections": self.collections,
            "total_ms": round(self.total * 1000, 1),
            "max_ms": round(self.longest * 1000, 2),
        }


@dataclass(frozen=True, slots=True)
class LoadReport:
    settings: LoadSettings
    window: float  # seconds actually measured
    tally: Tally
    lost: int
    sending_seconds: float  # warm-up and measured window: the load generator's busy time
    loadgen_cpu_seconds: float
    run_seconds: float  # sending and waiting for the last answers
    loadgen_gc: dict[str, float | int] = field(default_factory=dict)
    lost_examples: list[dict[str, Any]] = field(default_factory=list)
    # parts of a long reply identical to an earlier one to the same phone, under a
    # reference that came round: a phone that drops repeats would not show it
    repeated_parts: int = 0

    def per_second(self, count: int) -> float:
        return round(count / self.window, 1) if self.window > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        tally, settings = self.tally, self.settings
        return {
            "phones": settings.phones,
            "mode": "max" if settings.rate is None else "rate",
            "target_rate": settings.rate,
            "duration_s": round(self.window, 3),
            "warmup_s": settings.warmup,
            "mix": settings.mix.as_dict(),
            "mo_sent": tally.sent_in_window,
            "mo_per_s": self.per_second(tally.sent_in_window),
            "replies": tally.replies_in_window,
            "replies_per_s": self.per_second(tally.replies_in_window),
            "completed": tally.completed_in_window,
            "completed_per_s": self.per_second(tally.completed_in_window),
            "paid_sessions": tally.paid_in_window,
            "paid_sessions_per_s": self.per_second(tally.paid_in_window),
            "latency_ms": percentiles_ms(tally.latencies),
            "paid_session_latency_ms": percentiles_ms(tally.paid_latencies),
            "lost": self.lost,
            "lost_examples": self.lost_examples,
            "duplicated": tally.duplicated,
            "refused": tally.refused,
            "skipped": tally.skipped,
            "unsolicited": tally.unsolicited,
            "unrecognised": tally.outcomes.get(UNRECOGNISED, 0),
            "mo_retries": tally.retries,
            "repeated_parts": self.repeated_parts,
            "totals": {
                "mo_sent": sum(tally.sent.values()),
                "replies": tally.replies,
                "completed": tally.completed,
                "paid_sessions": tally.paid_sessions,
                "sessions_from_balance": tally.sessions_from_balance,
            },
            "sent_by_command": dict(sorted(tally.sent.items())),
            "replies_by_key": dict(sorted(tally.outcomes.items())),
            "loadgen_cpu_per_s": round(self.loadgen_cpu_seconds / self.sending_seconds, 3)
            if self.sending_seconds > 0
            else None,
            "loadgen_gc": self.loadgen_gc,
        }


# --- the generator -------------------------------------------------------------------------


class LoadGenerator:
    """Drives a started `SimulatedWorld` whose SMSC a gateway is bound to.

    Create it before the gateway binds (it sets the SMSC's window), start the world, then
    `await run()`.
    """

    def __init__(
        self,
        world: SimulatedWorld,
        settings: LoadSettings,
        *,
        clock: Callable[[], float] = time.perf_counter,
        on_progress: Callable[[Progress], None] | None = None,
        progress_interval: float = 1.0,
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
        world.smsc.on_mt = self._on_mt
        # deliver_sm in flight per bind: the SMSC's window (the gateway answers each one
        # only once it is stored, so this bounds what waits on the gateway's disk)
        _set_smsc_window(world, settings.smsc_window)
        self._parts = _show_every_message(world)

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
            repeated_parts=self._parts.repeats,
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
        # the SMSC keeps every text for tests to read; nothing reads them here
        self.world.smsc.inbox.pop(message.destination, None)
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


def padded_variants(text: str) -> Iterator[str]:
    """The text, then with ever more spaces around it."""
    total = 0
    while True:
        for left in range(total + 1):
            yield " " * left + text + " " * (total - left)
        total += 1


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


def _show_every_message(world: SimulatedWorld) -> PhoneReassembler:
    reassembler = PhoneReassembler()
    world.smsc._parts = reassembler
    return reassembler


def _set_smsc_window(world: SimulatedWorld, window: int) -> None:
    from smsgw.smpp.session import SessionConfig

    current = world.smsc.server.session_config or SessionConfig()
    world.smsc.server.session_config = SessionConfig(
        window_size=window,
        response_timeout=current.response_timeout,
        enquire_link_interval=current.enquire_link_interval,
        inactivity_timeout=current.inactivity_timeout,
    )


def summarise(report: Mapping[str, Any]) -> list[str]:
    """The report as a few lines for people."""
    latency = report["latency_ms"]
    paid = report["paid_session_latency_ms"]
    return [
        f"measured {report['duration_s']} s, {report['phones']} phones, mode {report['mode']}"
        + (f" at {report['target_rate']}/s" if report["target_rate"] else ""),
        f"MO sent        {report['mo_sent']:>9}  {report['mo_per_s']:>9.1f}/s",
        f"answered       {report['completed']:>9}  {report['completed_per_s']:>9.1f}/s",
        f"replies (MT)   {report['replies']:>9}  {report['replies_per_s']:>9.1f}/s",
        f"paid sessions  {report['paid_sessions']:>9}  {report['paid_sessions_per_s']:>9.1f}/s"
        " (pay, operator confirmation, callback, session, reply)",
        f"MO→reply ms    p50 {latency['p50']}  p95 {latency['p95']}  p99 {latency['p99']}"
        f"  max {latency['max']}",
        f"paid session ms p50 {paid['p50']}  p95 {paid['p95']}  p99 {paid['p99']}",
        f"lost {report['lost']}  duplicated {report['duplicated']}  refused {report['refused']}"
        f"  skipped {report['skipped']}  unrecognised {report['unrecognised']}",
    ]
