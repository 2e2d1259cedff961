"""The API docs as a person uses them, in a real Chromium against a real `hexbank serve`:
Swagger UI and ReDoc render from the app's own files, Authorize (OAuth2 password flow) and
"Try it out" work, and no page asks anything of a host other than this machine. Every request
to another host is also aborted, as it would fail on a machine without internet."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
import pytest

from tests.integration.test_processes import app_process
from tests.postgres import create_database, drop_database, unique_name, with_database

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Request, Response, Route

pytestmark = pytest.mark.postgres  # a `hexbank serve` process, which runs on PostgreSQL

CHROMIUM = Path("/usr/bin/chromium")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
EMAIL, PASSWORD = "reader@example.com", "password1"
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def served(
    postgres_url: str, template_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One `hexbank serve` for the module, with one registered user."""
    name = unique_name("hexbank_docs")
    asyncio.run(create_database(postgres_url, name, template=template_database))
    try:
        with app_process(with_database(postgres_url, name), tmp_path_factory.mktemp("docs")) as (
            _,
            base,
        ):
            user = {"email": EMAIL, "password": PASSWORD, "full_name": "Reader"}
            httpx.post(f"{base}/api/v1/users", json=user).raise_for_status()
            yield base
    finally:
        asyncio.run(drop_database(postgres_url, name))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip("chromium not installed: apt-get install chromium; .ci/run installs it")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright not installed: make install puts it in .venv"
    )
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield launched
        launched.close()


@dataclass
class Traffic:
    """What a page asked for: requests to other hosts, local answers >= 400, script errors."""

    offsite: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    local: list[str] = field(default_factory=list)


@pytest.fixture
def page(browser: Browser) -> Iterator[tuple[Page, Traffic]]:
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    traffic = Traffic()

    def gate(route: Route, request: Request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in {"http", "https", "ws", "wss"} and parts.hostname not in LOCAL_HOSTS:
            traffic.offsite.append(request.url)
            route.abort()
        else:
            route.continue_()

    def answered(response: Response) -> None:
        traffic.local.append(urlsplit(response.url).path)
        if response.status >= 400:
            traffic.failed.append(f"{response.status} {response.url}")

    context.route("**/*", gate)
    opened = context.new_page()
    opened.on("response", answered)
    opened.on("pageerror", lambda error: traffic.errors.append(str(error)))
    yield opened, traffic
    context.close()


def test_root_points_to_the_docs_and_stays_out_of_the_schema(served: str) -> None:
    root = httpx.get(f"{served}/")
    assert root.status_code == 200
    assert root.json() == {
        "name": "hexbank",
        "docs": "/docs",
        "redoc": "/redoc",
        "openapi": "/openapi.json",
    }
    paths = httpx.get(f"{served}/openapi.json").json()["paths"]
    assert not {"/", "/docs", "/redoc", "/docs/oauth2-redirect"} & set(paths)


def test_the_docs_pages_name_only_this_servers_files(served: str) -> None:
    for page in ("/docs", "/redoc"):
        html = httpx.get(f"{served}{page}").text
        assert not re.search(r"(?:src|href)=\"(?:https?:)?//", html), html
        for asset in re.findall(r"(?:src|href)=\"(/static/docs/[^\"]+)\"", html):
            assert httpx.get(f"{served}{asset}").status_code == 200, asset
    swagger = httpx.get(f"{served}/docs").text
    assert "/static/docs/swagger/swagger-ui-bundle.js" in swagger
    assert '"validatorUrl": null' in swagger
    assert "oauth2RedirectUrl: window.location.origin + '/docs/oauth2-redirect'" in swagger
    redirect = httpx.get(f"{served}/docs/oauth2-redirect")
    assert redirect.status_code == 200
    assert "oauth2" in redirect.text
    logo = httpx.get(f"{served}/redoc/logo-mini.svg")
    assert (logo.status_code, logo.headers["content-type"]) == (200, "image/svg+xml")
    assert httpx.get(f"{served}/static/docs/swagger/nothing.js").status_code == 404


def test_swagger_ui_authorizes_and_tries_a_protected_route(
    served: str, page: tuple[Page, Traffic]
) -> None:
    tab, traffic = page
    tab.goto(f"{served}/docs")
    operations = tab.locator(".opblock")
    operations.first.wait_for(state="visible")
    assert operations.count() >= 11
    me = tab.locator(".opblock-get").filter(
        has=tab.locator('.opblock-summary-path[data-path="/api/v1/users/me"]')
    )

    tab.locator(".auth-wrapper button.authorize").click()
    dialog = tab.locator(".modal-ux")
    dialog.locator("#oauth_username").fill(EMAIL)
    dialog.locator("#oauth_password").fill(PASSWORD)
    dialog.locator(".auth-btn-wrapper button.authorize").click()
    dialog.locator(".auth-btn-wrapper button", has_text="Logout").wait_for(state="visible")
    assert dialog.get_by_text("Authorized").first.is_visible()
    dialog.locator("button.btn-done").click()

    me.locator(".opblock-summary").click()
    me.locator("button.try-out__btn").click()
    me.locator("button.execute").click()
    answer = me.locator(".live-responses-table .response")
    answer.locator(".response-col_status").wait_for(state="visible")
    assert answer.locator(".response-col_status").inner_text().strip() == "200"
    assert EMAIL in answer.locator(".response-col_description").inner_text()

    assert traffic.offsite == []
    assert traffic.failed == []
    assert traffic.errors == []
    assert "/api/v1/auth/token" in traffic.local
    assert "/static/docs/swagger/swagger-ui-bundle.js" in traffic.local


def test_redoc_renders_from_local_files(served: str, page: tuple[Page, Traffic]) -> None:
    tab, traffic = page
    tab.goto(f"{served}/redoc")
    heading = tab.locator("h1", has_text="hexbank")
    heading.wait_for(state="visible")
    assert "0.1.0" in heading.inner_text()
    operations = tab.locator('[data-section-id^="operation/"]')
    operations.first.wait_for(state="visible")
    assert operations.count() >= 11
    tab.get_by_text("/api/v1/users/me").first.wait_for(state="attached")
    logo = tab.locator('img[alt="redocly logo"]')
    logo.wait_for(state="visible")
    assert logo.evaluate("image => image.complete && image.naturalWidth > 0")

    assert traffic.offsite == []
    assert traffic.failed == []
    assert traffic.errors == []
    assert "/redoc/logo-mini.svg" in traffic.local
