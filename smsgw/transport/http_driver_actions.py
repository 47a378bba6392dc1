"""The driver API's parking and top-up endpoints (docs/driver-api-parking.md): JSON over
HTTP for a signed-in phone, run by `service/driver_actions.py`.

    POST   /v1/driver/quotes                              {"zone", "plate", "hours"}
    POST   /v1/driver/parkings                            {"zone", "plate", "hours"} → 201
    POST   /v1/driver/parkings/{session_id}/extensions    {"hours"}
    DELETE /v1/driver/parkings/{session_id}
    GET    /v1/driver/top-ups/options
    POST   /v1/driver/top-ups                             {"amount": {"minor", "currency"}} → 202
    GET    /v1/driver/top-ups/{charge_id}

Who is asking is the authenticator's business (sign-in, tokens, CSRF for the cabinet's
cookie): every handler first asks it for the phone, saying whether the request changes
state, and it raises the 401/403 `HttpError` itself. Refusals the SMS channel would give
answer 409 `refused` with the reply's key and text; malformed bodies 422; someone
else's session or charge 404, as an unknown one.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Final, TypeVar

import orjson
from aiohttp import web

from smsgw.domain.money import MINOR_UNIT_DIGITS, Money
from smsgw.language import Language
from smsgw.replies.formatting import format_money
from smsgw.service.driver_actions import (
    ActionRefusedError,
    BadPlateError,
    BadRequestError,
    DriverActions,
    NotFoundError,
    ParkingOutcome,
    SessionView,
)
from smsgw.transport.http_common import (
    UNSUPPORTED_MEDIA_TYPE,
    HttpError,
    Refusal,
    json_response,
    read_limited,
)

T = TypeVar("T")

# (request, state_changing) -> the signed-in phone; raises the 401/403 HttpError itself
Authenticator = Callable[[web.Request, bool], Awaitable[str]]

PREFIX = "/v1/driver"
# a parking or top-up request is a few short fields: anything bigger is not one
MAX_BODY_BYTES = 4096
# the longest value a field may have; longer ones are refused before they are looked at
_MAX_TEXT = {"zone": 16, "plate": 32}
# a top-up in minor units: well above any operator's limit, well below any overflow
_MAX_MINOR = 10**12
# session and charge ids are made by the service: short, letters, digits, _ and -
_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")

INVALID_BODY: Final = Refusal(422, "invalid_body")
BAD_PLATE: Final = Refusal(422, "bad_plate")
NOT_FOUND: Final = Refusal(404, "not_found")
# what SMS would refuse (a closed zone, a busy plate, a limit): the reply's key and text
REFUSED: Final = Refusal(409, "refused")
# a BadRequestError (hours out of range, another currency) is a 422 with its own code
BAD_REQUEST_STATUS: Final = 422


class DriverActionRoutes:
    """The routes of the driver API's "Parking" and "Top-up" sections."""

    def __init__(
        self,
        actions: DriverActions,
        authenticate: Authenticator,
        *,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self._actions = actions
        self._authenticate = authenticate
        self._max_body_bytes = max_body_bytes

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post(f"{PREFIX}/quotes", self.quote)
        app.router.add_post(f"{PREFIX}/parkings", self.pay)
        app.router.add_post(f"{PREFIX}/parkings/{{session_id}}/extensions", self.extend)
        app.router.add_delete(f"{PREFIX}/parkings/{{session_id}}", self.stop)
        # before the {charge_id} route, which would take "options" for an id
        app.router.add_get(f"{PREFIX}/top-ups/options", self.top_up_options)
        app.router.add_post(f"{PREFIX}/top-ups", self.top_up)
        app.router.add_get(f"{PREFIX}/top-ups/{{charge_id}}", self.top_up_state)

    # --- parking -------------------------------------------------------------------------

    async def quote(self, request: web.Request) -> web.Response:
        # a quote changes nothing, but it is a POST: the CSRF rule of POSTs applies
        phone = await self._authenticate(request, True)
        body = await self._body(request)
        language = request_language(request)
        zone, plate, hours = _text(body, "zone"), _text(body, "plate"), _hours(body)
        quote = await _answered(self._actions.quote(phone, zone, plate, hours, language))
        return json_response(
            {
                "price": money_json(quote.price, language),
                "end": quote.end,
                "balance": money_json(quote.balance, language),
                "to_charge": money_json(quote.to_charge, language),
            }
        )

    async def pay(self, request: web.Request) -> web.Response:
        phone = await self._authenticate(request, True)
        body = await self._body(request)
        language = request_language(request)
        zone, plate, hours = _text(body, "zone"), _text(body, "plate"), _hours(body)
        paid = await _answered(self._actions.pay(phone, zone, plate, hours, language))
        return json_response(_parking_json(paid, language), status=201)

    async def extend(self, request: web.Request) -> web.Response:
        phone = await self._authenticate(request, True)
        session_id = _path_id(request, "session_id")
        body = await self._body(request)
        language = request_language(request)
        hours = _hours(body)
        extended = await _answered(self._actions.extend(phone, session_id, hours, language))
        return json_response(_parking_json(extended, language))

    async def stop(self, request: web.Request) -> web.Response:
        phone = await self._authenticate(request, True)
        session_id = _path_id(request, "session_id")
        language = request_language(request)
        stopped = await _answered(self._actions.stop(phone, session_id, language))
        return json_response(
            {
                "refund": money_json(stopped.refund, language),
                "balance": money_json(stopped.balance, language),
                "message": stopped.message,
                "session": _session_json(stopped.session, language),
            }
        )

    # --- top-up --------------------------------------------------------------------------

    async def top_up_options(self, request: web.Request) -> web.Response:
        phone = await self._authenticate(request, False)
        language = request_language(request)
        methods = await self._actions.top_up_methods(phone)
        return json_response(
            {
                "methods": [
                    {
                        "kind": method.kind,
                        "operator": method.operator,
                        "min": money_json(method.min, language),
                        "max": None if method.max is None else money_json(method.max, language),
                    }
                    for method in methods
                ]
            }
        )

    async def top_up(self, request: web.Request) -> web.Response:
        phone = await self._authenticate(request, True)
        body = await self._body(request)
        language = request_language(request)
        amount = _amount(body)
        started = await _answered(self._actions.top_up(phone, amount, language))
        return json_response(
            {"charge_id": started.charge_id, "state": started.state, "message": started.message},
            status=202,
        )

    async def top_up_state(self, request: web.Request) -> web.Response:
        phone = await self._authenticate(request, False)
        charge_id = _path_id(request, "charge_id")
        language = request_language(request)
        view = await _answered(self._actions.charge(phone, charge_id))
        return json_response({"state": view.state, "amount": money_json(view.amount, language)})

    # --- requests ------------------------------------------------------------------------

    async def _body(self, request: web.Request) -> Mapping[str, object]:
        """The JSON object the request carries, or a 4xx HttpError."""
        if request.content_type != "application/json":
            raise HttpError(UNSUPPORTED_MEDIA_TYPE, "the body must be application/json")
        raw = await read_limited(request, self._max_body_bytes)
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise HttpError(INVALID_BODY, "the body is not JSON") from None
        if not isinstance(body, dict):
            raise HttpError(INVALID_BODY, "the body must be a JSON object")
        return body


class RefusedHttpError(HttpError):
    """A refusal that also names the SMS reply it would get: {"error", "message",
    "reply_key"}, the message being that reply's text."""

    def __init__(self, refusal: Refusal, error: ActionRefusedError) -> None:
        super().__init__(refusal, error.message)
        self.reply_key = error.reply_key

    def answer(self) -> web.Response:
        body = {"error": self.refusal.code, "message": str(self), "reply_key": self.reply_key}
        return json_response(body, status=self.refusal.status, headers=self.refusal.headers)


async def _answered(call: Awaitable[T]) -> T:
    """The service's answer, its refusals raised as the HTTP errors that tell them."""
    try:
        return await call
    except BadPlateError as error:
        raise RefusedHttpError(BAD_PLATE, error) from error
    except ActionRefusedError as error:
        raise RefusedHttpError(REFUSED, error) from error
    except NotFoundError as error:
        raise HttpError(NOT_FOUND, "no such session or charge for this phone") from error
    except BadRequestError as error:
        raise HttpError(Refusal(BAD_REQUEST_STATUS, error.code), str(error)) from error


def request_language(request: web.Request) -> Language:
    """The first of ru, kk, en the Accept-Language header names; ru without one."""
    header = request.headers.get("Accept-Language", "")
    for item in header.split(",")[:16]:
        tag = item.split(";", 1)[0].strip().lower()
        primary = tag.split("-", 1)[0]
        for language in Language:
            if primary == language.value:
                return language
    return Language.RU


def money_json(amount: Money, language: Language) -> dict[str, object]:
    """Money as the driver API shows it: minor units, currency and the SMS replies' text."""
    return {
        "minor": amount.minor,
        "currency": amount.currency,
        "text": format_money(amount, language),
    }


def _session_json(session: SessionView | None, language: Language) -> dict[str, object] | None:
    if session is None:
        return None
    return {
        "id": session.id,
        "zone": session.zone,
        "plate": session.plate,
        "start": session.start,
        "end": session.end,
        "paid": money_json(session.paid, language),
        "state": session.state,
    }


def _parking_json(outcome: ParkingOutcome, language: Language) -> dict[str, object]:
    body: dict[str, object] = {
        "outcome": outcome.outcome,
        "session": _session_json(outcome.session, language),
        "message": outcome.message,
        "balance": money_json(outcome.balance, language),
    }
    if outcome.charge_id is not None:
        body["charge_id"] = outcome.charge_id  # GET /v1/driver/top-ups/{charge_id}
    return body


def _text(body: Mapping[str, object], field: str) -> str:
    value = body.get(field)
    if isinstance(value, int) and not isinstance(value, bool) and field == "zone":
        value = str(value)  # a zone number sent as a number
    if not isinstance(value, str) or not value.strip():
        raise HttpError(INVALID_BODY, f"{field}: a non-empty string is required")
    if len(value) > _MAX_TEXT[field]:
        raise HttpError(INVALID_BODY, f"{field}: at most {_MAX_TEXT[field]} characters")
    return value.strip()


def _hours(body: Mapping[str, object]) -> int:
    value = body.get("hours")
    if isinstance(value, bool) or not isinstance(value, int):
        raise HttpError(INVALID_BODY, "hours: a whole number is required")
    return value


def _amount(body: Mapping[str, object]) -> Money:
    value = body.get("amount")
    if not isinstance(value, dict):
        raise HttpError(INVALID_BODY, 'amount: {"minor": …, "currency": …} is required')
    minor, currency = value.get("minor"), value.get("currency")
    if isinstance(minor, bool) or not isinstance(minor, int) or not 0 < minor <= _MAX_MINOR:
        raise HttpError(INVALID_BODY, "amount.minor: a positive whole number of minor units")
    if not isinstance(currency, str) or currency not in MINOR_UNIT_DIGITS:
        raise HttpError(INVALID_BODY, f"amount.currency: one of {sorted(MINOR_UNIT_DIGITS)}")
    return Money(minor, currency)


def _path_id(request: web.Request, name: str) -> str:
    value = request.match_info[name]
    if not _ID.fullmatch(value):
        raise HttpError(NOT_FOUND, "no such session or charge for this phone")
    return value
