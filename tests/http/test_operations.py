"""What operators see: request ids, access lines and Prometheus metrics."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from entrypoints.app import create_app
from entrypoints.observability.metrics_endpoint import MetricsEndpoint
from entrypoints.settings import Settings
from tests.http.helpers import opened, payer_and_payee, signed_up
from tests.in_memory import container_for

METRICS_TOKEN = "a-token-of-24-characters"  # nosec B105


@pytest.fixture
async def app(settings: Settings, database_url: str) -> AsyncIterator[FastAPI]:
    app = create_app(container_for(settings, database_url))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://hexbank.test") as c:
        yield c


async def listener_answer(
    app: FastAPI, path: str = "/metrics", token: str | None = None, **headers: str
) -> tuple[int, dict[str, str], str]:
    """What the operator's metrics listener answers for `app`: its ASGI app, in process (the
    listener's port is `hexbank serve`'s, tested in tests/integration/test_server_limits.py)."""
    endpoint = MetricsEndpoint(app.state.metrics.render, token)
    async with AsyncClient(transport=ASGITransport(app=endpoint), base_url="http://m.test") as m:
        response = await m.get(path, headers=headers)
    return response.status_code, dict(response.headers), response.text


async def scrape(app: FastAPI) -> str:
    status, _, text = await listener_answer(app)
    assert status == 200, text
    return text


def events(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [record.msg for record in caplog.records if isinstance(record.msg, dict)]


async def test_a_request_id_is_echoed_logged_and_put_in_problems(
    client: AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    response = await client.get("/api/v1/users/me", headers={"X-Request-ID": "req-42"})
    assert response.headers["x-request-id"] == "req-42"
    assert response.json()["request_id"] == "req-42"
    lines = [event for event in events(caplog) if event.get("request_id") == "req-42"]
    assert {event["event"] for event in lines} >= {"refused", "request"}

    generated = await client.get("/health/live", headers={"X-Request-ID": "bad id with spaces"})
    assert re.fullmatch(r"[0-9a-f]{32}", generated.headers["x-request-id"])


async def test_one_access_line_per_request_names_the_route_template(
    client: AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    ada = await signed_up(client)
    account = await opened(client, ada)
    caplog.set_level(logging.INFO)
    await client.get(f"/api/v1/accounts/{account}", headers=ada)
    access = [event for event in events(caplog) if event["event"] == "request"]
    assert len(access) == 1
    line = access[0]
    assert (line["method"], line["route"], line["status"]) == (
        "GET",
        "/api/v1/accounts/{account_id}",
        200,
    )
    assert isinstance(line["duration_ms"], float)
    assert account not in str(line)


def sample(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith(f"{name}{{") or line.startswith(f"{name} "):
            metric, value = line.rsplit(" ", 1)
            found = metric[len(name) + 1 : -1] if "{" in metric else ""
            if ",".join(sorted(found.split(","))) == wanted:
                return float(value)
    return 0.0


async def test_a_transfer_moves_the_right_counters(app: FastAPI, client: AsyncClient) -> None:
    ada, _bob, source, destination = await payer_and_payee(client, funds=1_000)
    before = await scrape(app)
    body = {
        "from_account_id": source,
        "to_account_id": destination,
        "amount": 300,
        "currency": "EUR",
    }
    headers = {**ada, "Idempotency-Key": "metrics-1"}
    await client.post("/api/v1/transfers", json=body, headers=headers)
    await client.post("/api/v1/transfers", json=body, headers=headers)  # a replay
    await client.post("/api/v1/transfers", json={**body, "amount": 10**6}, headers=ada)  # refused
    after = await scrape(app)

    def moved(text: str, name: str, **labels: str) -> float:
        return sample(text, name, **labels)

    assert (
        moved(after, "hexbank_money_movements_total", kind="transfer")
        - moved(before, "hexbank_money_movements_total", kind="transfer")
        == 1
    )
    assert (
        moved(after, "hexbank_money_moved_minor_units_total", kind="transfer", currency="EUR")
        - moved(before, "hexbank_money_moved_minor_units_total", kind="transfer", currency="EUR")
        == 300
    )
    assert moved(after, "hexbank_idempotent_replays_total", kind="transfer") == 1
    assert moved(after, "hexbank_domain_errors_total", code="insufficient-funds") == 1
    assert (
        moved(
            after,
            "hexbank_http_requests_total",
            method="POST",
            route="/api/v1/transfers",
            status="201",
        )
        >= 2
    )
    assert "hexbank_http_request_duration_seconds_bucket" in after
    assert 'hexbank_db_pool_connections{state="idle"}' in after
    assert "hexbank_transaction_retries_total" in after


async def test_invented_methods_share_one_series(app: FastAPI, client: AsyncClient) -> None:
    """Any token is an HTTP method; a client inventing them must not grow the metrics."""
    for n in range(5):
        await client.request(f"BREW{n}", "/health/live")
    text = await scrape(app)
    assert "BREW" not in text
    invented = [
        line
        for line in text.splitlines()
        if line.startswith('hexbank_http_requests_total{method="other"')
    ]
    assert len(invented) == 1, invented
    assert invented[0].endswith(" 5.0")


async def test_the_api_does_not_serve_metrics(client: AsyncClient) -> None:
    response = await client.get("/metrics")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "/metrics" not in (await client.get("/openapi.json")).json()["paths"]


async def test_the_listener_asks_for_the_token_when_one_is_set(app: FastAPI) -> None:
    status, headers, text = await listener_answer(app, token=METRICS_TOKEN)
    assert (status, headers["www-authenticate"]) == (401, "Bearer"), text
    assert "unauthorized" in text
    for wrong in ("Bearer nope", f"Basic {METRICS_TOKEN}", f"Bearer {METRICS_TOKEN}x", ""):
        status, _, _ = await listener_answer(app, token=METRICS_TOKEN, authorization=wrong)
        assert status == 401, wrong
    for right in (f"Bearer {METRICS_TOKEN}", f"bearer {METRICS_TOKEN}"):
        status, _, text = await listener_answer(app, token=METRICS_TOKEN, authorization=right)
        assert status == 200, right
        assert "hexbank_http_requests_total" in text or "# HELP" in text


async def test_the_listener_serves_nothing_but_metrics(app: FastAPI) -> None:
    status, headers, text = await listener_answer(app, "/health/live")
    assert status == 404
    assert headers["content-type"] == "application/problem+json"
    assert "not-found" in text
