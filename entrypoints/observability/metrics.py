"""Prometheus metrics, on a registry of the app's own (two apps in one process stay apart).

Served at /metrics. Each worker process keeps its own numbers: scrape every worker (one
worker per container, the usual way), or see docs/scaling.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from application.money_movement import TransferReceipt
from domain.transfer import Transfer, TransferStatus

if TYPE_CHECKING:
    from entrypoints.container import Container

CONTENT_TYPE = CONTENT_TYPE_LATEST
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._requests = Counter(
            "hexbank_http_requests",
            "HTTP requests answered.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self._latency = Histogram(
            "hexbank_http_request_duration_seconds",
            "Time to answer, by route template.",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._movements = Counter(
            "hexbank_money_movements",
            "Money movements committed: transfers, deposits, withdrawals, reversals, posted holds.",
            ["kind"],
            registry=self.registry,
        )
        self._moved = Counter(
            "hexbank_money_moved_minor_units",
            "Amounts committed, in minor units.",
            ["kind", "currency"],
            registry=self.registry,
        )
        self._refusals = Counter(
            "hexbank_domain_errors",
            "Requests refused by a business rule.",
            ["code"],
            registry=self.registry,
        )
        self._replays = Counter(
            "hexbank_idempotent_replays",
            "Answers replayed for a repeated Idempotency-Key.",
            ["kind"],
            registry=self.registry,
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self._requests.labels(method, route, str(status)).inc()
        self._latency.labels(method, route).observe(seconds)

    def money_moved(self, receipt: TransferReceipt) -> None:
        """Count a write's answer: a replay, or money that moved (a hold placed or voided
        moves none; a hold posted moves what was posted)."""
        transfer = receipt.transfer
        kind = transfer.kind.value
        if receipt.replayed:
            self._replays.labels(kind).inc()
            return
        self.posted(transfer)

    def posted(self, transfer: Transfer) -> None:
        if transfer.status is not TransferStatus.POSTED or transfer.posted_amount is None:
            return
        kind = transfer.kind.value
        self._movements.labels(kind).inc()
        self._moved.labels(kind, transfer.currency).inc(transfer.posted_amount)

    def refused(self, code: str) -> None:
        self._refusals.labels(code).inc()

    def watch(self, container: Container) -> None:
        """Read the pool and the retry count at scrape time, from the app's own container."""
        self.registry.register(_ContainerCollector(container))

    def render(self) -> bytes:
        exposition: bytes = generate_latest(self.registry)
        return exposition


class _ContainerCollector(Collector):
    def __init__(self, container: Container) -> None:
        self._container = container

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        pool = self._container.engine().pool
        connections = GaugeMetricFamily(
            "hexbank_db_pool_connections", "Pooled database connections by state.", labels=["state"]
        )
        for state, value in (
            ("in_use", getattr(pool, "checkedout", lambda: 0)()),
            ("idle", getattr(pool, "checkedin", lambda: 0)()),
            ("overflow", max(0, getattr(pool, "overflow", lambda: 0)())),
        ):
            connections.add_metric([state], value)
        yield connections
        yield CounterMetricFamily(
            "hexbank_transaction_retries",
            "Units of work run again after a serialization failure or deadlock.",
            value=self._container.transaction_retry().retries,
        )
