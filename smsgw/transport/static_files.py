"""A folder of a package's static files (HTML, CSS, JS) served by name, with the headers
its page asks for.

Both the support page (`ops_page`) and the simulator's web phone serve one flat folder
this way: a file is reached by its plain name only (no "/", no leading "."), with a
suffix the folder knows a type for, so nothing outside the folder can be reached.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from aiohttp import web

# Explicit types with charset: a page that shows Cyrillic must not leave its script's
# encoding to the browser's guess.
TEXT_TYPES: Final[Mapping[str, str]] = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
}


@dataclass(frozen=True, slots=True)
class StaticFolder:
    """`root`'s files, typed by suffix from `types`, each answered with `headers`."""

    root: Path
    types: Mapping[str, str]
    headers: Mapping[str, str]

    def file(self, name: str) -> Path | None:
        """The file called `name`, or None: plain names with a known suffix only."""
        if not name or name.startswith(".") or "/" in name or "\\" in name:
            return None
        path = self.root / name
        if path.suffix not in self.types or not path.is_file():
            return None
        return path

    def response(self, path: Path) -> web.FileResponse:
        return web.FileResponse(
            path, headers={"Content-Type": self.types[path.suffix], **self.headers}
        )

    async def index(self, _request: web.Request) -> web.FileResponse:
        """The handler for the folder's index.html."""
        return self.response(self.root / "index.html")

    async def named(self, request: web.Request) -> web.FileResponse:
        """The handler for a route with a `{name}` part; 404 for anything not served."""
        path = self.file(request.match_info["name"])
        if path is None:
            raise web.HTTPNotFound(text="no such file")
        return self.response(path)
