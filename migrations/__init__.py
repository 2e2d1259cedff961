"""hexbank's Alembic migrations, a package so that they ship in the wheel and are found
wherever hexbank is installed (adapters/sqlalchemy/migrations.py builds the configuration)."""
