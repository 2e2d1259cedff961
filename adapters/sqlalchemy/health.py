from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


class DatabaseHealth:
    """Readiness: the database answers `SELECT 1` within a short timeout."""

    def __init__(self, engine: AsyncEngine, timeout_s: float) -> None:
        self._engine = engine
        self._timeout_s = timeout_s

    async def is_ready(self) -> bool:
        try:
            async with asyncio.timeout(self._timeout_s), self._engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:  # any failure means "not ready"; the probe must never raise
            return False
        return True
