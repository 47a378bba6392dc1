"""The support page: GET /ops/ and its files, plain static HTML, CSS and JS.

The page holds no data and no secret: it asks for the operations API token, keeps it in
sessionStorage (gone when the tab closes) and sends it as `Authorization: Bearer` to the
same JSON endpoints anyone with the token may call. So the page may be public while
everything it shows stays behind the token. Nothing is fetched from elsewhere; the
Content-Security-Policy makes that a rule the browser enforces.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from aiohttp import web

from smsgw.transport.static_files import TEXT_TYPES, StaticFolder

OPS_ROOT: Final = Path(__file__).resolve().parent / "ops_web"

STATIC_TYPES: Final = TEXT_TYPES

CONTENT_SECURITY_POLICY: Final = (
    "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

OPS_FILES: Final = StaticFolder(
    OPS_ROOT,
    STATIC_TYPES,
    {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    },
)


def add_ops_page_routes(app: web.Application) -> None:
    app.router.add_get("/ops", _to_index)
    app.router.add_get("/ops/", OPS_FILES.index)
    app.router.add_get("/ops/{name}", OPS_FILES.named)


async def _to_index(_request: web.Request) -> web.Response:
    raise web.HTTPFound("/ops/")


def ops_file(name: str) -> Path | None:
    """The page's file called `name`, or None: plain names with a known suffix only, so
    nothing outside the folder can be reached."""
    return OPS_FILES.file(name)
