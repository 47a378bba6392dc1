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

OPS_ROOT: Final = Path(__file__).resolve().parent / "ops_web"

STATIC_TYPES: Final = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
}

CONTENT_SECURITY_POLICY: Final = (
    "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def add_ops_page_routes(app: web.Application) -> None:
    app.router.add_get("/ops", _to_index)
    app.router.add_get("/ops/", _index)
    app.router.add_get("/ops/{name}", _static_file)


async def _to_index(_request: web.Request) -> web.Response:
    raise web.HTTPFound("/ops/")


async def _index(_request: web.Request) -> web.FileResponse:
    return _file_response(OPS_ROOT / "index.html")


async def _static_file(request: web.Request) -> web.FileResponse:
    path = ops_file(request.match_info["name"])
    if path is None:
        raise web.HTTPNotFound(text="no such file")
    return _file_response(path)


def ops_file(name: str) -> Path | None:
    """The page's file called `name`, or None: plain names with a known suffix only, so
    nothing outside the folder can be reached."""
    if not name or name.startswith(".") or "/" in name or "\\" in name:
        return None
    path = OPS_ROOT / name
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
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache",
        },
    )
