"""Scenario files: a QA script of phones and steps, run against the real gateway.

A scenario is a TOML file (see simulator/scenarios/)::

    name = "pay with the operator's confirmation"
    start = 2026-03-10T09:00:00+03:00        # optional; default Tue 10 Mar 2026 09:00 MSK

    [[phones]]
    msisdn = "79161234567"
    operator = "mts"                         # default: the first operator of the SMSC
    balance = "500.00"                       # on the phone, in major units (a string)
    policy = "confirm"                       # confirm | decline | ignore
    answer_delay = 0                         # seconds the owner takes to answer

    [[zones]]                                # optional: zones added to the gateway's
    number = "9002"                          # config, in config.toml's [[zones]] form
    ...

    steps = [
      { phone = "79161234567", send = "1001*A123BC77*2" },
      { phone = "79161234567", expect = "120", from = "7701", within = 5 },
      { phone = "79161234567", expect = "/until 11:00/" },
      { phone = "79161234567", answer = "1" },     # answer a pending charge by hand
      { advance = "50m" },                         # move the clock, run what fell due
      { fault = { throttle_count = 1 } },          # set exactly these faults ({}: none)
      { drop_links = "mts" },                      # close that operator's binds now
      { phone = "79161234567", policy = "ignore", delay = 0 },
      { phone = "79161234567", balance = "380.00" },  # the phone's balance is now this
      { phone = "79161234567", received = 3, from = "7757" },  # texts so far (from one)
    ]

`phone` may be left out when the scenario declares one phone. `expect` waits (`within`
seconds of real time, default 5) for a text the phone received that no earlier expect
matched, optionally only `from` one sender, containing the substring, or matching the
regular expression when written between slashes. Order between texts is not checked:
the gateway's reply and the operator's own request race each other, as on a network.

`smsgw sim run` runs each file in-process on a fresh stack: the gateway
(`start_gateway`, SQLite in a temporary folder) and a `SimulatedWorld`, all on ports
from the OS, sharing a settable clock. The clock stands still at `start` (a paid time)
unless a step moves it: `advance` is meaningful only here, in-process, where it moves
the gateway's and the operators' time together and then runs the gateway's due jobs
(reminders, session ends, confirmation timeouts) at once.
"""

from __future__ import annotations

import asyncio
import copy
import re
import tempfile
import time
import tomllib
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, ClassVar, Final

from simulator.bench.config import pointed_at_world
from simulator.config import smsc_settings_from_config
from simulator.faults import Faults, FaultsError
from simulator.phones import ConfirmationPolicy
from simulator.world import OperatorEndpoint, SimulatedWorld
from smsgw.bootstrap import RunningGateway, start_gateway
from smsgw.charging.protocol import WireStatus
from smsgw.config import config_from_mapping, read_operator_files
from smsgw.domain.money import Money, minor_unit_digits
from smsgw.smpp.constants import CommandStatus

# Tuesday 10 March 2026, 09:00 in Moscow (11:00 in Almaty): every bundled zone is paid.
DEFAULT_START: Final = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
DEFAULT_WITHIN: Final = 5.0
MAX_WITHIN: Final = 300.0
BIND_TIMEOUT: Final = 10.0
ACTIONS: Final = (
    "send",
    "expect",
    "answer",
    "advance",
    "fault",
    "drop_links",
    "policy",
    "balance",
    "received",
)
_STEP_KEYS: Final = frozenset({*ACTIONS, "phone", "within", "from", "delay"})
_DURATION: Final = re.compile(r"(\d+)\s*([dhms])")
_UNITS: Final = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


class ScenarioError(ValueError):
    """A scenario file is wrong; the message names the file and the key."""

    error_code: ClassVar[str] = "bad_scenario"


# --- the model ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PhoneSpec:
    msisdn: str
    operator: str | None = None
    balance: Decimal | None = None
    policy: ConfirmationPolicy = ConfirmationPolicy.CONFIRM
    answer_delay: float = 0.0


@dataclass(frozen=True, slots=True)
class TextPattern:
    """A substring, or a regular expression when written between slashes."""

    source: str
    regex: re.Pattern[str] | None = None

    @classmethod
    def parse(cls, source: str, where: str) -> TextPattern:
        if len(source) >= 2 and source.startswith("/") and source.endswith("/"):
            try:
                return cls(source, re.compile(source[1:-1]))
            except re.error as error:
                raise ScenarioError(f"{where}: bad regular expression ({error})") from None
        if not source:
            raise ScenarioError(f"{where}: must not be empty")
        return cls(source)

    def matches(self, text: str) -> bool:
        if self.regex is not None:
            return self.regex.search(text) is not None
        return self.source in text


@dataclass(frozen=True, slots=True)
class Step:
    """One line of a scenario: `action` with its `value`, for `phone` when it has one."""

    action: str
    value: Any
    phone: str | None = None
    within: float = DEFAULT_WITHIN
    sender: str | None = None
    delay: float | None = None

    def describe(self) -> str:
        who = f"{self.phone} " if self.phone else ""
        match self.action:
            case "send":
                return f"{who}sends {self.value!r}"
            case "expect":
                source = f" from {self.sender}" if self.sender else ""
                return f"{who}expects {self.value.source!r}{source} within {self.within:g} s"
            case "answer":
                return f"{who}answers {self.value!r}"
            case "advance":
                return f"advance the clock by {self.value}"
            case "fault":
                changed = {k: v for k, v in self.value.to_dict().items() if v != _DEFAULTS[k]}
                return f"faults {changed or 'cleared'}"
            case "drop_links":
                return f"drop the links of {self.value or 'every operator'}"
            case "policy":
                return f"{who}answers by policy {self.value}"
            case "received":
                source = f" from {self.sender}" if self.sender else ""
                return f"{who}has received {self.value} texts{source}"
            case _:
                return f"{who}has {self.value} on the phone"


_DEFAULTS: Final = Faults().to_dict()


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    path: Path | None
    start: datetime
    phones: tuple[PhoneSpec, ...]
    steps: tuple[Step, ...]
    zones: tuple[Mapping[str, Any], ...] = ()
    description: str = ""


# --- reading -----------------------------------------------------------------------------


def load_scenario(path: Path) -> Scenario:
    try:
        raw = tomllib.loads(path.read_text("utf-8"))
    except OSError as error:
        raise ScenarioError(f"{path}: cannot be read ({error.strerror})") from None
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"{path}: is not valid TOML ({error})") from None
    try:
        return scenario_from_mapping(raw, path=path)
    except ScenarioError as error:
        raise ScenarioError(f"{path.name}: {error}") from None


def scenario_from_mapping(raw: Mapping[str, Any], *, path: Path | None = None) -> Scenario:
    known = {"name", "description", "start", "phones", "zones", "steps"}
    for key in raw:
        if key not in known:
            raise ScenarioError(f"{key}: unknown key; known: {', '.join(sorted(known))}")
    phones = tuple(_phone(item, f"phones[{i}]") for i, item in enumerate(_list(raw, "phones")))
    numbers = [phone.msisdn for phone in phones]
    if len(set(numbers)) != len(numbers):
        raise ScenarioError("phones: a number is declared twice")
    zones = tuple(_zone(item, f"zones[{i}]") for i, item in enumerate(_list(raw, "zones")))
    steps = tuple(_step(item, f"steps[{i}]", numbers) for i, item in enumerate(_list(raw, "steps")))
    if not steps:
        raise ScenarioError("steps: a scenario needs at least one step")
    name = raw.get("name", path.stem if path else "scenario")
    if not isinstance(name, str):
        raise ScenarioError("name: must be a string")
    return Scenario(
        name=name,
        path=path,
        start=_start(raw.get("start", DEFAULT_START)),
        phones=phones,
        steps=steps,
        zones=zones,
        description=str(raw.get("description", "")),
    )


def parse_duration(text: str, where: str = "advance") -> timedelta:
    """ "50m", "2h", "1h30m", "1d", "90s" → a timedelta."""
    compact = text.replace(" ", "")
    parts = _DURATION.findall(compact)
    if not compact or "".join(number + unit for number, unit in parts) != compact:
        raise ScenarioError(f'{where}: a duration like "50m", "2h", "1h30m", got {text!r}')
    delta = timedelta(**{_UNITS[unit]: int(number) for number, unit in parts})
    if delta <= timedelta(0):
        raise ScenarioError(f"{where}: must be positive")
    return delta


def parse_balance(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ScenarioError(f'{where}: an amount in major units as a string ("500.00")')
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ScenarioError(f"{where}: not an amount: {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise ScenarioError(f"{where}: must be an amount ≥ 0")
    return amount


def to_money(amount: Decimal, currency: str, where: str) -> Money:
    minor = amount.scaleb(minor_unit_digits(currency))
    if minor != minor.to_integral_value():
        raise ScenarioError(f"{where}: {amount} has more decimals than {currency} allows")
    return Money(int(minor), currency)


def _list(raw: Mapping[str, Any], key: str) -> list[Any]:
    value = raw.get(key, [])
    if not isinstance(value, list):
        raise ScenarioError(f"{key}: must be an array")
    return value


def _table(item: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(item, Mapping):
        raise ScenarioError(f"{where}: must be a table")
    return item


def _start(value: Any) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ScenarioError("start: must be a date-time with its offset (2026-03-10T09:00+03:00)")
    return value.astimezone(UTC)


def _phone(item: Any, where: str) -> PhoneSpec:
    table = _table(item, where)
    known = {"msisdn", "operator", "balance", "policy", "answer_delay"}
    for key in table:
        if key not in known:
            raise ScenarioError(f"{where}.{key}: unknown key; known: {', '.join(sorted(known))}")
    msisdn = table.get("msisdn")
    if not isinstance(msisdn, str) or not (msisdn.isascii() and msisdn.isdigit()):
        raise ScenarioError(f"{where}.msisdn: must be a string of digits")
    operator = table.get("operator")
    if operator is not None and not isinstance(operator, str):
        raise ScenarioError(f"{where}.operator: must be a string")
    balance = table.get("balance")
    return PhoneSpec(
        msisdn=msisdn,
        operator=operator,
        balance=None if balance is None else parse_balance(balance, f"{where}.balance"),
        policy=_policy(table.get("policy", "confirm"), f"{where}.policy"),
        answer_delay=_seconds(table.get("answer_delay", 0), f"{where}.answer_delay"),
    )


def _zone(item: Any, where: str) -> Mapping[str, Any]:
    table = _table(item, where)
    if not isinstance(table.get("number"), str):
        raise ScenarioError(f"{where}.number: must be a string of digits")
    return dict(table)


def _policy(value: Any, where: str) -> ConfirmationPolicy:
    try:
        return ConfirmationPolicy(value)
    except ValueError:
        choices = ", ".join(policy.value for policy in ConfirmationPolicy)
        raise ScenarioError(f"{where}: must be one of {choices}") from None


def _seconds(value: Any, where: str, *, high: float = MAX_WITHIN) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= high:
        raise ScenarioError(f"{where}: must be a number of seconds 0..{high:g}")
    return float(value)


def _step(item: Any, where: str, phones: Sequence[str]) -> Step:
    table = _table(item, where)
    for key in table:
        if key not in _STEP_KEYS:
            raise ScenarioError(f"{where}.{key}: unknown key; actions: {', '.join(ACTIONS)}")
    actions = [key for key in ACTIONS if key in table]
    if len(actions) != 1:
        raise ScenarioError(f"{where}: needs exactly one of {', '.join(ACTIONS)}")
    action = actions[0]
    key = f"{where}.{action}"
    phone = _step_phone(table, where, action, phones)
    within = _seconds(table.get("within", DEFAULT_WITHIN), f"{where}.within")
    sender = table.get("from")
    if sender is not None and (action not in _FROM_ACTIONS or not isinstance(sender, str)):
        raise ScenarioError(f"{where}.from: a sender number, for expect and received only")
    delay = table.get("delay")
    if delay is not None and action != "policy":
        raise ScenarioError(f"{where}.delay: for policy steps only")
    value = _step_value(action, table[action], key)
    if delay is not None:
        delay = _seconds(delay, f"{where}.delay", high=24 * 3600)
    return Step(action, value, phone, within, sender, delay)


_PHONE_ACTIONS: Final = frozenset({"send", "expect", "answer", "policy", "balance", "received"})
_FROM_ACTIONS: Final = frozenset({"expect", "received"})


def _step_phone(
    table: Mapping[str, Any], where: str, action: str, phones: Sequence[str]
) -> str | None:
    if action not in _PHONE_ACTIONS:
        if "phone" in table:
            raise ScenarioError(f"{where}.phone: {action} steps take no phone")
        return None
    phone = table.get("phone")
    if phone is None and len(phones) == 1:
        return phones[0]
    if phone not in phones:
        raise ScenarioError(f"{where}.phone: must be one of the [[phones]] numbers, got {phone!r}")
    return str(phone)


def _step_value(action: str, value: Any, key: str) -> Any:
    if action == "fault":
        try:
            return Faults.from_mapping(_table(value, key))
        except FaultsError as error:
            raise ScenarioError(f"{key}: {error}") from None
    if action == "balance":
        return parse_balance(value, key)
    if action == "policy":
        return _policy(value, key)
    if action == "received":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ScenarioError(f"{key}: must be a whole number ≥ 0")
        return value
    if action == "drop_links":
        if value is not None and not isinstance(value, str):
            raise ScenarioError(f'{key}: an operator id, or "" for every operator')
        return value or None
    if not isinstance(value, str):
        raise ScenarioError(f"{key}: must be a string")
    if action == "expect":
        return TextPattern.parse(value, key)
    if action == "advance":
        return parse_duration(value, key)
    if action == "answer" and value not in ("1", "0"):
        raise ScenarioError(f'{key}: must be "1" or "0"')
    return value


# --- the in-process stack -----------------------------------------------------------------


@dataclass
class SettableClock:
    """The one clock of the gateway and the simulated operators; moves only when told."""

    current: datetime = DEFAULT_START

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> datetime:
        self.current += delta
        return self.current


@dataclass
class Stack:
    world: SimulatedWorld
    gateway: RunningGateway
    clock: SettableClock

    async def advance(self, delta: timedelta) -> None:
        """Move time, then run the jobs that fell due (a job may make another one due)."""
        now = self.clock.advance(delta)
        for _ in range(10):
            if await self.gateway.service.scheduler.run_due(now) == 0:
                break
        self.gateway.service.outbox.wake()


def read_gateway_config(path: Path) -> tuple[dict[str, Any], dict[str, Mapping[str, Any]]]:
    """config.toml and the operator files beside it, as raw mappings."""
    raw = tomllib.loads(path.read_text("utf-8"))
    return raw, read_operator_files(path.resolve().parent / "operators")


@asynccontextmanager
async def in_process_stack(
    raw_config: Mapping[str, Any],
    operator_files: Mapping[str, Mapping[str, Any]],
    *,
    start: datetime = DEFAULT_START,
    zones: Sequence[Mapping[str, Any]] = (),
) -> AsyncIterator[Stack]:
    """The gateway and the world of `raw_config`, on ports from the OS, one clock."""
    clock = SettableClock(start)
    world = _world(raw_config, clock)
    await world.start()
    try:
        with tempfile.TemporaryDirectory(prefix="smsgw-scenario-") as folder:
            raw = _gateway_raw(raw_config, world, Path(folder), zones)
            gateway = await start_gateway(config_from_mapping(raw, operator_files), clock=clock)
            try:
                async with _deadline(BIND_TIMEOUT, "the gateway's links did not bind"):
                    await gateway.wait_links_bound()
                yield Stack(world, gateway, clock)
            finally:
                await gateway.stop()
    finally:
        await world.close()


def _world(raw_config: Mapping[str, Any], clock: SettableClock) -> SimulatedWorld:
    settings = replace(smsc_settings_from_config(raw_config), host="127.0.0.1", port=0)
    endpoints = [
        OperatorEndpoint(operator, "127.0.0.1", 0, str(table["secret"]))
        for operator, table in dict(raw_config.get("charging", {})).items()
    ]
    short_number = str(dict(raw_config.get("gateway", {})).get("short_number", "7757"))
    return SimulatedWorld(settings, endpoints, short_number=short_number, clock=clock.now)


def _gateway_raw(
    raw_config: Mapping[str, Any],
    world: SimulatedWorld,
    folder: Path,
    zones: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    dsn = f"sqlite:///{folder / 'gateway.sqlite3'}"
    return pointed_at_world(raw_config, world, storage_dsn=dsn, log_level="error", zones=zones)


@asynccontextmanager
async def _deadline(seconds: float, what: str) -> AsyncIterator[None]:
    try:
        async with asyncio.timeout(seconds):
            yield
    except TimeoutError:
        raise RuntimeError(f"{what} within {seconds:g} s") from None


# --- running -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StepResult:
    number: int
    description: str
    outcome: str  # pass | fail | skip
    detail: str = ""
    seconds: float = 0.0


@dataclass
class ScenarioReport:
    scenario: Scenario
    results: list[StepResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(result.outcome == "pass" for result in self.results)

    def format(self) -> str:
        where = f" ({self.scenario.path.name})" if self.scenario.path else ""
        lines = [f"scenario {self.scenario.name}{where}"]
        for result in self.results:
            line = f"  {result.outcome.upper():4}  {result.number:2}. {result.description}"
            if result.outcome != "skip":
                line += f" [{result.seconds:.2f} s]"
            lines.append(line)
            if result.detail:
                lines.append(f"           {result.detail}")
        good = sum(result.outcome == "pass" for result in self.results)
        verdict = "PASSED" if self.passed else "FAILED"
        lines.append(f"  {verdict}: {good} of {len(self.results)} steps passed")
        return "\n".join(lines)


class StepFailedError(AssertionError):
    """A step's check did not hold; the message says what was seen instead."""


class ScenarioRunner:
    """Runs a scenario's steps on a stack, stopping at the first failure."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.world = stack.world
        # the texts each phone received that an expect step has matched already
        self._matched: dict[str, set[int]] = {}

    async def run(self, scenario: Scenario) -> ScenarioReport:
        report = ScenarioReport(scenario)
        self._create_phones(scenario)
        failed = False
        for number, step in enumerate(scenario.steps, start=1):
            if failed:
                report.results.append(StepResult(number, step.describe(), "skip"))
                continue
            started = time.perf_counter()
            try:
                await self.run_step(step)
            except StepFailedError as error:
                failed = True
                outcome, detail = "fail", str(error)
            except Exception as error:  # reported as the step's failure, not a traceback
                failed = True
                outcome, detail = "fail", f"{type(error).__name__}: {error}"
            else:
                outcome, detail = "pass", ""
            seconds = time.perf_counter() - started
            report.results.append(StepResult(number, step.describe(), outcome, detail, seconds))
        return report

    def _create_phones(self, scenario: Scenario) -> None:
        for spec in scenario.phones:
            try:
                phone = self.world.phone(spec.msisdn, spec.operator, policy=spec.policy)
            except ValueError as error:
                raise ScenarioError(f"phones: {error}") from None
            if spec.balance is not None:
                phone.balance = to_money(spec.balance, phone.balance.currency, "phones.balance")
            phone.answer_delay = spec.answer_delay

    async def run_step(self, step: Step) -> None:
        match step.action:
            case "send":
                await self._send(step)
            case "expect":
                await self._expect(step)
            case "answer":
                await self._answer(step)
            case "advance":
                await self.stack.advance(step.value)
            case "fault":
                self.world.set_faults(copy.copy(step.value))
            case "drop_links":
                self.world.smsc.drop_links(step.value)
            case "policy":
                assert step.phone is not None
                self.world.set_policy(step.phone, step.value, step.delay)
            case "balance":
                self._balance(step)
            case "received":
                self._received(step)

    async def _send(self, step: Step) -> None:
        assert step.phone is not None
        status = await self.world.text(step.phone, step.value, wait=step.within)
        if status != CommandStatus.ESME_ROK:
            raise StepFailedError(f"the gateway answered the deliver_sm with 0x{status:08X}")

    async def _expect(self, step: Step) -> None:
        phone = step.phone
        assert phone is not None
        pattern: TextPattern = step.value
        matched = self._matched.setdefault(phone, set())

        def first_match() -> int | None:
            for index, entry in enumerate(self.world.received.get(phone, [])):
                if index in matched or step.sender not in (None, entry.sender):
                    continue
                if pattern.matches(entry.text):
                    return index
            return None

        if not await self.world.wait_until(lambda: first_match() is not None, step.within):
            unmatched = [
                f"{entry.sender}: {entry.text!r}"
                for index, entry in enumerate(self.world.received.get(phone, []))
                if index not in matched
            ]
            seen = "; ".join(unmatched) or "nothing"
            raise StepFailedError(f"no such text within {step.within:g} s; unmatched: {seen}")
        found = first_match()
        assert found is not None
        matched.add(found)

    async def _answer(self, step: Step) -> None:
        phone = step.phone
        assert phone is not None
        operator_id = self.world.phones.require(phone).operator_id
        operator = self.world.operators.get(operator_id)
        if operator is None:
            raise StepFailedError(f"operator {operator_id} has no charging API in this world")
        if not await self.world.wait_until(lambda: bool(operator.pending_for(phone)), step.within):
            raise StepFailedError(f"no charge awaited an answer within {step.within:g} s")
        charge = await self.world.answer(phone, step.value)
        if charge.status is WireStatus.PENDING:
            raise StepFailedError("the answer left the charge pending")

    def _received(self, step: Step) -> None:
        assert step.phone is not None
        entries = self.world.received.get(step.phone, [])
        texts = [entry.text for entry in entries if step.sender in (None, entry.sender)]
        if len(texts) != step.value:
            raise StepFailedError(f"{len(texts)} texts, not {step.value}: {texts!r}")

    def _balance(self, step: Step) -> None:
        assert step.phone is not None
        phone = self.world.phones.require(step.phone)
        wanted = to_money(step.value, phone.balance.currency, "balance")
        if phone.balance != wanted:
            raise StepFailedError(
                f"the phone has {phone.balance.minor} minor units, not {wanted.minor}"
            )


async def run_scenario(
    scenario: Scenario,
    raw_config: Mapping[str, Any],
    operator_files: Mapping[str, Mapping[str, Any]],
) -> ScenarioReport:
    """Run `scenario` on a fresh in-process stack built from `raw_config`."""
    async with in_process_stack(
        raw_config, operator_files, start=scenario.start, zones=scenario.zones
    ) as stack:
        return await ScenarioRunner(stack).run(scenario)


def scenario_files(paths: Sequence[Path]) -> list[Path]:
    """The files named, and every *.toml in the folders named, in name order."""
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.toml")) if path.is_dir() else [path])
    return files


BUNDLED: Final = Path(__file__).resolve().parent / "scenarios"
