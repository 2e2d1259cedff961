"""A transfer and its row: one mapping, both ways, over the table's own columns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from uuid import uuid4

from adapters.sqlalchemy.rows import TRANSFER_FIELDS, transfer_columns, transfer_from_row
from adapters.sqlalchemy.tables import transfers
from domain.transfer import Transfer, TransferKind, TransferStatus

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_transfers_fields_are_its_rows_columns() -> None:
    assert list(TRANSFER_FIELDS) == [column.name for column in transfers.c]


def test_a_transfer_survives_its_row() -> None:
    hold = Transfer(
        id=uuid4(),
        from_account_id=uuid4(),
        to_account_id=uuid4(),
        amount=500,
        currency="EUR",
        description="rent",
        created_at=NOW,
        kind=TransferKind.TRANSFER,
        status=TransferStatus.PENDING,
        expires_at=NOW + timedelta(minutes=5),
        reference="invoice-7",
        metadata={"order": "42"},
        created_by=uuid4(),
    )
    columns = transfer_columns([hold], "n_")
    assert columns["n_kind"] == ["transfer"]
    assert columns["n_status"] == ["pending"]
    assert columns["n_metadata"] == ['{"order": "42"}']
    stored = {name: columns["n_" + name][0] for name in TRANSFER_FIELDS}
    stored["metadata"] = {"order": "42"}  # as the store hands jsonb back
    read = transfer_from_row(SimpleNamespace(_mapping=stored))
    assert read == hold
    assert read.status is TransferStatus.PENDING
