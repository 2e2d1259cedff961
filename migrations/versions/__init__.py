"""The revisions, one module each (Alembic reads the files; this makes the folder a package
the wheel carries)."""
