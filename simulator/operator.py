"""`OperatorSimulator`: one mobile operator's side of the charging protocol.

An aiohttp app on 127.0.0.1 (port 0 by default) that speaks docs/operator-charging.md
as an operator would: it takes a signed charge request, texts the phone the request to
confirm from the operator's service number (7701), lets the phone answer by its policy
(confirm: the balance is debited, or the charge fails with a reason: "insufficient_funds"
when the balance is short, counting what the operator keeps on the phone (Beeline's
`must_remain`, read from operators/<id>.toml), "subscriber_barred" for a barred number;
decline: "declined"; ignore: no answer, no callback), then POSTs the signed callback.
Requests are idempotent by charge_id, and the charge's status can be polled.

Tests drive it by hand too: `await sim.answer(msisdn, "1")` answers a pending
confirmation, `calls` and `callbacks` record what crossed the wire, `fault_status`
makes every API request fail with that HTTP status. Time is injected (`clock`), and so
is waiting (`sleep`), so a phone that answers "after 30 seconds" costs a test nothing.
The operator's payment limits are the gateway's to enforce; what only the operator can
check (the phone's own balance, what must remain on it) is simulated here.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import tomllib
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp
import structlog
from aiohttp import web

from simulator.phones import (
    CONFIRM_REPLY,
    DECLINE_REPLY,
    BarredPhoneError,
    InsufficientFundsError,
    PhoneBook,
    VirtualPhone,
)
from smsgw.charging.protocol import (
    CHARGES_PATH,
    MAX_SKEW,
    ChargeRequest,
    ChargeView,
    MalformedBodyError,
    Reason,
    WireStatus,
    callback_body,
    error_body,
    status_signed_body,
)
from smsgw.charging.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    secret_bytes,
    signature_headers,
    unix_timestamp,
    verify,
)
from smsgw.domain.errors import ConfigError
from smsgw.domain.money import Money
from smsgw.domain.operators import parse_operator
from smsgw.observability import mask_msisdn

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]
ChargeObserver = Callable[[str, "SimulatedCharge"], None]

DEFAULT_SERVICE_NUMBER = "7701"
# the operators' own rules (what must remain on a phone) live beside the gateway's config
BUNDLED_OPERATORS = Path(__file__).resolve().parent.parent / "operators"
CONFIRMATION_PROMPT = "Ответьте 1 — подтвердить, 0 — отказаться."
# Gateway answers worth retrying a callback after: it was not there or not ready.
_RETRY_CALLBACK_STATUSES = frozenset({408, 425, 429})
_CALLBACK_TIMEOUT = aiohttp.ClientTimeout(total=10)
_NETWORK_ERRORS = (aiohttp.ClientError, TimeoutError, OSError)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def bundled_must_remain(operator_id: str, directory: Path = BUNDLED_OPERATORS) -> Money | None:
    """What the operator keeps on a subscriber's phone, from operators/<id>.toml
    (`[limits] must_remain`); None for an operator without that rule or file."""
    path = directory / f"{operator_id}.toml"
    try:
        data = tomllib.loads(path.read_text("utf-8"))
        return parse_operator(operator_id, data).limits.must_remain
    except (OSError, tomllib.TOMLDecodeError, ConfigError):
        return None


_BUNDLED = object()  # the default of `must_remain`: the operator's own file says


class NoPendingConfirmationError(LookupError):
    """`answer` was called for a phone that has no charge waiting for its 1 or 0."""


@dataclass(slots=True)
class SimulatedCharge:
    request: ChargeRequest
    operator_reference: str
    status: WireStatus = WireStatus.PENDING
    reason: str | None = None

    def view(self) -> ChargeView:
        return ChargeView(self.request.charge_id, self.status, self.operator_reference, self.reason)


@dataclass(frozen=True, slots=True)
class ReceivedCall:
    """One request the gateway made, and the HTTP status it was answered with."""

    method: str
    path: str
    body: bytes
    signature_valid: bool
    status: int


@dataclass(frozen=True, slots=True)
class SentCallback:
    """One callback delivery attempt; `status` None: the gateway could not be reached."""

    url: str
    body: bytes
    status: int | None
    detail: str = ""


class OperatorSimulator:
    def __init__(
        self,
        operator_id: str,
        secret: bytes | str,
        phones: PhoneBook,
        *,
        service_number: str = DEFAULT_SERVICE_NUMBER,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock = _utc_now,
        sleep: Sleep = asyncio.sleep,
        callback_attempts: int = 3,
        callback_retry_seconds: float = 5.0,
        must_remain: Money | object | None = _BUNDLED,
        on_charge: ChargeObserver | None = None,
    ) -> None:
        self.operator_id = operator_id
        # told of each charge opened, and again once the subscriber's answer decided it
        self.on_charge = on_charge
        self.must_remain: Money | None = (
            bundled_must_remain(operator_id)
            if must_remain is _BUNDLED
            else must_remain
            if isinstance(must_remain, Money)
            else None
        )
        self.phones = phones
        self.service_number = service_number
        self.charges: dict[str, SimulatedCharge] = {}
        self.calls: list[ReceivedCall] = []
        self.callbacks: list[SentCallback] = []
        self.fault_status: int | None = None
        self.app = web.Application()
        self.app.router.add_post(CHARGES_PATH, self._post_charge)
        self.app.router.add_get(CHARGES_PATH + "/{charge_id}", self._get_charge)
        self._secret = secret_bytes(secret)
        self._host, self._port = host, port
        self._clock, self._sleep = clock, sleep
        self._callback_attempts = max(1, callback_attempts)
        self._callback_retry_seconds = callback_retry_seconds
        self._references = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def __aenter__(self) -> OperatorSimulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def port(self) -> int:
        if self._runner is None:
            raise RuntimeError("the operator simulator is not started")
        address: tuple[str, int] = self._runner.addresses[0]
        return address[1]

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    # --- driving it by hand --------------------------------------------------------------

    async def answer(self, msisdn: str, reply: str) -> SimulatedCharge:
        """The phone texts `reply` ("1" or "0") to the oldest charge waiting for it; the
        callback is delivered before this returns."""
        if reply not in (CONFIRM_REPLY, DECLINE_REPLY):
            raise ValueError(f"a confirmation answer is 1 or 0, got {reply!r}")
        charge = self._oldest_pending(msisdn)
        if charge is None:
            raise NoPendingConfirmationError(mask_msisdn(msisdn))
        self._decide(charge, self.phones.require(msisdn), reply)
        await self._deliver_callback(charge)
        return charge

    async def settle(self) -> None:
        """Wait until every phone that will answer has answered and its callback is out."""
        while self._tasks:
            await asyncio.gather(*self._tasks)

    def pending_for(self, msisdn: str) -> list[SimulatedCharge]:
        return [
            charge
            for charge in self.charges.values()
            if charge.request.msisdn == msisdn and charge.status is WireStatus.PENDING
        ]

    # --- the API -------------------------------------------------------------------------

    async def _post_charge(self, request: web.Request) -> web.Response:
        body = await request.read()
        signed = self._signature_ok(request.headers, body)
        refusal = self._refusal(signed)
        response = refusal if refusal is not None else self._take_charge(body)
        self.calls.append(ReceivedCall("POST", request.path, body, signed, response.status))
        return response

    async def _get_charge(self, request: web.Request) -> web.Response:
        charge_id = request.match_info["charge_id"]
        signed = self._signature_ok(request.headers, status_signed_body(charge_id))
        refusal = self._refusal(signed)
        response = refusal if refusal is not None else self._charge_status(charge_id)
        self.calls.append(ReceivedCall("GET", request.path, b"", signed, response.status))
        return response

    def _signature_ok(self, headers: Mapping[str, str], signed_body: bytes) -> bool:
        timestamp = headers.get(TIMESTAMP_HEADER)
        signature = headers.get(SIGNATURE_HEADER)
        if timestamp is None or signature is None:
            return False
        if not verify(self._secret, timestamp, signed_body, signature):
            return False
        if not (timestamp.isascii() and timestamp.isdigit()):
            return False
        return abs(self._clock().timestamp() - int(timestamp)) <= MAX_SKEW.total_seconds()

    def _refusal(self, signed: bool) -> web.Response | None:
        if not signed:
            return _error(401, "bad_signature", "unsigned, badly signed or stale request")
        if self.fault_status is not None:
            return _error(self.fault_status, "simulated_fault", "fault injected by the test")
        return None

    def _take_charge(self, body: bytes) -> web.Response:
        try:
            wanted = ChargeRequest.from_json(body)
        except MalformedBodyError as error:
            return _error(400, "malformed", str(error))
        known = self.charges.get(wanted.charge_id)
        if known is None:
            return _view_response(self._open(wanted))
        if not known.request.same_charge(wanted):
            return _error(409, "conflict", "this charge_id was used for another charge")
        return _view_response(known)

    def _charge_status(self, charge_id: str) -> web.Response:
        charge = self.charges.get(charge_id)
        if charge is None:
            return _error(404, "unknown_charge", "no charge with this charge_id")
        return web.Response(body=charge.view().to_json(), content_type="application/json")

    # --- the charge's life ---------------------------------------------------------------

    def _open(self, wanted: ChargeRequest) -> SimulatedCharge:
        reference = f"{self.operator_id}-{next(self._references):06d}"
        charge = SimulatedCharge(wanted, reference)
        self.charges[wanted.charge_id] = charge
        phone = self.phones.get(wanted.msisdn)
        log.info("sim_charge", charge_id=wanted.charge_id, msisdn=mask_msisdn(wanted.msisdn))
        if phone is None or phone.operator_id != self.operator_id:
            charge.status, charge.reason = WireStatus.FAILED, Reason.UNKNOWN_SUBSCRIBER.value
        elif wanted.confirmed_by_subscriber:
            self._decide(charge, phone, CONFIRM_REPLY)
        else:
            phone.receive(self.service_number, f"{wanted.text}\n{CONFIRMATION_PROMPT}")
            reply = phone.reply_to_confirmation()
            if reply is not None:
                self._spawn(self._answer_later(charge, phone, reply))
        self._observe(charge)
        return charge

    async def _answer_later(self, charge: SimulatedCharge, phone: VirtualPhone, reply: str) -> None:
        await self._sleep(phone.answer_delay)
        if self._decide(charge, phone, reply):
            await self._deliver_callback(charge)

    def _decide(self, charge: SimulatedCharge, phone: VirtualPhone, reply: str) -> bool:
        """Apply the subscriber's answer once; False when the charge was decided before."""
        if charge.status is not WireStatus.PENDING:
            return False
        if reply == DECLINE_REPLY:
            charge.status, charge.reason = WireStatus.DECLINED, Reason.DECLINED.value
        else:
            try:
                phone.debit(charge.request.amount, self.must_remain)
            except (InsufficientFundsError, BarredPhoneError) as error:
                charge.status, charge.reason = WireStatus.FAILED, error.reason
            else:
                charge.status = WireStatus.CONFIRMED
        self._observe(charge)
        return True

    def _observe(self, charge: SimulatedCharge) -> None:
        if self.on_charge is not None:
            self.on_charge(self.operator_id, charge)

    def _oldest_pending(self, msisdn: str) -> SimulatedCharge | None:
        return next(iter(self.pending_for(msisdn)), None)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- callbacks -----------------------------------------------------------------------

    async def _deliver_callback(self, charge: SimulatedCharge) -> None:
        """POST the result, retrying (each time freshly signed) while the gateway is
        unreachable or answers 5xx / 408 / 425 / 429."""
        for attempt in range(1, self._callback_attempts + 1):
            sent = await self._post_callback(charge)
            self.callbacks.append(sent)
            if not _worth_retrying(sent.status):
                return
            if attempt < self._callback_attempts:
                await self._sleep(self._callback_retry_seconds * attempt)

    async def _post_callback(self, charge: SimulatedCharge) -> SentCallback:
        if self._session is None:
            raise RuntimeError("the operator simulator is not started")
        url = charge.request.callback_url
        timestamp = unix_timestamp(self._clock())
        body = callback_body(charge.view(), nonce=secrets.token_hex(16), timestamp=timestamp)
        headers = signature_headers(self._secret, timestamp, body)
        headers["Content-Type"] = "application/json"
        try:
            async with self._session.post(
                url, data=body, headers=headers, timeout=_CALLBACK_TIMEOUT
            ) as response:
                detail = (await response.read()).decode("utf-8", "replace")
                return SentCallback(url, body, response.status, detail)
        except _NETWORK_ERRORS as error:
            return SentCallback(url, body, None, type(error).__name__)


def _worth_retrying(status: int | None) -> bool:
    return status is None or status >= 500 or status in _RETRY_CALLBACK_STATUSES


def _view_response(charge: SimulatedCharge) -> web.Response:
    status = 202 if charge.status is WireStatus.PENDING else 200
    return web.Response(
        status=status, body=charge.view().to_json(), content_type="application/json"
    )


def _error(status: int, error: str, detail: str) -> web.Response:
    return web.Response(
        status=status, body=error_body(error, detail), content_type="application/json"
    )
