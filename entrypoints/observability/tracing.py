"""OpenTelemetry traces, only when asked for: a request's trace covers its SQL, and the events
it writes carry its `traceparent` on to the broker (adapters/trace_context.py reads it).

Off unless `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set or an
exporter is given: then nothing is built or installed (no provider, no middleware, no SQL
listener), so an untraced request costs exactly what it did before.

Instrumentation is per app and per engine, never process-wide, so apps built side by side (the
test suite) stay apart: the app gets the official FastAPI instrumentation, the engines the
official SQLAlchemy one's `EngineTracer` (its `instrument()` would patch every engine the
process ever creates). `Tracing.close()` takes both off again when the app stops.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from fastapi import FastAPI
from opentelemetry import metrics, trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.sqlalchemy import engine as sqlalchemy_instrumentation
from opentelemetry.instrumentation.sqlalchemy.version import __version__ as sqlalchemy_version
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.semconv.metrics import MetricInstruments
from opentelemetry.trace import Link, SpanKind, TraceState
from opentelemetry.util.types import Attributes
from sqlalchemy import Engine, event
from sqlalchemy.ext.asyncio import AsyncEngine

_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
_SQLALCHEMY_SCOPE = "opentelemetry.instrumentation.sqlalchemy"
_FLUSH_TIMEOUT_MS = 5_000


class WithoutOrphanQueries(Sampler):
    """Drops a client span that would start a trace of its own: SQL no request asked for (the
    relay polls the outbox several times a second) would otherwise be a trace per statement.
    Every other decision is the configured sampler's (`OTEL_TRACES_SAMPLER`)."""

    def __init__(self, sampler: Sampler) -> None:
        self._sampler = sampler

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        parent = trace.get_current_span(parent_context).get_span_context()
        if kind is SpanKind.CLIENT and not parent.is_valid:
            return SamplingResult(Decision.DROP)
        return self._sampler.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"WithoutOrphanQueries{{{self._sampler.get_description()}}}"


@dataclass
class Tracing:
    """What `configure_tracing` installed, so the app's lifespan can take it down again."""

    provider: TracerProvider | None = None
    owns_provider: bool = False
    """A provider of this app's own (a given exporter) is shut down with it; the process-wide
    one (from the environment) is only flushed."""
    app: FastAPI | None = None
    engines: list[Engine] = field(default_factory=list)

    async def close(self) -> None:
        if self.provider is None:
            return
        if self.app is not None:
            FastAPIInstrumentor.uninstrument_app(self.app)
        for engine in self.engines:
            _stop_tracing(engine)
        # Both block on the exporter (a collector away: its retries), so off the event loop,
        # and the flush is bounded: a stopping service must not hang on its telemetry.
        if self.owns_provider:
            await asyncio.to_thread(self.provider.shutdown)
        else:
            await asyncio.to_thread(self.provider.force_flush, _FLUSH_TIMEOUT_MS)
        self.provider, self.app, self.engines = None, None, []


def configure_tracing(
    app: FastAPI,
    *engines: Callable[[], AsyncEngine | None],
    exporter: SpanExporter | None = None,
) -> Tracing:
    """Trace `app`'s requests and the statements of `engines` (providers: built only when
    traced; None is skipped) into `exporter`, synchronously (tests), or else over OTLP/HTTP in
    batches when the environment names an endpoint; otherwise do nothing at all."""
    if exporter is not None:
        provider, owned = _provider(SimpleSpanProcessor(exporter), shutdown_on_exit=False), True
    elif _exporting_from_environment():
        provider, owned = _environment_provider(), False
    else:
        return Tracing()
    # Server spans only: a span per ASGI message sent or received is noise for this API.
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=provider, exclude_spans=["receive", "send"]
    )
    traced = [made.sync_engine for make in engines if (made := make()) is not None]
    tracer = provider.get_tracer(_SQLALCHEMY_SCOPE, sqlalchemy_version)
    # Only its pool listeners use the meter; like `instrument()`, the global one (a no-op
    # unless someone configured metrics: hexbank's own are Prometheus, in metrics.py).
    connections = metrics.get_meter(_SQLALCHEMY_SCOPE, sqlalchemy_version).create_up_down_counter(
        MetricInstruments.DB_CLIENT_CONNECTIONS_USAGE, unit="connections"
    )
    for engine in traced:
        sqlalchemy_instrumentation.EngineTracer(tracer, engine, connections)  # type: ignore[no-untyped-call]
    return Tracing(provider, owned, app, traced)


def _exporting_from_environment() -> bool:
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return any(os.environ.get(name, "").strip() for name in _ENDPOINT_VARIABLES)


def _provider(processor: SpanProcessor, *, shutdown_on_exit: bool) -> TracerProvider:
    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: os.environ.get("OTEL_SERVICE_NAME", "hexbank")}),
        shutdown_on_exit=shutdown_on_exit,
    )
    # Set before any tracer exists: tracers take the provider's sampler when they are made.
    provider.sampler = WithoutOrphanQueries(provider.sampler)
    provider.add_span_processor(processor)
    return provider


@functools.cache
def _environment_provider() -> TracerProvider:
    """One per process, however many apps it builds (the global provider can be set only
    once); flushed and shut down at exit. Made the global one too, unless something else
    already configured that, so other instrumentation finds it."""
    # Imported here: protobuf and an HTTP client are only needed when exporting.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    provider = _provider(BatchSpanProcessor(OTLPSpanExporter()), shutdown_on_exit=True)
    if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        trace.set_tracer_provider(provider)
    return provider


def _stop_tracing(engine: Engine) -> None:
    """Removes the listeners `EngineTracer` put on this engine alone: its own clean-up,
    `remove_all_event_listeners`, would also untrace every other app's engines."""
    registered = sqlalchemy_instrumentation.EngineTracer._remove_event_listener_params
    for entry in list(registered):
        target, identifier, listener = entry
        if target() is engine:
            event.remove(engine, identifier, listener)
            registered.remove(entry)
