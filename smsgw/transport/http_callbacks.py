"""Operator charge callbacks: `POST /charging/{operator}/callback`.

The body is passed through as raw bytes with the request headers: the signature covers
the exact bytes, so nothing here parses or re-encodes them. The service verifies the
signature, freshness and nonce and says what became of the callback (a
`CallbackVerdict`); this module alone says which HTTP status that is
(docs/operator-charging.md):

    stored 200 · malformed 400 · unsigned, bad_signature, stale 401
    unknown_operator, unknown_charge 404 · replayed, conflict 409 · unavailable 503
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from smsgw.service.ports import CallbackAnswer, CallbackVerdict
from smsgw.transport.http_common import json_response, read_limited

AcceptChargeCallback = Callable[[str, Mapping[str, str], bytes], Awaitable[CallbackAnswer]]

STATUS_OF_VERDICT: Mapping[CallbackVerdict, int] = {
    CallbackVerdict.STORED: 200,
    CallbackVerdict.MALFORMED: 400,
    CallbackVerdict.UNSIGNED: 401,
    CallbackVerdict.BAD_SIGNATURE: 401,
    CallbackVerdict.STALE: 401,
    CallbackVerdict.UNKNOWN_OPERATOR: 404,
    CallbackVerdict.UNKNOWN_CHARGE: 404,
    # the operator may stop retrying: the message was stored before, or never will be
    CallbackVerdict.REPLAYED: 409,
    CallbackVerdict.CONFLICT: 409,
    # not applied and the nonce not remembered: the operator sends it again
    CallbackVerdict.UNAVAILABLE: 503,
}

# a charge result is a few hundred bytes; anything much larger is not one
DEFAULT_CALLBACK_MAX_BYTES = 16 * 1024


class CallbackEndpoints:
    def __init__(
        self,
        accept_charge_callback: AcceptChargeCallback,
        *,
        max_body_bytes: int = DEFAULT_CALLBACK_MAX_BYTES,
    ) -> None:
        self.accept_charge_callback = accept_charge_callback
        self.max_body_bytes = max_body_bytes

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/charging/{operator}/callback", self.charge_callback)

    async def charge_callback(self, request: web.Request) -> web.Response:
        operator_id = request.match_info["operator"]
        body = await read_limited(request, self.max_body_bytes)
        answer = await self.accept_charge_callback(operator_id, request.headers, body)
        status, payload = callback_response(answer)
        return json_response(payload, status=status)


def callback_response(answer: CallbackAnswer) -> tuple[int, dict[str, object]]:
    """The status and JSON body that tell the operator what became of its callback."""
    status = STATUS_OF_VERDICT[answer.verdict]
    if answer.verdict is CallbackVerdict.STORED:
        return status, {"status": answer.verdict.value, "result": answer.result}
    return status, {"error": answer.verdict.value, "detail": answer.detail}
