"""The minimal reply application behind Kannel in `smsgw bench --against kannel`:
`python -m simulator.bench.replyapp --reply TEXT`. Every GET is answered 200 with TEXT
as text/plain, which smsbox sends back to the texting phone as the reply SMS. It prints
`{"event": "listening", "port": P}` (a port from the OS, on 127.0.0.1) and runs until
SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import socket
import sys

from aiohttp import web


async def serve(reply: str) -> None:
    body = reply.encode("utf-8")

    async def answer(_request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="text/plain", charset="utf-8")

    app = web.Application()
    app.router.add_get("/{tail:.*}", answer)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    sock.setblocking(False)
    await web.SockSite(runner, sock).start()
    print(json.dumps({"event": "listening", "port": sock.getsockname()[1]}), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulator.bench.replyapp")
    parser.add_argument("--reply", required=True, help="the text every request is answered")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.reply))
    return 0


if __name__ == "__main__":
    sys.exit(main())
