"""Trace context end to end on PostgreSQL: a request's trace covers its SQL, the events it
writes keep its `traceparent`, the relay hands that on to the broker; with nothing configured,
nothing traces at all."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from dependency_injector import providers
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import text

from adapters.in_memory.event_publisher import InMemoryEventPublisher
from adapters.trace_context import current_traceparent
from entrypoints.app import create_app
from entrypoints.container import Container, build_container
from tests.conftest import make_settings
from tests.http.helpers import payer_and_payee
from tests.http.test_movements_api import transfer_body

pytestmark = pytest.mark.integration

UPSTREAM_TRACE = 0x4BF92F3577B34DA6A3CE929D0E0E4736
UPSTREAM_SPAN = 0x00F067AA0BA902B7


@dataclass
class Served:
    client: AsyncClient
    container: Container
    broker: InMemoryEventPublisher


@asynccontextmanager
async def served(
    database_url: str, data_dir: Path, exporter: InMemorySpanExporter | None
) -> AsyncIterator[Served]:
    """The real app on the real container, with an in-memory broker and span exporter, and a
    route that answers the trace context it runs in."""
    container = build_container(make_settings(database_url, data_dir), database_url)
    broker = InMemoryEventPublisher()
    container.event_publisher.override(providers.Object(broker))
    app = create_app(container, span_exporter=exporter)
    _add_probe(app)
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://hexbank.test") as client,
    ):
        yield Served(client, container, broker)


def _add_probe(app: FastAPI) -> None:
    async def probe() -> dict[str, str | None]:
        return {"traceparent": current_traceparent()}

    app.add_api_route("/probe", probe, methods=["GET"])


def parse(traceparent: str) -> tuple[int, int]:
    """(trace id, parent span id) of a W3C `traceparent`."""
    version, trace_id, span_id, flags = traceparent.split("-")
    assert version == "00"
    assert int(flags, 16) & 1  # sampled: a consumer records its part too
    return int(trace_id, 16), int(span_id, 16)


def server_span(spans: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    [span] = [s for s in spans if s.kind is SpanKind.SERVER and s.name == name]
    return span


def ids(span: ReadableSpan) -> tuple[int, int]:
    """(trace id, span id)."""
    assert span.context is not None
    return span.context.trace_id, span.context.span_id


def parent_id(span: ReadableSpan) -> int | None:
    return None if span.parent is None else span.parent.span_id


async def outbox_traceparents(container: Container) -> dict[str, list[str | None]]:
    async with container.engine().connect() as connection:
        rows = await connection.execute(
            text("SELECT type, traceparent FROM events ORDER BY transaction_id, position")
        )
        found: dict[str, list[str | None]] = {}
        for row in rows:
            found.setdefault(row.type, []).append(row.traceparent)
        return found


async def test_a_transfer_is_one_trace_from_its_request_through_its_sql_to_its_event(
    database_url: str, tmp_path: Path
) -> None:
    exporter = InMemorySpanExporter()
    async with served(database_url, tmp_path, exporter) as app:
        ada, _, source, destination = await payer_and_payee(app.client, funds=1_000)
        paid = await app.client.post(
            "/api/v1/transfers", json=transfer_body(source, destination, 300), headers=ada
        )
        assert paid.status_code == 201, paid.text

        spans = exporter.get_finished_spans()
        server = server_span(spans, "POST /api/v1/transfers")
        trace_id, server_id = ids(server)
        assert parent_id(server) is None
        assert (server.attributes or {})["http.route"] == "/api/v1/transfers"
        request_trace = [s for s in spans if ids(s)[0] == trace_id]
        queries = [s for s in request_trace if s.kind is SpanKind.CLIENT]
        assert queries, [s.name for s in request_trace]
        assert {parent_id(s) for s in queries} == {server_id}
        assert len(request_trace) == 1 + len(queries)  # the request and its SQL, nothing else
        statements = [str((s.attributes or {}).get("db.statement", "")) for s in queries]
        assert any("INSERT INTO events" in statement for statement in statements)

        [stored] = (await outbox_traceparents(app.container))["transfer.posted"]
        assert stored is not None
        assert parse(stored) == (trace_id, server_id)

        # The relay runs outside any request: its SQL starts no trace (it would, every poll).
        before = len(exporter.get_finished_spans())
        relayed = await app.container.relay_events()()
        assert relayed.published > 0
        assert relayed.backlog.undelivered == 0
        assert len(exporter.get_finished_spans()) == before

        [published] = [e for e in app.broker.events if e.type == "transfer.posted"]
        assert published.headers["traceparent"] == stored
        # Every event continues the trace of the request that wrote it.
        assert sorted(e.type for e in app.broker.events) == [
            *(["account.opened"] * 2),
            "deposit.posted",
            "transfer.posted",
            *(["user.registered"] * 2),
        ]
        requests = {ids(s)[0] for s in spans if s.kind is SpanKind.SERVER}
        assert {parse(e.headers["traceparent"])[0] for e in app.broker.events} <= requests


async def test_a_request_continues_the_trace_its_caller_sent(
    database_url: str, tmp_path: Path
) -> None:
    exporter = InMemorySpanExporter()
    upstream = f"00-{UPSTREAM_TRACE:032x}-{UPSTREAM_SPAN:016x}-01"
    async with served(database_url, tmp_path, exporter) as app:
        response = await app.client.get("/probe", headers={"traceparent": upstream})
        answered = response.json()["traceparent"]

    server = server_span(exporter.get_finished_spans(), "GET /probe")
    assert (ids(server)[0], parent_id(server)) == (UPSTREAM_TRACE, UPSTREAM_SPAN)
    assert parse(answered) == ids(server)


async def test_with_nothing_configured_nothing_traces(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(variable, raising=False)
    upstream = f"00-{UPSTREAM_TRACE:032x}-{UPSTREAM_SPAN:016x}-01"
    async with served(database_url, tmp_path, exporter=None) as app:
        probed = await app.client.get("/probe", headers={"traceparent": upstream})
        assert probed.json() == {"traceparent": None}  # not even the caller's is picked up
        ada, _, source, destination = await payer_and_payee(app.client, funds=1_000)
        paid = await app.client.post(
            "/api/v1/transfers", json=transfer_body(source, destination, 300), headers=ada
        )
        assert paid.status_code == 201, paid.text
        stored = await outbox_traceparents(app.container)
        assert stored["transfer.posted"] == [None]
        await app.container.relay_events()()
        assert all("traceparent" not in e.headers for e in app.broker.events)
        assert statement_listeners(app.container) == untraced(database_url, tmp_path)
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


async def test_apps_in_one_process_trace_apart_and_stop_tracing_when_they_stop(
    database_url: str, tmp_path: Path
) -> None:
    first, second = InMemorySpanExporter(), InMemorySpanExporter()
    async with served(database_url, tmp_path / "first", first) as one:
        async with served(database_url, tmp_path / "second", second) as two:
            assert (await one.client.get("/probe")).status_code == 200
            assert (await two.client.get("/health/ready")).status_code == 200
            assert [s.name for s in first.get_finished_spans()] == ["GET /probe"]
            kinds = {s.kind for s in second.get_finished_spans()}
            assert kinds == {SpanKind.SERVER, SpanKind.CLIENT}
            assert statement_listeners(two.container) == untraced(database_url, tmp_path) + 1

        # The second app stopped: its engine, which lives on in its container, is untraced...
        assert statement_listeners(two.container) == untraced(database_url, tmp_path)
        # ... while the first one's still traces any statement inside a sampled trace.
        await query_in_upstream_trace(one.container)
        [query] = [s for s in first.get_finished_spans() if s.kind is SpanKind.CLIENT]
        assert (ids(query)[0], parent_id(query)) == (UPSTREAM_TRACE, UPSTREAM_SPAN)


def statement_listeners(container: Container) -> int:
    """How many listeners run before each statement on the container's engine."""
    return len(container.engine().sync_engine.dispatch.before_cursor_execute)


def untraced(database_url: str, data_dir: Path) -> int:
    """`statement_listeners` of an engine no app ever traced (built, never connected)."""
    return statement_listeners(build_container(make_settings(database_url, data_dir), database_url))


async def query_in_upstream_trace(container: Container) -> None:
    """`SELECT 1` on the container's engine, under a sampled span from upstream."""
    upstream = trace.NonRecordingSpan(
        trace.SpanContext(
            UPSTREAM_TRACE, UPSTREAM_SPAN, is_remote=True, trace_flags=trace.TraceFlags(1)
        )
    )
    async with container.engine().connect() as connection:
        with trace.use_span(upstream):
            await connection.execute(text("SELECT 1"))
