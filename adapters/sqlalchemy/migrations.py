"""Running Alembic from code, with its configuration built here: no alembic.ini and no
pyproject.toml to find, so a hexbank installed from its wheel migrates as a checkout does."""

from __future__ import annotations

import asyncio
from importlib.resources import files
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

MIGRATIONS_PACKAGE = "migrations"
"""Where the revisions live: the top-level `migrations/` of a checkout (an editable install
imports it from there, so `hexbank revision` writes into migrations/versions), or the copy a
wheel installs into site-packages."""
FILE_TEMPLATE = "%(rev)s_%(slug)s"
"""A new revision's file name: its revision id and its message, no date."""


def script_location() -> Path:
    """The migrations package's folder. Alembic reads env.py and versions/ as files, so it must
    be a folder on disk (a wheel installs it as one; a zip import would not do)."""
    location = files(MIGRATIONS_PACKAGE)
    if not isinstance(location, Path):
        raise RuntimeError(f"the {MIGRATIONS_PACKAGE} package is not a folder: {location}")
    return location


def alembic_config(database_url: str) -> Config:
    config = Config()
    # Options pass through ConfigParser's interpolation: a literal % is written %%.
    config.set_main_option("script_location", str(script_location()).replace("%", "%%"))
    config.set_main_option("file_template", FILE_TEMPLATE.replace("%", "%%"))
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
