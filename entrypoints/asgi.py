"""The app for a process manager: `uvicorn entrypoints.asgi:create --factory`.

Each worker process builds its own container from the environment; `hexbank serve
--workers N` starts workers this way. The database must be named by DATABASE_URL here.
"""

from __future__ import annotations

from fastapi import FastAPI

from entrypoints.app import create_app
from entrypoints.container import build_container
from entrypoints.observability.logging import configure_logging
from entrypoints.settings import load_settings


def create() -> FastAPI:
    settings = load_settings()
    if settings.database_url is None:
        raise RuntimeError("Worker processes need DATABASE_URL; the embedded server serves one.")
    configure_logging(settings.log_level, settings.log_format)
    nats = None if settings.events == "off" else settings.nats_url
    return create_app(build_container(settings, settings.database_url, nats))
