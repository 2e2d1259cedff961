"""The FastAPI application, built by a factory: nothing connects at import time."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SpanExporter
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from entrypoints.container import Container
from entrypoints.http.body_limit import BodySizeLimit
from entrypoints.http.compression import Compression
from entrypoints.http.cors import CrossOrigin
from entrypoints.http.deadline import RequestDeadline
from entrypoints.http.docs import install_docs
from entrypoints.http.head import HeadAsGet
from entrypoints.http.openapi import (
    CONTACT,
    GUIDE,
    LICENSE,
    SERVERS,
    TAGS,
    install_openapi_conventions,
    operation_id,
)
from entrypoints.http.problems import install_problem_catalogue, install_problem_handlers
from entrypoints.http.routers import (
    accounts,
    api_keys,
    conversions,
    events,
    health,
    statement_keys,
    transfers,
    users,
    webhooks,
)
from entrypoints.http.turns import ReleaseTurn
from entrypoints.observability.logging import configure_structlog
from entrypoints.observability.metrics import Metrics
from entrypoints.observability.relay_metrics import RelayMetrics
from entrypoints.observability.request_context import RequestContext
from entrypoints.observability.tracing import configure_tracing
from entrypoints.observability.webhook_metrics import WebhookMetrics
from entrypoints.relay import delivering_events
from entrypoints.webhooks import delivering_webhooks

GZIP_LEVEL = 6
"""zlib's own default: Starlette's 9 spends more CPU on a large page for a few bytes less."""

YOUNG_COLLECTION_EVERY = 10_000
"""Net allocations between two young garbage collections (CPython's default: 700)."""


def create_app(container: Container, span_exporter: SpanExporter | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Started and stopped here, not through on_shutdown, so async resources are awaited.
        await container.init_resources()  # type: ignore[misc]
        try:
            async with (
                delivering_events(container, app.state.relay_metrics),
                delivering_webhooks(container, app.state.webhook_metrics),
            ):
                # What exists now (modules, the app, its pools) lives as long as the process:
                # full collections stop walking it again and again. Measured: a 1000-transfer
                # batch cost 100 ms of CPU on average with it walked, 66 ms without.
                gc.collect()  # garbage of the startup is freed, not kept forever
                gc.freeze()
                # A young collection every 10,000 net allocations, not 700: with 64 requests in
                # flight, 700 promoted their live objects to older generations, whose scans
                # cost 8% of the server's CPU (gc callbacks, 64 connections of transfers);
                # with 10,000, 0.5%. Cycles are still collected, only less often.
                gc.set_threshold(YOUNG_COLLECTION_EVERY, *gc.get_threshold()[1:])
                app.state.started = True  # a stop signal from now on ends a served run
                yield
        finally:
            await tracing.close()
            await container.shutdown_resources()  # type: ignore[misc]

    app = FastAPI(
        title="hexbank",
        version="0.1.0",
        summary="Accounts, deposits and transfers on a double-entry ledger.",
        description=GUIDE,
        contact=CONTACT,
        license_info=LICENSE,
        openapi_tags=TAGS,
        servers=SERVERS,
        generate_unique_id_function=operation_id,
        lifespan=lifespan,
        docs_url=None,  # served from local files by install_docs, not from a CDN
        redoc_url=None,
        # Traced by hexbank's own instrumentation (observability/tracing.py), only when an
        # exporter is configured. FastAPI's native telemetry would look up OpenTelemetry's
        # global providers (environment reads) on every request: 2-3% of a transfer's CPU.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    configure_structlog()
    app.state.container = container
    app.state.metrics = Metrics()
    app.state.metrics.watch(container)
    app.state.relay_metrics = RelayMetrics(app.state.metrics.registry)
    app.state.webhook_metrics = WebhookMetrics(app.state.metrics.registry)
    app.state.admission = container.admission()
    app.state.client_admission = container.client_admission()
    app.state.key_rate = container.key_rate()
    app.state.token_refusal_delay_s = container.settings().token_refusal_delay_s
    install_problem_handlers(app)
    settings = container.settings()
    # Added innermost first. Outward from the routes: body limit, the user's turn given back
    # with the last byte, the request deadline, compression, HEAD (outside
    # the compression, so HEAD shows GET's Content-Encoding and Content-Length), CORS (its
    # headers on every answer, refusals included), proxy headers, the request context.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(ReleaseTurn)
    app.add_middleware(RequestDeadline, seconds=settings.request_deadline_s)
    app.add_middleware(Compression, minimum_size=settings.gzip_min_bytes, compresslevel=GZIP_LEVEL)
    app.add_middleware(HeadAsGet)
    if settings.cors_origins:
        app.add_middleware(CrossOrigin, origins=settings.cors_origins)
    if settings.trusted_proxies:
        # Only a configured proxy may name the client (X-Forwarded-For): throttles key on it.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    app.add_middleware(RequestContext, metrics=app.state.metrics)  # outermost: sees it all
    for router in (
        users.router,
        accounts.router,
        transfers.router,
        conversions.router,
        events.router,
        api_keys.router,
        statement_keys.router,
        webhooks.router,
        health.router,
    ):
        app.include_router(router)
    install_docs(app)
    install_openapi_conventions(app)
    install_problem_catalogue(app)  # after: it appends the problem table to the guide
    # Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set or an exporter is given (tests).
    tracing = configure_tracing(
        app, container.engine, container.replica_engine, exporter=span_exporter
    )
    return app
