"""Domain objects as rows: one mapping each, shared by the adapters that write or read them
(the ledger writes events in its own statement, the outbox on its own: neither imports the
other)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import fields
from operator import attrgetter
from typing import Any

from sqlalchemy import ARRAY, DateTime, Integer, Text, Uuid, bindparam

from adapters.sqlalchemy.tables import transfers
from application.events import Event
from domain.conversion import Conversion
from domain.transfer import Transfer, TransferKind, TransferStatus

TRANSFER_FIELDS = tuple(field.name for field in fields(Transfer))
"""A transfer's fields are its row's columns, by name (a unit test holds them together)."""
_FROM_COLUMN: dict[str, Any] = {"kind": TransferKind, "status": TransferStatus, "metadata": dict}
_TO_COLUMN: dict[str, Any] = {
    "kind": attrgetter("value"),
    "status": attrgetter("value"),
    "metadata": json.dumps,
}


def transfer_from_row(row: Any) -> Transfer:
    values = row._mapping
    return Transfer(
        **{name: _FROM_COLUMN.get(name, _same)(values[name]) for name in TRANSFER_FIELDS}
    )


def transfer_columns(rows: Iterable[Transfer], prefix: str) -> dict[str, list[Any]]:
    """Transfers as one array per column, the bound values of `unnest_transfers(prefix)`
    (metadata as JSON text)."""
    listed = list(rows)
    columns = {}
    for name in TRANSFER_FIELDS:
        values = list(map(attrgetter(name), listed))
        encode = _TO_COLUMN.get(name)
        columns[prefix + name] = values if encode is None else list(map(encode, values))
    return columns


def unnest_transfers(prefix: str) -> str:
    """Rows of transfers from the arrays of `transfer_columns(..., prefix)`, named as the
    table's columns."""
    arrays = ", ".join(f":{prefix}{name}" for name in TRANSFER_FIELDS)
    return f"unnest({arrays}) AS {prefix}rows ({', '.join(TRANSFER_FIELDS)})"


def transfer_array_types(prefix: str) -> tuple[Any, ...]:
    return tuple(
        bindparam(
            prefix + column.name, type_=ARRAY(Text if column.name == "metadata" else column.type)
        )
        for column in transfers.c
    )


def _same(value: Any) -> Any:
    return value


# The events of a unit of work, as one INSERT from arrays; also a CTE of the ledger's own
# statement, so a money movement and its events are one round trip.
EVENTS_INSERT = (
    "INSERT INTO events (id, type, occurred_at, schema_version, data, accounts, user_ids,"
    " traceparent)"
    " SELECT id, type, occurred_at, schema_version, data::json, accounts::json,"
    " string_to_array(user_ids, ',')::uuid[], traceparent"
    " FROM unnest(:e_ids, :e_types, :e_occurred_ats, :e_versions, :e_datas, :e_accounts,"
    " :e_user_ids, :e_traceparents)"
    " AS e(id, type, occurred_at, schema_version, data, accounts, user_ids, traceparent)"
)
EVENTS_TYPES = (
    bindparam("e_ids", type_=ARRAY(Uuid)),
    bindparam("e_types", type_=ARRAY(Text)),
    bindparam("e_occurred_ats", type_=ARRAY(DateTime(timezone=True))),
    bindparam("e_versions", type_=ARRAY(Integer)),
    bindparam("e_datas", type_=ARRAY(Text)),
    bindparam("e_accounts", type_=ARRAY(Text)),
    bindparam("e_user_ids", type_=ARRAY(Text)),
    bindparam("e_traceparents", type_=ARRAY(Text)),
)


def event_values(events: Sequence[Event]) -> dict[str, Any]:
    """The bound values of `EVENTS_INSERT`: each event with the trace it was built with."""
    return {
        "e_ids": [e.id for e in events],
        "e_types": [e.type for e in events],
        "e_occurred_ats": [e.occurred_at for e in events],
        "e_versions": [e.schema_version for e in events],
        "e_datas": [json.dumps(e.data) for e in events],
        "e_accounts": [_accounts_json(e) for e in events],
        "e_user_ids": [",".join(str(u) for u in e.user_ids) for e in events],
        "e_traceparents": [e.traceparent for e in events],
    }


def _accounts_json(event: Event) -> str:
    return json.dumps(
        [
            {
                **state.document(),
                "owner_id": None if state.owner_id is None else str(state.owner_id),
            }
            for state in event.accounts
        ]
    )


CONVERSION_FIELDS = tuple(field.name for field in fields(Conversion))
"""A conversion's fields are its row's columns, by name."""


def conversion_values(conversion: Conversion) -> dict[str, Any]:
    return {name: getattr(conversion, name) for name in CONVERSION_FIELDS}


def conversion_from_row(row: Any) -> Conversion:
    values = row._mapping
    return Conversion(
        **{name: values[name] for name in CONVERSION_FIELDS if name != "metadata"},
        metadata=dict(values["metadata"]),
    )
