"""Structured logs with structlog: JSON lines in production, readable lines in a terminal.

Standard-library loggers (uvicorn, SQLAlchemy, ours) go through the same processors, so every
line carries the request id bound for the request being served.
"""

from __future__ import annotations

import logging
import sys
from typing import Literal

import structlog

LogFormat = Literal["auto", "json", "console"]


_SHARED: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure_structlog() -> None:
    """structlog hands its events to standard logging; where they go is the process's
    choice (configure_logging for `hexbank serve`, pytest's capture in tests)."""
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,  # first: a filtered line costs nothing more
            *_SHARED,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def configure_logging(level: str = "info", log_format: LogFormat = "auto") -> None:
    as_json = log_format == "json" or (log_format == "auto" and not sys.stderr.isatty())
    shared = _SHARED
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if as_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    configure_structlog()
    handler = logging.StreamHandler()
    handler._hexbank = True  # type: ignore[attr-defined]
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info if as_json else _keep,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if not getattr(h, "_hexbank", False)]
    root.addHandler(handler)
    root.setLevel(level.upper())
    # uvicorn's own access log is replaced by ours, which knows the route and request id.
    logging.getLogger("uvicorn.access").handlers.clear()
    logging.getLogger("uvicorn.access").propagate = False
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True


def _keep(_: object, __: str, event: structlog.types.EventDict) -> structlog.types.EventDict:
    return event
