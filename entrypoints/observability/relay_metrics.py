"""What the events relay tells operators: backlog, oldest undelivered age, published and
failed counts (read by /metrics and /health/ready)."""

from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge

from application.use_cases.relay_events import RelayPass


class RelayMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self._published = Counter(
            "hexbank_events_published", "Events the broker acknowledged.", registry=registry
        )
        self._failed = Counter(
            "hexbank_events_publish_failures",
            "Relay passes cut short by the broker (down, no answer).",
            registry=registry,
        )
        self._backlog = Gauge(
            "hexbank_events_backlog",
            "Events in the outbox not yet delivered to the broker.",
            registry=registry,
            multiprocess_mode="mostrecent",
        )
        self._oldest = Gauge(
            "hexbank_events_oldest_undelivered_seconds",
            "Age of the oldest event not yet delivered; 0 when none waits.",
            registry=registry,
            multiprocess_mode="mostrecent",
        )
        self.backlog = 0
        self.oldest_age_s = 0.0

    def observe(self, result: RelayPass, now: datetime) -> None:
        self._published.inc(result.published)
        if result.failed:
            self._failed.inc()
        oldest = result.backlog.oldest
        self.backlog = result.backlog.undelivered
        self.oldest_age_s = 0.0 if oldest is None else max(0.0, (now - oldest).total_seconds())
        self._backlog.set(self.backlog)
        self._oldest.set(self.oldest_age_s)
