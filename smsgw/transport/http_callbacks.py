"""Operator charge callbacks: `POST /charging/{operator}/callback`.

The body is passed through as raw bytes with the request headers: the signature covers
the exact bytes, so nothing here parses or re-encodes them. The service verifies the
signature, freshness and nonce and says what to answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from smsgw.transport.http_common import json_response, read_limited

AcceptChargeCallback = Callable[
    [str, Mapping[str, str], bytes], Awaitable[tuple[int, Mapping[str, object]]]
]

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
        status, answer = await self.accept_charge_callback(operator_id, request.headers, body)
        return json_response(answer, status=status)
