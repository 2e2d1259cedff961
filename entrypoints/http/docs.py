"""Swagger UI at /docs and ReDoc at /redoc from this process's own files: no CDN, so the docs
work on a machine without internet and tell no third party who reads them.

The files come from the PyPI package `fastapi-standalone-docs` (MIT, only depends on fastapi):
it ships swagger-ui-dist 5.33.1 and redoc 2.5.4 as plain files, and its ReDoc bundle loads the
Redocly logo from a path beside the page instead of cdn.redoc.ly. The alternatives looked at:
`fastapi-offline` 1.7.7 ships both UIs too, but its ReDoc (like `drf-spectacular-sidecar`'s)
still fetches that logo from cdn.redoc.ly on every view; `drf-spectacular-sidecar` also
requires Django; `swagger-ui-bundle` 1.1.0 is Swagger UI 4.15.5 from 2023 and has no ReDoc.
Only the package's files are used: its `StandaloneDocs` patches FastAPI's module-level page
functions for every app in the process, which the pages below do not need.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_standalone_docs
from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_standalone_docs.__file__).parent / "static"
ASSETS_URL = "/static/docs"
DOCS_URL = "/docs"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
REDOC_URL = "/redoc"
# The package's ReDoc asks for `window.location.pathname + "/logo-mini.svg"`.
REDOC_LOGO_URL = f"{REDOC_URL}/logo-mini.svg"
_FILES = (
    "swagger/swagger-ui-bundle.js",
    "swagger/swagger-ui.css",
    "redoc/redoc.standalone.js",
    "redoc/logo-mini.svg",
    "fastapi/favicon.png",
)
# No badge that sends the document's URL to validator.swagger.io.
_SWAGGER_PARAMETERS = {"validatorUrl": None}


def install_docs(app: FastAPI) -> None:
    """Serve /docs, its OAuth2 redirect page, /redoc and `/`; none of them is in the schema.

    The app must be built with `docs_url=None, redoc_url=None`. Refuses to start when an
    upgrade of the assets package moved a file, rather than serve blank pages.
    """
    missing = [name for name in _FILES if not (ASSETS / name).is_file()]
    if missing:
        raise RuntimeError(f"fastapi-standalone-docs lacks {missing} under {ASSETS}")
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")

    @app.get("/", include_in_schema=False)
    async def root(request: Request) -> dict[str, str]:
        """Where to go from here. JSON, not a redirect: curl and API clients get an answer
        they can read instead of an HTML page, and a browser shows the links just as well."""
        base = _root_path(request)
        return {
            "name": request.app.title,
            "docs": f"{base}{DOCS_URL}",
            "redoc": f"{base}{REDOC_URL}",
            "openapi": f"{base}{request.app.openapi_url}",
        }

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        base = _root_path(request)
        return get_swagger_ui_html(
            openapi_url=f"{base}{request.app.openapi_url}",
            title=f"{request.app.title} - Swagger UI",
            swagger_js_url=f"{base}{ASSETS_URL}/swagger/swagger-ui-bundle.js",
            swagger_css_url=f"{base}{ASSETS_URL}/swagger/swagger-ui.css",
            swagger_favicon_url=f"{base}{ASSETS_URL}/fastapi/favicon.png",
            oauth2_redirect_url=f"{base}{OAUTH2_REDIRECT_URL}",
            swagger_ui_parameters=_SWAGGER_PARAMETERS,
        )

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    async def swagger_ui_oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        base = _root_path(request)
        return get_redoc_html(
            openapi_url=f"{base}{request.app.openapi_url}",
            title=f"{request.app.title} - ReDoc",
            redoc_js_url=f"{base}{ASSETS_URL}/redoc/redoc.standalone.js",
            redoc_favicon_url=f"{base}{ASSETS_URL}/fastapi/favicon.png",
            with_google_fonts=False,
        )

    @app.get(REDOC_LOGO_URL, include_in_schema=False)
    async def redoc_logo() -> FileResponse:
        return FileResponse(ASSETS / "redoc/logo-mini.svg", media_type="image/svg+xml")


def _root_path(request: Request) -> str:
    """The prefix a proxy serves the app under, as FastAPI's own docs pages use it."""
    return str(request.scope.get("root_path", "")).rstrip("/")
