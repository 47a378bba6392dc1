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

from smsgw.transport.static_files import TEXT_TYPES, StaticFolder

WEB_ROOT: Final = Path(__file__).resolve().parent / "web"

STATIC_TYPES: Final = {**TEXT_TYPES, ".png": "image/png", ".ico": "image/x-icon"}

# Everything the page needs comes from this origin; the policy makes that a rule the
# browser enforces, not a promise.
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


WEB_FILES: Final = StaticFolder(
    WEB_ROOT,
    STATIC_TYPES,
    {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        # the page is a development tool: always the file on disk, never a stale copy
        "Cache-Control": "no-cache",
    },
)

ClockReader = Callable[[], Mapping[str, object]]
CLOCK: Final[web.AppKey[ClockReader]] = web.AppKey("webphone_clock")


def add_webphone_routes(app: web.Application, *, clock: ClockReader | None = None) -> None:
    """Serve the page at GET / and its files at GET /static/{name}; with `clock`, the
    simulated time at GET /clock ({"now": ISO time, "speed", "time_zone"}), which the
    page shows and runs on between reads."""
    app.router.add_get("/", WEB_FILES.index)
    app.router.add_get("/static/{name}", WEB_FILES.named)
    app[CLOCK] = clock or _wall_clock
    app.router.add_get("/clock", _clock)


def _wall_clock() -> Mapping[str, object]:
    return {"now": datetime.now(UTC).isoformat(), "speed": 1.0, "time_zone": "UTC"}


async def _clock(request: web.Request) -> web.Response:
    return web.json_response(dict(request.app[CLOCK]()), headers={"Cache-Control": "no-store"})


def static_path(name: str) -> Path | None:
    """The file under WEB_ROOT that `name` names, or None: only plain file names with a
    known suffix, so nothing outside the folder can be reached."""
    return WEB_FILES.file(name)
