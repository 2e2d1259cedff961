"""Which NATS server events go to: HEXBANK_NATS_URL, an embedded one under data_dir, or none."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from adapters.embedded_nats import EmbeddedNats
from application.ports.event_publisher import STREAM_NAME, SUBJECT_PREFIX
from entrypoints.settings import Settings

SUBJECTS = f"{SUBJECT_PREFIX}.>"
"""Every event's subject: `hexbank.events.<type>`."""


@contextmanager
def broker_url(settings: Settings) -> Iterator[str | None]:
    """Yield the URL to deliver to (None with HEXBANK_EVENTS=off); an embedded server started
    here is stopped on the way out, like the embedded PostgreSQL."""
    if settings.events == "off":
        yield None
        return
    if settings.nats_url is not None:
        yield settings.nats_url
        return
    with EmbeddedNats(settings.data_dir / "nats", settings.nats_port) as embedded:
        yield embedded.start()


def broker_description(nats_url: str | None) -> dict[str, str | None]:
    """Where a consumer finds the events: the broker (without any credentials in its URL),
    the stream and the subjects; all None when no broker is used (HEXBANK_EVENTS=off)."""
    if nats_url is None:
        return {"nats_url": None, "stream": None, "subjects": None}
    return {"nats_url": _without_credentials(nats_url), "stream": STREAM_NAME, "subjects": SUBJECTS}


def _without_credentials(url: str) -> str:
    """nats://user:secret@host:4222 (or a comma-separated list of them) as nats://host:4222."""
    return re.sub(r"//[^/@,]*@", "//", url)
