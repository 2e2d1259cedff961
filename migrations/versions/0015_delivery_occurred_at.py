"""event_deliveries.occurred_at: the relay's backlog is counted from its queue alone.

The count joined the queue to `events` for the oldest event's time. A plan cached while both
tables were empty (a fresh database, or one just vacuumed) is a nested loop of two sequential
scans, kept by the relay's prepared statement as both grow (docs/performance.md, "The relay
beside c)"). With the time on the queue row, any plan reads only the backlog.

The upgrade holds every event write, and so every movement, while it copies the time into the
rows still queued: a moment for a relay that keeps up, longer after a broker outage.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_QUEUE = """
CREATE OR REPLACE FUNCTION queue_for_delivery() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO event_deliveries ({columns})
    SELECT {columns} FROM new_events;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    # As in 0007: no event is written between the copy below and the new trigger.
    op.execute("LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE")
    op.add_column(
        "event_deliveries", sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.execute(
        "UPDATE event_deliveries AS d SET occurred_at = e.occurred_at"
        " FROM events AS e WHERE e.position = d.position"
    )
    op.alter_column("event_deliveries", "occurred_at", nullable=False)
    op.execute(_QUEUE.format(columns="position, transaction_id, occurred_at"))


def downgrade() -> None:
    # Both ways: a writer whose trigger already runs one body must not meet the other's table.
    op.execute("LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE")
    op.execute(_QUEUE.format(columns="position, transaction_id"))
    op.drop_column("event_deliveries", "occurred_at")
