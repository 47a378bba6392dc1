"""The driver API's sign-in, account, vehicles and zones (docs/driver-api.md).

    POST   /v1/driver/codes               {"phone"} → 202: a code is texted to the phone
    POST   /v1/driver/sessions            {"phone", "code"} → 201: token, csrf, cookie
    DELETE /v1/driver/sessions/current    → 204: the token is dead at once
    GET    /v1/driver/me                  → phone (masked), operator, language, csrf
    GET    /v1/driver/account             → balances, running sessions, pending charge
    GET    /v1/driver/history             → the phone's history, newest first
    GET    /v1/driver/vehicles            → saved plates
    POST   /v1/driver/vehicles            {"plate"} → 201, checked as an SMS plate
    DELETE /v1/driver/vehicles/{plate}    → 204
    GET    /v1/driver/zones               open: the zones as a GeoJSON FeatureCollection

Only routed when `[driver] enabled = true`: otherwise each of these paths is a 404.
A caller proves who it is with `Authorization: Bearer <token>`, or with the cookie
`smsgw_driver` plus `X-CSRF-Token: <csrf>` on a state-changing method; the parking and
top-up routes (http_driver_actions) use `authenticated_phone` for the same check.
`Accept-Language` (ru, kk, en) picks the language of every `message` and money `text`.
Nothing here logs a phone number or a code.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import orjson
from aiohttp import web

from smsgw.domain.operators import international_digits
from smsgw.language import Language
from smsgw.observability import mask_msisdn
from smsgw.service.driver_account import DriverAccount, VehicleRefused
from smsgw.service.driver_actions import DriverActions
from smsgw.service.driver_auth import (
    CodeSent,
    DriverAuth,
    DriverIdentity,
    NoOperator,
    SignedIn,
    TooManyCodes,
)
from smsgw.transport.http_common import (
    BAD_CODE,
    BAD_PLATE,
    CSRF,
    DRIVER_UNAUTHORIZED,
    INVALID_FIELD,
    INVALID_JSON,
    MISSING_FIELD,
    NOT_FOUND,
    TOO_MANY_VEHICLES,
    UNKNOWN_OPERATOR,
    HttpError,
    Refusal,
    json_response,
    normalise_msisdn,
    read_limited,
    too_many_codes,
)
from smsgw.transport.http_ops import BEARER, history_limit

COOKIE = "smsgw_driver"
CSRF_HEADER = "X-CSRF-Token"
# every driver request body is a small JSON object; anything bigger is refused (413)
MAX_BODY_BYTES = 4 * 1024
MAX_CODE_CHARS = 16
MAX_PLATE_CHARS = 32


@dataclass(frozen=True, slots=True)
class DriverApi:
    """What the driver routes call: sign-in and the account (smsgw/service)."""

    auth: DriverAuth
    account: DriverAccount
    default_language: Language = Language.RU
    # quote, pay, extend, stop, top-up (transport/http_driver_actions.py); None in the
    # tests of sign-in and the account alone
    actions: DriverActions | None = None


DRIVER_API: web.AppKey[DriverApi] = web.AppKey("smsgw_driver_api", DriverApi)


# --- who is calling ------------------------------------------------------------------


async def authenticated_phone(request: web.Request, *, state_changing: bool) -> str:
    """The msisdn of the signed-in driver making `request`.

    The token comes from `Authorization: Bearer <token>` or, failing that, from the
    `smsgw_driver` cookie; with the cookie, a state-changing request (`state_changing`:
    POST, PUT, DELETE) must also carry the session's CSRF value in `X-CSRF-Token`.
    Raises HttpError: 401 `unauthorized` for a missing, malformed, tampered, expired or
    signed-out token; 403 `csrf` for a cookie without the right CSRF header. Call it
    first in every driver route that needs a sign-in (the routes exist only while the
    channel is enabled, so DRIVER_API is on the application).
    """
    identity = await authenticated_identity(request, state_changing=state_changing)
    return identity.msisdn


async def authenticated_identity(request: web.Request, *, state_changing: bool) -> DriverIdentity:
    """As `authenticated_phone`, with the session id beside the msisdn."""
    api = request.config_dict[DRIVER_API]
    language = request_language(request, api.default_language)
    header = request.headers.get("Authorization")
    by_cookie = header is None
    token = request.cookies.get(COOKIE, "") if by_cookie else _bearer_token(header)
    identity = await api.auth.identify(token) if token else None
    if identity is None:
        raise _refused(DRIVER_UNAUTHORIZED, "unauthorized", language)
    if by_cookie and state_changing:
        offered = request.headers.get(CSRF_HEADER, "")
        if not api.auth.signer.csrf_matches(identity.session_id, offered):
            raise _refused(CSRF, "csrf", language)
    return identity


def _bearer_token(header: str | None) -> str:
    """The token of `Bearer <token>`; empty for any other scheme (then 401)."""
    if not header or not header.lower().startswith(BEARER):
        return ""
    return header[len(BEARER) :].strip()


def request_language(request: web.Request, default: Language = Language.RU) -> Language:
    """The first of ru, kk, en that `Accept-Language` prefers (by q), else `default`."""
    best: tuple[float, Language] | None = None
    for index, item in enumerate(request.headers.get("Accept-Language", "").split(",")[:20]):
        tag, _, params = item.strip().partition(";")
        language = _known_language(tag)
        if language is None:
            continue
        quality = _quality(params) - index * 1e-6  # equal q: the earlier wins
        if quality > 0 and (best is None or quality > best[0]):
            best = (quality, language)
    return default if best is None else best[1]


def _known_language(tag: str) -> Language | None:
    primary = tag.strip().lower().split("-")[0]
    try:
        return Language(primary)
    except ValueError:
        return None


def _quality(params: str) -> float:
    name, _, value = params.strip().partition("=")
    if name.strip().lower() != "q":
        return 1.0
    try:
        return min(1.0, max(0.0, float(value)))
    except ValueError:
        return 0.0


# --- messages in the request's language -----------------------------------------------

_MESSAGES: Mapping[str, Mapping[Language, str]] = {
    "unauthorized": {
        Language.RU: "Войдите: нужен действующий токен",
        Language.KK: "Кіріңіз: жарамды токен қажет",
        Language.EN: "Sign in: a valid token is required",
    },
    "csrf": {
        Language.RU: "Нужен заголовок X-CSRF-Token этого входа",
        Language.KK: "Осы кірудің X-CSRF-Token тақырыбы қажет",
        Language.EN: "This sign-in's X-CSRF-Token header is required",
    },
    "bad_code": {
        Language.RU: "Код неверный или устарел. Запросите новый",
        Language.KK: "Код қате немесе ескірген. Жаңасын сұраңыз",
        Language.EN: "The code is wrong or no longer valid. Ask for a new one",
    },
    "too_many_codes": {
        Language.RU: "Слишком много кодов. Повторите позже",
        Language.KK: "Кодтар тым көп. Кейінірек қайталаңыз",
        Language.EN: "Too many codes. Try again later",
    },
    "unknown_operator": {
        Language.RU: "Оператор этого номера не подключён",
        Language.KK: "Бұл нөмірдің операторы қосылмаған",
        Language.EN: "This number's operator is not connected",
    },
    "too_many_vehicles": {
        Language.RU: "Сохранено максимум номеров: {limit}",
        Language.KK: "Сақталған нөмірлер шегі: {limit}",
        Language.EN: "At most {limit} plates can be saved",
    },
    "not_found": {
        Language.RU: "Не найдено",
        Language.KK: "Табылмады",
        Language.EN: "Not found",
    },
}


def driver_message(code: str, language: Language, **facts: object) -> str:
    return _MESSAGES[code][language].format(**facts)


def _refused(refusal: Refusal, code: str, language: Language, **facts: object) -> HttpError:
    return HttpError(refusal, driver_message(code, language, **facts))


# --- request bodies -------------------------------------------------------------------


async def json_body(request: web.Request) -> Mapping[str, object]:
    """The body as a JSON object: 413 past MAX_BODY_BYTES, 400 `invalid_json` else."""
    raw = await read_limited(request, MAX_BODY_BYTES)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise HttpError(INVALID_JSON, "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise HttpError(INVALID_JSON, "the body must be a JSON object")
    return body


def text_field(body: Mapping[str, object], name: str, max_chars: int) -> str:
    value = body.get(name)
    if value is None:
        raise HttpError(MISSING_FIELD, f"{name} is required")
    if not isinstance(value, str) or not value.strip() or len(value) > max_chars:
        raise HttpError(INVALID_FIELD, f"{name} must be a string of 1 to {max_chars} characters")
    return value.strip()


def phone_field(body: Mapping[str, object]) -> str:
    """The `phone` field in international digits (`+7 916…`, `8916…` → `7916…`)."""
    return international_digits(normalise_msisdn(text_field(body, "phone", 32), "phone"))


def _iso(moment: datetime) -> str:
    return moment.isoformat()


# --- the routes -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DriverEndpoints:
    api: DriverApi

    def add_routes(self, app: web.Application) -> None:
        app[DRIVER_API] = self.api
        app.router.add_post("/v1/driver/codes", self.request_code)
        app.router.add_post("/v1/driver/sessions", self.sign_in)
        app.router.add_delete("/v1/driver/sessions/current", self.sign_out)
        app.router.add_get("/v1/driver/me", self.me)
        app.router.add_get("/v1/driver/account", self.account)
        app.router.add_get("/v1/driver/history", self.history)
        app.router.add_get("/v1/driver/vehicles", self.vehicles)
        app.router.add_post("/v1/driver/vehicles", self.add_vehicle)
        app.router.add_delete("/v1/driver/vehicles/{plate}", self.remove_vehicle)
        app.router.add_get("/v1/driver/zones", self.zones)

    def _language(self, request: web.Request) -> Language:
        return request_language(request, self.api.default_language)

    async def request_code(self, request: web.Request) -> web.Response:
        language = self._language(request)
        msisdn = phone_field(await json_body(request))
        outcome = await self.api.auth.request_code(msisdn, request.remote or "", language)
        if isinstance(outcome, TooManyCodes):
            refusal = too_many_codes(outcome.retry_after)
            raise _refused(refusal, "too_many_codes", language)
        if isinstance(outcome, NoOperator):
            raise _refused(UNKNOWN_OPERATOR, "unknown_operator", language)
        assert isinstance(outcome, CodeSent)
        body = {"sent": True, "expires_in": outcome.expires_in, "resend_in": outcome.resend_in}
        return json_response(body, status=202)

    async def sign_in(self, request: web.Request) -> web.Response:
        language = self._language(request)
        body = await json_body(request)
        msisdn = phone_field(body)
        code = text_field(body, "code", MAX_CODE_CHARS)
        signed = await self.api.auth.sign_in(msisdn, code)
        if signed is None:
            raise _refused(BAD_CODE, "bad_code", language)
        response = json_response(_signed_in_body(signed), status=201)
        _set_cookie(request, response, signed)
        return response

    async def sign_out(self, request: web.Request) -> web.Response:
        identity = await authenticated_identity(request, state_changing=True)
        await self.api.auth.sign_out(identity.session_id)
        response = web.Response(status=204)
        response.del_cookie(COOKIE, path="/")
        return response

    async def me(self, request: web.Request) -> web.Response:
        identity = await authenticated_identity(request, state_changing=False)
        operator_id, language = await self.api.account.profile(identity.msisdn)
        return json_response(
            {
                "phone": mask_msisdn(identity.msisdn),
                "operator": operator_id,
                "language": language.value,
                "csrf": self.api.auth.signer.csrf(identity.session_id),
            }
        )

    async def account(self, request: web.Request) -> web.Response:
        msisdn = await authenticated_phone(request, state_changing=False)
        return json_response(await self.api.account.account(msisdn, self._language(request)))

    async def history(self, request: web.Request) -> web.Response:
        msisdn = await authenticated_phone(request, state_changing=False)
        limit = history_limit(request.query.get("limit"))
        before = request.query.get("before") or None
        try:
            page = await self.api.account.history(msisdn, self._language(request), limit, before)
        except ValueError as error:  # a cursor this gateway did not hand out
            raise HttpError(INVALID_FIELD, str(error)) from None
        return json_response(page)

    async def vehicles(self, request: web.Request) -> web.Response:
        msisdn = await authenticated_phone(request, state_changing=False)
        plates = await self.api.account.vehicles(msisdn)
        return json_response({"vehicles": [{"plate": plate} for plate in plates]})

    async def add_vehicle(self, request: web.Request) -> web.Response:
        msisdn = await authenticated_phone(request, state_changing=True)
        language = self._language(request)
        raw = text_field(await json_body(request), "plate", MAX_PLATE_CHARS)
        saved = await self.api.account.add_vehicle(msisdn, raw, language)
        if isinstance(saved, VehicleRefused):
            if saved.reason == "bad_plate":
                raise HttpError(BAD_PLATE, saved.message)
            raise _refused(TOO_MANY_VEHICLES, "too_many_vehicles", language, limit=saved.message)
        return json_response({"plate": saved}, status=201)

    async def remove_vehicle(self, request: web.Request) -> web.Response:
        msisdn = await authenticated_phone(request, state_changing=True)
        raw = request.match_info["plate"][:MAX_PLATE_CHARS]
        if not await self.api.account.remove_vehicle(msisdn, raw):
            raise _refused(NOT_FOUND, "not_found", self._language(request))
        return web.Response(status=204)

    async def zones(self, request: web.Request) -> web.Response:
        return json_response(self.api.account.zones(self._language(request)))


def _signed_in_body(signed: SignedIn) -> dict[str, object]:
    return {
        "token": signed.token,
        "expires_at": _iso(signed.expires_at),
        "phone": mask_msisdn(signed.msisdn),
        "csrf": signed.csrf,
    }


def _set_cookie(request: web.Request, response: web.Response, signed: SignedIn) -> None:
    max_age = max(0, int((signed.expires_at - signed.created_at).total_seconds()))
    response.set_cookie(
        COOKIE,
        signed.token,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=not _plain_http_on_loopback(request),
    )


def _plain_http_on_loopback(request: web.Request) -> bool:
    """A browser on this machine talking plain HTTP (the demo) gets a cookie without
    Secure; any other client is assumed to come through TLS (a proxy in front)."""
    if request.scheme != "http" or not request.remote:
        return False
    try:
        return ipaddress.ip_address(request.remote.split("%", 1)[0]).is_loopback
    except ValueError:
        return False
