"""Serving the API with uvicorn, as `hexbank serve` does: the connection limits of
entrypoints/http/connection_limits.py on the API's port, an open-file limit that lets the
connection cap (not "too many open files") be what refuses, and the /metrics listener on its
own address.

The metrics listener runs once per `hexbank serve`: a uvicorn server on a thread of the
process that owns the port, beside the API. In one process it renders the app's registry;
under `--workers N` it runs in the supervisor and renders every worker's shared files
(entrypoints/observability/multiprocess.py), so one scrape covers them all.
"""

from __future__ import annotations

import logging
import resource
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from entrypoints.http.connection_limits import ConnectionLimits, LimitedConfig
from entrypoints.interrupts import noted_while_serving, raise_if_interrupted
from entrypoints.observability.metrics_endpoint import MetricsEndpoint
from entrypoints.observability.multiprocess import render_shared, shared_directory
from entrypoints.settings import ConfigurationError, Settings

WORKER_APP = "entrypoints.asgi:create"
FILES_BESIDE_CONNECTIONS = 256
"""Open files a server process needs besides its clients' connections and its database
pools: listeners, the broker, logs, the event loop's own."""
METRICS_STOP_S = 5.0

logger = logging.getLogger("hexbank")


def serve(settings: Settings, app: FastAPI, host: str, port: int) -> None:
    """Serve `app` in this process until SIGINT or SIGTERM (uvicorn's graceful shutdown, then
    the signal is raised again for the caller)."""
    make_room_for_connections(settings)
    server = uvicorn.Server(_config(settings, app, host=host, port=port))
    with (
        metrics_listener(settings, app.state.metrics.render),
        suppress(KeyboardInterrupt),
        noted_while_serving(),
    ):
        server.run()
    raise_if_interrupted()  # the signal uvicorn stopped on, for the caller
    if not server.started:  # uvicorn logged why (the port is taken, the lifespan failed)
        sys.exit(STARTUP_FAILURE)


def serve_workers(settings: Settings, workers: int, host: str, port: int) -> None:
    """Serve `workers` processes of `entrypoints.asgi:create` on one port. The metrics files
    they share must be set up already (`metrics_shared_by_workers`)."""
    directory = shared_directory()
    if directory is None:
        raise RuntimeError("worker processes need PROMETHEUS_MULTIPROC_DIR to share metrics")
    make_room_for_connections(settings)  # the workers inherit the raised limit
    config = _config(
        settings,
        WORKER_APP,
        factory=True,
        workers=workers,
        host=host,
        port=port,
        timeout_worker_healthcheck=settings.worker_healthcheck_s,
    )
    with (
        metrics_listener(settings, lambda: render_shared(directory)),
        suppress(KeyboardInterrupt),
        noted_while_serving(),
    ):
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    raise_if_interrupted()


def connection_limits(settings: Settings) -> ConnectionLimits:
    return ConnectionLimits(
        max_header_bytes=settings.max_header_bytes,
        header_timeout_s=settings.header_timeout_s,
        max_connections=settings.max_connections,
    )


def _config(settings: Settings, app: Any, **options: Any) -> LimitedConfig:
    return LimitedConfig(
        app,
        connection_limits(settings),
        timeout_keep_alive=settings.keep_alive_timeout_s,
        log_config=None,
        access_log=False,
        # Forwarded headers are the app's business (HEXBANK_TRUSTED_PROXIES), not uvicorn's,
        # which would believe them from 127.0.0.1 by default.
        proxy_headers=False,
        **options,
    )


def make_room_for_connections(settings: Settings) -> None:
    """Raise this process's soft open-file limit to fit HEXBANK_MAX_CONNECTIONS (children
    inherit it). A hard limit too low for it is refused: past it, accepting a connection
    would fail for everyone, the health checks included, before the cap refused anyone."""
    needed = (
        settings.max_connections
        + FILES_BESIDE_CONNECTIONS
        + 2 * (settings.db_pool_size + settings.db_max_overflow)  # primary and replica
    )
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            raise ConfigurationError(
                f"HEXBANK_MAX_CONNECTIONS={settings.max_connections} needs {needed} open "
                f"files, but their hard limit (ulimit -Hn) is {hard}: lower it, or raise "
                "the limit"
            )
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


@contextmanager
def metrics_listener(settings: Settings, render: Callable[[], bytes]) -> Iterator[int]:
    """/metrics on HEXBANK_METRICS_HOST:HEXBANK_METRICS_PORT while the block runs; its port.
    A port that cannot be had is refused here, before the API serves."""
    host = settings.metrics_host
    listener = _listening_socket(host, settings.metrics_port)
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    config = LimitedConfig(
        MetricsEndpoint(render, token),
        connection_limits(settings),
        lifespan="off",
        timeout_keep_alive=settings.keep_alive_timeout_s,
        log_config=None,
        access_log=False,
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name="metrics", daemon=True
    )
    thread.start()
    port: int = listener.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    logger.info("metrics on http://%s:%d/metrics", shown, port)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=METRICS_STOP_S)
        listener.close()


def _listening_socket(host: str, port: int) -> socket.socket:
    address = host.strip("[]")
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((address, port))
    except OSError as error:
        listener.close()
        raise ConfigurationError(
            f"HEXBANK_METRICS_PORT: cannot listen on {host}:{port} ({error.strerror})"
        ) from None
    return listener
