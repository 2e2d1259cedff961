"""What `hexbank serve` and `hexbank relay` check before they start anything, and the banner
that tells a newcomer where the service and its events are.

A port in use or a data directory in use by another process is found here, in one line,
before the embedded PostgreSQL or NATS server starts (and has to be stopped again).
"""

from __future__ import annotations

import logging

import psutil

from adapters.embedded_nats import EmbeddedNats, StoreInUse, port_is_free
from entrypoints.broker import broker_description
from entrypoints.settings import ConfigurationError, Settings

logger = logging.getLogger("hexbank")


def check_http_port(host: str, port: int) -> None:
    """`ConfigurationError` when host:port cannot be listened on, naming who holds it."""
    if port_is_free(host, port):
        return
    holder = _listener(port)
    by = f" by process {holder}" if holder is not None else ""
    raise ConfigurationError(
        f"{host}:{port} is in use{by}: stop it, or set PORT (or --port) to another port"
    )


def check_embedded_nats(settings: Settings) -> None:
    """For the embedded NATS server (events on, no HEXBANK_NATS_URL): the data directory is
    not another live process's, and HEXBANK_NATS_PORT, if pinned, is free."""
    if settings.events == "off" or settings.nats_url is not None:
        return
    try:
        EmbeddedNats(settings.data_dir / "nats", settings.nats_port).check_free()
    except StoreInUse as in_use:
        raise ConfigurationError(
            f"{settings.data_dir} is in use by process {in_use.owner_pid}: stop it, or set "
            "HEXBANK_DATA_DIR to another folder"
        ) from None
    except Exception as error:  # the pinned port is taken
        raise ConfigurationError(f"HEXBANK_NATS_PORT={settings.nats_port}: {error}") from None


def log_banner(host: str, port: int, nats_url: str | None) -> None:
    """One line with everything a newcomer needs: the API, its docs, and the events."""
    base = f"http://{f'[{host}]' if ':' in host else host}:{port}"
    broker = broker_description(nats_url)
    events = (
        f"events on {broker['nats_url']}, stream {broker['stream']}, subjects {broker['subjects']}"
        if nats_url is not None
        else "events: feed only (HEXBANK_EVENTS=off)"
    )
    logger.info(f"hexbank on {base} (docs {base}/docs); {events}; feed {base}/api/v1/events")


def _listener(port: int) -> int | None:
    """The process listening on `port`, when the system lets us see it."""
    try:
        for connection in psutil.net_connections(kind="tcp"):
            if connection.status == psutil.CONN_LISTEN and connection.laddr.port == port:
                holder: int | None = connection.pid
                return holder
    except (psutil.Error, OSError):
        return None
    return None
