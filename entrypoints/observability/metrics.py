"""Prometheus metrics, on a registry of the app's own (two apps in one process stay apart).

Served at /metrics by the operator's listener, not on the API's port
(entrypoints/observability/metrics_endpoint.py). Under `hexbank serve --workers N` the workers
share their numbers (entrypoints/observability/multiprocess.py) and the supervisor's listener
renders them: one scrape covers them all.
"""

from __future__ import annotations

import time
from collections import Counter as Tally
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from application.receipts import TransferReceipt
from domain.transfer import Transfer, TransferStatus
from entrypoints.observability.multiprocess import render_shared, shared_directory

if TYPE_CHECKING:
    from entrypoints.container import Container

CONTENT_TYPE = CONTENT_TYPE_LATEST
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_SHARED_REFRESH_S = 1.0
"""How often a worker copies its pool state and retry count to the shared files."""


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._shared = shared_directory()
        self._container_state: _SharedContainerState | None = None
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
        # The labelled series of each (method, route, status), found once: `labels()` takes a
        # lock and builds its key on every call, on every request.
        self._request_series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        # Any token is a method to HTTP: a client inventing them must not invent series.
        method = method if method in _METHODS else "other"
        key = (method, route, status)
        series = self._request_series.get(key)
        if series is None:
            series = self._request_series[key] = (
                self._requests.labels(method, route, str(status)),
                self._latency.labels(method, route),
            )
        series[0].inc()
        series[1].observe(seconds)
        if self._container_state is not None:
            self._container_state.refresh(at_most_every_s=_SHARED_REFRESH_S)

    def money_moved(self, receipt: TransferReceipt) -> None:
        """Count a write's answer: a replay, or money that moved (a hold placed or voided
        moves none; a hold posted moves what was posted)."""
        transfer = receipt.transfer
        kind = transfer.kind.value
        if receipt.replayed:
            self._replays.labels(kind).inc()
            return
        self.posted(transfer)

    def posted(self, *transfers: Transfer) -> None:
        """Count what moved, one increment per series however many transfers (a batch has
        up to a thousand, and each increment takes a lock)."""
        movements: Tally[str] = Tally()
        moved: Tally[tuple[str, str]] = Tally()
        for transfer in transfers:
            if transfer.status is TransferStatus.POSTED and transfer.posted_amount is not None:
                movements[transfer.kind.value] += 1
                moved[transfer.kind.value, transfer.currency] += transfer.posted_amount
        for kind, count in movements.items():
            self._movements.labels(kind).inc(count)
        for (kind, currency), amount in moved.items():
            self._moved.labels(kind, currency).inc(amount)

    def refused(self, code: str) -> None:
        self._refusals.labels(code).inc()

    def watch(self, container: Container) -> None:
        """Report the pool and the retry count of the app's own container: read at scrape
        time; with shared metrics, copied to the shared files as requests end (at most once
        a second), so a scrape sees every worker's (each as of its last request)."""
        if self._shared is None:
            self.registry.register(_ContainerCollector(container))
        else:
            self._container_state = _SharedContainerState(container, self.registry)

    def render(self) -> bytes:
        if self._shared is None:
            exposition: bytes = generate_latest(self.registry)
            return exposition
        if self._container_state is not None:
            self._container_state.refresh(at_most_every_s=0)
        return render_shared(self._shared)


def _pool_state(container: Container) -> tuple[tuple[str, int], ...]:
    pool = container.engine().pool
    return (
        ("in_use", getattr(pool, "checkedout", lambda: 0)()),
        ("idle", getattr(pool, "checkedin", lambda: 0)()),
        ("overflow", max(0, getattr(pool, "overflow", lambda: 0)())),
    )


class _ContainerCollector(Collector):
    def __init__(self, container: Container) -> None:
        self._container = container

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        connections = GaugeMetricFamily(
            "hexbank_db_pool_connections", "Pooled database connections by state.", labels=["state"]
        )
        for state, value in _pool_state(self._container):
            connections.add_metric([state], value)
        yield connections
        yield CounterMetricFamily(
            "hexbank_transaction_retries",
            "Units of work run again after a serialization failure or deadlock.",
            value=self._container.transaction_retry().retries,
        )


class _SharedContainerState:
    """The same two metrics as `_ContainerCollector`, for shared (multiprocess) metrics: a
    collector's values would be the scraped worker's alone, so each worker writes its own
    to the shared files; the pool gauge is summed over the live workers."""

    def __init__(self, container: Container, registry: CollectorRegistry) -> None:
        self._container = container
        self._connections = Gauge(
            "hexbank_db_pool_connections",
            "Pooled database connections by state.",
            ["state"],
            registry=registry,
            multiprocess_mode="livesum",
        )
        self._retries = Counter(
            "hexbank_transaction_retries",
            "Units of work run again after a serialization failure or deadlock.",
            registry=registry,
        )
        self._retries_seen = 0
        self._refreshed_at = float("-inf")

    def refresh(self, *, at_most_every_s: float) -> None:
        now = time.monotonic()
        if now - self._refreshed_at < at_most_every_s:
            return
        self._refreshed_at = now
        for state, value in _pool_state(self._container):
            self._connections.labels(state).set(value)
        retries = self._container.transaction_retry().retries
        if retries > self._retries_seen:
            self._retries.inc(retries - self._retries_seen)
            self._retries_seen = retries
