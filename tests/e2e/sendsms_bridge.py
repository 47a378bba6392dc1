"""Kannel's sendsms for the in-process rig: what a Kannel box bound to the simulated SMSC
does with a reply, in one step. A reply sent to it lands in the SMSC's inbox of the
phone, as if Kannel had submitted it over its own SMPP bind (the full path through a
real Kannel is tests/e2e/test_kannel.py)."""

from __future__ import annotations

import itertools

from aiohttp import web

from simulator.smsc import ReceivedMt, SimulatedSmsc
from smsgw.transport.http_app import RunningHttpServer, start_http_server
from smsgw.transport.http_common import parse_form_bytes
from smsgw.transport.http_mo import decode_mo_text


async def start_sendsms_bridge(smsc: SimulatedSmsc, operator: str) -> RunningHttpServer:
    ids = itertools.count(1)

    async def sendsms(request: web.Request) -> web.Response:
        values = parse_form_bytes(request.rel_url.raw_query_string)
        text = decode_mo_text(
            values["text"],
            values.get("coding", b"0").decode(),
            values.get("charset", b"").decode() or None,
        )
        destination = values["to"].decode()
        source = values["from"].decode()
        mt = ReceivedMt(operator, source, destination, text, f"bridge-{next(ids)}")
        smsc.inbox[destination].append(mt)
        smsc.changed.notify()
        return web.Response(status=202, text="0: Accepted for delivery")

    app = web.Application()
    app.router.add_get("/cgi-bin/sendsms", sendsms)
    return await start_http_server(app, "127.0.0.1", 0)
