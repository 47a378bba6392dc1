"""`HttpChargingClient`: one operator's charging API over HTTP (docs/operator-charging.md).

It never raises for what the network or the operator does: a connection refused, a
timeout, a 5xx or an unreadable answer is `ChargeOutcome.UNKNOWN`, which the service
meets by asking again later (the charge id makes the request idempotent).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import aiohttp
import structlog

from smsgw.charging.answers import answer_to_poll, answer_to_request
from smsgw.charging.protocol import CHARGES_PATH, ChargeRequest, charge_path, status_signed_body
from smsgw.charging.signing import secret_bytes, signature_headers, unix_timestamp
from smsgw.domain.charges import Charge
from smsgw.observability import mask_msisdn
from smsgw.service.ports import ChargeAnswer, ChargeOutcome

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]
_NETWORK_ERRORS = (aiohttp.ClientError, TimeoutError, OSError)


def utc_now() -> datetime:
    return datetime.now(UTC)


class HttpChargingClient:
    """Implements `smsgw.service.ports.ChargingApi` for one operator.

    `base_url` is the operator's API root (`{base}/charges` is appended); `secret` the
    shared secret both sides sign with; `timeout` the seconds one HTTP exchange may take.
    The session is the caller's (one per process, closed by the caller)."""

    def __init__(
        self,
        base_url: str,
        secret: bytes | str,
        session: aiohttp.ClientSession,
        timeout: float,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._secret = secret_bytes(secret)
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._clock = clock

    async def request_charge(
        self, charge: Charge, text: str, callback_url: str, confirmed_by_subscriber: bool
    ) -> ChargeAnswer:
        body = ChargeRequest(
            charge_id=charge.id,
            msisdn=charge.phone,
            amount=charge.amount,
            text=text,
            callback_url=callback_url,
            confirmed_by_subscriber=confirmed_by_subscriber,
        ).to_json()
        headers = self._signed(body)
        headers["Content-Type"] = "application/json"
        url = self._base_url + CHARGES_PATH
        return await self._exchange("POST", url, charge, body, headers, answer_to_request)

    async def charge_status(self, charge: Charge) -> ChargeAnswer:
        headers = self._signed(status_signed_body(charge.id))
        url = self._base_url + charge_path(charge.id)
        return await self._exchange("GET", url, charge, None, headers, answer_to_poll)

    def _signed(self, signed_body: bytes) -> dict[str, str]:
        timestamp = unix_timestamp(self._clock())
        return signature_headers(self._secret, timestamp, signed_body)

    async def _exchange(
        self,
        method: str,
        url: str,
        charge: Charge,
        body: bytes | None,
        headers: dict[str, str],
        interpret: Callable[[str, int, bytes], ChargeAnswer],
    ) -> ChargeAnswer:
        try:
            async with self._session.request(
                method, url, data=body, headers=headers, timeout=self._timeout
            ) as response:
                answer = interpret(charge.id, response.status, await response.read())
        except _NETWORK_ERRORS as error:
            answer = ChargeAnswer(ChargeOutcome.UNKNOWN, detail=_network_detail(error))
        self._log(method, charge, answer)
        return answer

    def _log(self, method: str, charge: Charge, answer: ChargeAnswer) -> None:
        event = "charge_request" if method == "POST" else "charge_poll"
        level = log.warning if answer.outcome is ChargeOutcome.UNKNOWN else log.info
        level(
            event,
            charge_id=charge.id,
            operator=charge.operator_id,
            msisdn=mask_msisdn(charge.phone),
            amount=charge.amount.minor,
            currency=charge.amount.currency,
            outcome=answer.outcome.value,
            detail=answer.detail,
        )


def _network_detail(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "network: timed out"
    return f"network: {type(error).__name__}"
