"""What webhook delivery tells operators: attempts by outcome, the retry backlog and the age
of the oldest pending delivery (read by /metrics)."""

from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge

from application.ports.webhooks import DeliveryBacklog


class WebhookMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self._attempts = Counter(
            "hexbank_webhook_deliveries",
            "Webhook delivery attempts by outcome: delivered, retried, failed (retries ran "
            "out), gone (410: endpoint disabled), unrecorded (the database was away).",
            ["outcome"],
            registry=registry,
        )
        self._pending = Gauge(
            "hexbank_webhook_pending",
            "Webhook deliveries waiting (first attempts and retries).",
            registry=registry,
            multiprocess_mode="mostrecent",
        )
        self._retrying = Gauge(
            "hexbank_webhook_retry_backlog",
            "Pending webhook deliveries that failed at least once.",
            registry=registry,
            multiprocess_mode="mostrecent",
        )
        self._oldest = Gauge(
            "hexbank_webhook_oldest_pending_seconds",
            "Age of the oldest pending webhook delivery; 0 when none waits.",
            registry=registry,
            multiprocess_mode="mostrecent",
        )

    def outcome(self, outcome: str) -> None:
        self._attempts.labels(outcome).inc()

    def observe(self, backlog: DeliveryBacklog, now: datetime) -> None:
        self._pending.set(backlog.pending)
        self._retrying.set(backlog.retrying)
        oldest = backlog.oldest
        self._oldest.set(0.0 if oldest is None else max(0.0, (now - oldest).total_seconds()))
