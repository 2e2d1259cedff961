"""In-memory implementations of the persistence ports, for fast tests of the use cases.

They follow the same contract tests as the SQLAlchemy ones, so they cannot drift from them.
"""
