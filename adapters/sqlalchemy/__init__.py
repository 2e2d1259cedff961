"""PostgreSQL persistence with SQLAlchemy 2 (Core statements on an AsyncConnection, asyncpg)."""
