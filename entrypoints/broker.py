"""Which NATS server events go to: HEXBANK_NATS_URL, an embedded one under data_dir, or none."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from adapters.embedded_nats import EmbeddedNats
from entrypoints.settings import Settings


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
    with EmbeddedNats(settings.data_dir / "nats") as embedded:
        yield embedded.start()
