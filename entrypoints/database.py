"""Which PostgreSQL the process uses: DATABASE_URL, or the embedded one under data_dir."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from adapters.embedded_postgres import EmbeddedPostgres
from entrypoints.settings import Settings


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """Yield the URL to use; an embedded server started here is stopped on the way out."""
    if settings.database_url is not None:
        yield settings.database_url
        return
    with EmbeddedPostgres(settings.data_dir) as embedded:
        yield embedded.start()
