"""The viewer page: static HTML, CSS and JavaScript served by the gateway itself, under a
strict Content-Security-Policy (its own scripts, styles and API only; no outside host, no
inline script or style, no framing)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from aiohttp import web

VIEWER_DIR: Final = Path(__file__).parent / "viewer_assets"
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
ASSETS: Final = {
    "index.html": "text/html; charset=utf-8",
    "viewer.js": "text/javascript; charset=utf-8",
    "viewer.css": "text/css; charset=utf-8",
}


def add_viewer_routes(app: web.Application) -> None:
    """``/`` sends the browser to ``/app/``; the files are streamed from the package (with
    ``ETag`` and ``Last-Modified``), read off the event loop."""

    def serve(name: str) -> web.RouteDef:
        path = "/app/" if name == "index.html" else f"/app/{name}"

        async def asset(request: web.Request) -> web.FileResponse:
            return web.FileResponse(
                VIEWER_DIR / name, headers={**PAGE_HEADERS, "Content-Type": ASSETS[name]}
            )

        return web.get(path, asset)

    async def to_viewer(request: web.Request) -> web.Response:
        raise web.HTTPFound("/app/")

    app.router.add_routes([serve(name) for name in ASSETS])
    app.router.add_get("/", to_viewer)
    app.router.add_get("/app", to_viewer)
