"""PostgreSQL persistence with SQLAlchemy 2 (Core statements in an AsyncSession, asyncpg)."""
