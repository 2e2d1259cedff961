"""Running Alembic from code, with the project's own configuration in pyproject.toml."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def alembic_config(database_url: str) -> Config:
    config = Config(toml_file=str(PROJECT_ROOT / "pyproject.toml"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> list[str]:
    """Blocking (Alembic's async env runs its own event loop): call it outside one. Returns
    the revisions it applied, oldest first (none when the database was up to date)."""
    config = alembic_config(database_url)
    before = current_revision(database_url)
    command.upgrade(config, revision)
    after = current_revision(database_url)
    if after == before:
        return []
    applied = ScriptDirectory.from_config(config).iterate_revisions(after, before)
    return [script.revision for script in reversed(list(applied))]


def current_revision(database_url: str) -> str | None:
    """The revision the database is at (None before the first migration). Blocking."""

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async def connect_and_read() -> str | None:
        engine = create_async_engine(database_url, poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(read)
        finally:
            await engine.dispose()

    return asyncio.run(connect_and_read())


def head_revision() -> str:
    """The newest revision in migrations/versions."""
    head = ScriptDirectory.from_config(alembic_config("")).get_current_head()
    if head is None:
        raise RuntimeError("migrations/versions holds no revision")
    return head


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


def autogenerate(database_url: str, message: str) -> Path:
    """Write a new revision from the difference between the tables and the database; return
    its file."""
    script = command.revision(alembic_config(database_url), message=message, autogenerate=True)
    if not isinstance(script, Script):  # several only with branch heads, which we never use
        raise RuntimeError("expected one new revision")
    return Path(script.path)
