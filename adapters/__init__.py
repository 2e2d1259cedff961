"""Implementations of the application's ports: PostgreSQL, in-memory fakes, crypto, time."""
