"""The driver's cabinet: GET /cabinet/ and its files, plain static HTML, CSS, JS and SVG.

The page holds no data and no secret. It signs the driver in through the driver API
(docs/driver-api.md) and shows what that API answers; the session travels in an HttpOnly
cookie the page's script cannot read, and state-changing calls carry the CSRF value the
API hands the page. Nothing is fetched from elsewhere (no fonts, no map tiles: the map is
SVG drawn from the zones' GeoJSON); the support page's Content-Security-Policy makes that
a rule the browser enforces here too.

When the driver channel is off (`[driver] enabled = false`) no route is added, so every
/cabinet path is 404 as the driver API's are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from aiohttp import web

from smsgw.transport.ops_page import CONTENT_SECURITY_POLICY, STATIC_TYPES
from smsgw.transport.static_files import StaticFolder

CABINET_ROOT: Final = Path(__file__).resolve().parent / "cabinet_web"
CABINET_PREFIX: Final = "/cabinet"

CABINET_HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


class CabinetPage:
    """The cabinet's routes, added to an app only when the driver channel is on."""

    def __init__(self, *, enabled: bool, root: Path = CABINET_ROOT) -> None:
        self.enabled = enabled
        self.files = StaticFolder(root, STATIC_TYPES, CABINET_HEADERS)

    def add_routes(self, app: web.Application) -> None:
        if not self.enabled:
            return
        app.router.add_get(CABINET_PREFIX, _to_index)
        app.router.add_get(f"{CABINET_PREFIX}/", self.files.index)
        app.router.add_get(CABINET_PREFIX + "/{name}", self.files.named)

    def file(self, name: str) -> Path | None:
        """The page's file called `name`, or None: plain names with a known suffix only, so
        nothing outside the folder can be reached."""
        return self.files.file(name)


async def _to_index(_request: web.Request) -> web.Response:
    raise web.HTTPFound(f"{CABINET_PREFIX}/")
