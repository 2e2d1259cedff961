"""The W3C trace context of the current request, for events to carry downstream."""

from __future__ import annotations

from opentelemetry import propagate


def current_traceparent() -> str | None:
    """`traceparent` of the active span; None with no tracing configured (a no-op tracer
    has no valid span, so nothing is injected)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")
