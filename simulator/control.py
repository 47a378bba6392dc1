"""The simulator's HTTP control API: JSON over aiohttp, for QA, the web phone and scripts.

`create_control_app(world)` serves a `SimulatedWorld`:

    GET    /api/state                    short number, operators, links, phones, faults
    POST   /api/phones                   {"msisdn", "operator"?, "balance_minor"?,
                                          "policy"?, "answer_delay"?} → the phone (201 when
                                          created, 200 when it existed with that operator)
    GET    /api/phones/{msisdn}          the phone
    POST   /api/phones/{msisdn}/texts    {"text"} → {"status", "status_name"}: the phone
                                          texts the short number (deliver_sm's answer)
    GET    /api/phones/{msisdn}/inbox    [{"sender", "text", "at"}] in arrival order:
                                          gateway replies and operator confirmation requests
    POST   /api/phones/{msisdn}/answer   {"reply": "1"|"0"} → the charge answered by hand
    PUT    /api/phones/{msisdn}/policy   {"policy": "confirm|decline|ignore", "delay"?: s}
    GET    /api/charges                  every operator's charges
    GET    /api/faults                   the current faults
    PUT    /api/faults                   {...} → set exactly these faults (others off)
    PATCH  /api/faults                   {...} → change only these
    DELETE /api/faults                   → all faults off
    POST   /api/links/drop               {"operator"?} → {"dropped": n}: close binds now
    GET    /api/events                   Server-Sent Events, see below

Errors are JSON `{"error": code, "message": text}` with a 4xx status (unknown routes
too). Events are unnamed SSE messages (`id:` and `data:` lines, so EventSource's
`onmessage` gets them all) whose data is a JSON object with a "type": "sms" (msisdn,
sender, text, at), "mo" (msisdn, text, status, at), "charge" (id, operator, msisdn,
amount_minor, currency, status, reason, reference), "link" (system_id, operator, bind,
state: bound|unbound|refused, status), "faults" (faults), "phone" (the phone). A
comment line keeps an idle stream open; a subscriber that falls far behind is cut off
and reconnects (EventSource does so by itself), then reads /api/state afresh.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

import orjson
from aiohttp import web

from simulator.faults import Faults, FaultsError
from simulator.operator import NoPendingConfirmationError
from simulator.phones import ConfirmationPolicy, UnknownPhoneError, VirtualPhone
from simulator.smsc import NoGatewayBoundError
from simulator.world import (
    SimulatedWorld,
    Subscription,
    WorldEvent,
    charge_json,
    link_json,
    phone_json,
)
from smsgw.smpp.constants import CommandStatus
from smsgw.transport.http_common import HttpError, Refusal
from smsgw.transport.smpp_protocol import LinkError

WORLD: Final = web.AppKey("world", SimulatedWorld)
STREAMS: Final = web.AppKey("streams", set[Subscription])
KEEPALIVE: Final = web.AppKey("keepalive", float)
DEFAULT_KEEPALIVE_SECONDS = 15.0
MAX_TEXT_CHARS = 1600
MAX_ANSWER_DELAY = 24 * 3600.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# the refusals the API raises (as smsgw's HttpError), one row each: status and error code
BAD_REQUEST: Final = Refusal(400, "bad_request")
UNKNOWN_PHONE: Final = Refusal(404, "unknown_phone")
PHONE_EXISTS: Final = Refusal(409, "phone_exists")
NO_GATEWAY_BOUND: Final = Refusal(409, "no_gateway_bound")
NO_PENDING_CONFIRMATION: Final = Refusal(409, "no_pending_confirmation")
LINK_FAILED: Final = Refusal(502, "link_error")


def create_control_app(
    world: SimulatedWorld, *, keepalive: float = DEFAULT_KEEPALIVE_SECONDS
) -> web.Application:
    app = web.Application(middlewares=[_json_errors])
    app[WORLD] = world
    app[STREAMS] = set()
    app[KEEPALIVE] = keepalive
    router = app.router
    router.add_get("/api/state", get_state)
    router.add_post("/api/phones", post_phone)
    router.add_get("/api/phones/{msisdn}", get_phone)
    router.add_post("/api/phones/{msisdn}/texts", post_text)
    router.add_get("/api/phones/{msisdn}/inbox", get_inbox)
    router.add_post("/api/phones/{msisdn}/answer", post_answer)
    router.add_put("/api/phones/{msisdn}/policy", put_policy)
    router.add_get("/api/charges", get_charges)
    router.add_get("/api/faults", get_faults)
    router.add_put("/api/faults", put_faults)
    router.add_patch("/api/faults", patch_faults)
    router.add_delete("/api/faults", delete_faults)
    router.add_post("/api/links/drop", post_drop_links)
    router.add_get("/api/events", get_events)
    app.on_shutdown.append(_end_streams)
    return app


# --- handlers ----------------------------------------------------------------------------


async def get_state(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    return _json(
        {
            "short_number": world.short_number,
            "operators": list(world.operator_ids),
            "links": [link_json(link) for link in world.smsc.bound_links()],
            "phones": [phone_json(phone) for phone in world.phones],
            "faults": world.faults.to_dict(),
        }
    )


async def post_phone(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    body = await _body(request)
    msisdn = _string(body, "msisdn")
    operator = _optional_string(body, "operator")
    existing = world.phones.get(msisdn)
    if existing is not None:
        if operator is not None and operator != existing.operator_id:
            raise HttpError(
                PHONE_EXISTS, f"{msisdn} exists already with operator {existing.operator_id}"
            )
        return _json(phone_json(existing))
    balance = body.get("balance_minor", 1000_00)
    if isinstance(balance, bool) or not isinstance(balance, int) or balance < 0:
        raise HttpError(BAD_REQUEST, "balance_minor: must be a whole number ≥ 0")
    policy = _policy(body.get("policy", "confirm"))
    delay = _delay(body.get("answer_delay", 0.0))
    try:
        phone = world.phone(msisdn, operator, balance_minor=balance, policy=policy)
    except ValueError as error:
        raise HttpError(BAD_REQUEST, str(error)) from None
    if delay:
        world.set_policy(msisdn, policy, delay)
    return _json(phone_json(phone), status=201)


async def get_phone(request: web.Request) -> web.Response:
    return _json(phone_json(_phone(request)))


async def post_text(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    phone = _phone(request)
    text = _string(await _body(request), "text", allow_empty=True)
    if len(text) > MAX_TEXT_CHARS:
        raise HttpError(BAD_REQUEST, f"text: at most {MAX_TEXT_CHARS} characters")
    try:
        status = await world.text(phone.msisdn, text)
    except NoGatewayBoundError as error:
        raise HttpError(NO_GATEWAY_BOUND, str(error)) from None
    except LinkError as error:
        raise HttpError(LINK_FAILED, f"the deliver_sm got no answer: {error}") from None
    return _json({"status": status, "status_name": _status_name(status)})


async def get_inbox(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    phone = _phone(request)
    return _json([entry.to_json() for entry in world.inbox(phone.msisdn)])


async def post_answer(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    phone = _phone(request)
    reply = _string(await _body(request), "reply")
    if reply not in ("1", "0"):
        raise HttpError(BAD_REQUEST, 'reply: must be "1" (confirm) or "0" (decline)')
    try:
        charge = await world.answer(phone.msisdn, reply)
    except (NoPendingConfirmationError, LookupError) as error:
        raise HttpError(
            NO_PENDING_CONFIRMATION, f"no charge awaits an answer from {phone.msisdn}"
        ) from error
    return _json(charge_json(phone.operator_id, charge))


async def put_policy(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    phone = _phone(request)
    body = await _body(request)
    policy = _policy(body.get("policy"))
    delay = None if body.get("delay") is None else _delay(body["delay"])
    return _json(phone_json(world.set_policy(phone.msisdn, policy, delay)))


async def get_charges(request: web.Request) -> web.Response:
    return _json(request.app[WORLD].charges())


async def get_faults(request: web.Request) -> web.Response:
    return _json(request.app[WORLD].faults.to_dict())


async def put_faults(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    faults = Faults.from_mapping(await _body(request))
    return _json(world.set_faults(faults).to_dict())


async def patch_faults(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    faults = world.faults.updated(await _body(request))
    return _json(world.set_faults(faults).to_dict())


async def delete_faults(request: web.Request) -> web.Response:
    return _json(request.app[WORLD].set_faults(Faults()).to_dict())


async def post_drop_links(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    operator = _optional_string(await _body(request, allow_empty=True), "operator")
    return _json({"dropped": world.smsc.drop_links(operator)})


async def get_events(request: web.Request) -> web.StreamResponse:
    world = request.app[WORLD]
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    streams = request.app[STREAMS]
    async with world.events.subscription() as subscription:
        streams.add(subscription)
        try:
            await response.write(b"retry: 1000\n: connected\n\n")
            await _stream(response, subscription, request.app[KEEPALIVE])
        except ConnectionResetError:
            pass  # the client went away
        finally:
            streams.discard(subscription)
    return response


async def _stream(
    response: web.StreamResponse,
    subscription: Subscription,
    keepalive: float,
) -> None:
    while True:
        try:
            async with asyncio.timeout(keepalive):
                event = await subscription.get()
        except TimeoutError:
            await response.write(b": keep-alive\n\n")
            continue
        if event is None:
            return
        await response.write(sse_message(event))


def sse_message(event: WorldEvent) -> bytes:
    """One SSE message; JSON never holds a raw newline, so one `data:` line is enough."""
    return b"id: %d\ndata: %s\n\n" % (event.seq, orjson.dumps(event.to_json()))


async def _end_streams(app: web.Application) -> None:
    streams: set[Subscription] = app[STREAMS]
    for subscription in list(streams):
        subscription.end()


# --- helpers -----------------------------------------------------------------------------


@web.middleware
async def _json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except HttpError as error:
        return _error(error.refusal.status, error.refusal.code, str(error))
    except FaultsError as error:
        return _error(400, error.error_code, str(error))
    except web.HTTPException as error:
        if error.status < 400:
            raise
        code = error.reason.lower().replace(" ", "_")
        return _error(error.status, code, error.text or error.reason)


def _json(data: Any, *, status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(data), content_type="application/json")


def _error(status: int, code: str, message: str) -> web.Response:
    return _json({"error": code, "message": message}, status=status)


async def _body(request: web.Request, *, allow_empty: bool = False) -> Mapping[str, Any]:
    raw = await request.read()
    if not raw.strip():
        if allow_empty:
            return {}
        raise HttpError(BAD_REQUEST, "the body must be a JSON object")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise HttpError(BAD_REQUEST, "the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise HttpError(BAD_REQUEST, "the body must be a JSON object")
    return body


def _phone(request: web.Request) -> VirtualPhone:
    msisdn = request.match_info["msisdn"]
    try:
        return request.app[WORLD].phones.require(msisdn)
    except UnknownPhoneError:
        raise HttpError(
            UNKNOWN_PHONE, f"no phone {msisdn}; create it with POST /api/phones"
        ) from None


def _string(body: Mapping[str, Any], name: str, *, allow_empty: bool = False) -> str:
    value = body.get(name)
    if not isinstance(value, str) or (not value and not allow_empty):
        raise HttpError(BAD_REQUEST, f"{name}: must be a non-empty string")
    return value


def _optional_string(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise HttpError(BAD_REQUEST, f"{name}: must be a non-empty string or absent")
    return value


def _policy(value: Any) -> ConfirmationPolicy:
    try:
        return ConfirmationPolicy(value)
    except ValueError:
        choices = ", ".join(policy.value for policy in ConfirmationPolicy)
        raise HttpError(BAD_REQUEST, f"policy: must be one of {choices}") from None


def _delay(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise HttpError(BAD_REQUEST, "delay: must be a number of seconds")
    if not 0 <= value <= MAX_ANSWER_DELAY:
        raise HttpError(BAD_REQUEST, f"delay: must be within 0..{MAX_ANSWER_DELAY:g} seconds")
    return float(value)


def _status_name(status: int) -> str:
    try:
        return CommandStatus(status).name
    except ValueError:
        return f"0x{status:08X}"
