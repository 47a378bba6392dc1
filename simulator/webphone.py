"""The web phone: a page that shows one virtual phone texting the short number, with the
simulator's links, charges and faults beside it.

Plain static files from `simulator/web/` (no build step, nothing fetched from the
net); the page talks to the simulator's JSON control API (`simulator.control`) on the
same origin and follows it live over Server-Sent Events from /api/events.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from aiohttp import web

WEB_ROOT: Final = Path(__file__).resolve().parent / "web"

# Explicit types with charset: a page that shows Cyrillic must not leave its script's
# encoding to the browser's guess.
STATIC_TYPES: Final = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}

# Everything the page needs comes from this origin; the policy makes that a rule the
# browser enforces, not a promise.
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


ClockReader = Callable[[], Mapping[str, object]]
CLOCK: Final[web.AppKey[ClockReader]] = web.AppKey("webphone_clock")


def add_webphone_routes(app: web.Application, *, clock: ClockReader | None = None) -> None:
    """Serve the page at GET / and its files at GET /static/{name}; with `clock`, the
    simulated time at GET /clock ({"now": ISO time, "speed", "time_zone"}), which the
    page shows and runs on between reads."""
    app.router.add_get("/", _index)
    app.router.add_get("/static/{name}", _static_file)
    app[CLOCK] = clock or _wall_clock
    app.router.add_get("/clock", _clock)


def _wall_clock() -> Mapping[str, object]:
    return {"now": datetime.now(UTC).isoformat(), "speed": 1.0, "time_zone": "UTC"}


async def _clock(request: web.Request) -> web.Response:
    return web.json_response(dict(request.app[CLOCK]()), headers={"Cache-Control": "no-store"})


async def _index(_request: web.Request) -> web.FileResponse:
    return _file_response(WEB_ROOT / "index.html")


async def _static_file(request: web.Request) -> web.FileResponse:
    path = static_path(request.match_info["name"])
    if path is None:
        raise web.HTTPNotFound(text="no such file")
    return _file_response(path)


def static_path(name: str) -> Path | None:
    """The file under WEB_ROOT that `name` names, or None: only plain file names with a
    known suffix, so nothing outside the folder can be reached."""
    if not name or name.startswith(".") or "/" in name or "\\" in name:
        return None
    path = WEB_ROOT / name
    if path.suffix not in STATIC_TYPES or not path.is_file():
        return None
    return path


def _file_response(path: Path) -> web.FileResponse:
    return web.FileResponse(
        path,
        headers={
            "Content-Type": STATIC_TYPES[path.suffix],
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            # the page is a development tool: always the file on disk, never a stale copy
            "Cache-Control": "no-cache",
        },
    )
