"""Opaque page cursors: what a client hands back is decoded into typed, range-checked values
before any of it reaches the database; anything else is `InvalidPage` (422), never a 500."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from uuid import UUID

from application.errors import InvalidPage

_MALFORMED = "The cursor is malformed."


def encode_cursor(fields: Mapping[str, str | int]) -> str:
    raw = json.dumps(dict(fields), separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, object]:
    """The cursor's fields, or `InvalidPage` when it is not one of ours at all."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise InvalidPage(_MALFORMED) from error
    if not isinstance(data, dict):
        raise InvalidPage(_MALFORMED)
    return data


def uuid_field(fields: Mapping[str, object], name: str) -> UUID:
    value = fields.get(name)
    if not isinstance(value, str):
        raise InvalidPage(_MALFORMED)
    try:
        return UUID(value)
    except ValueError as error:
        raise InvalidPage(_MALFORMED) from error


def int_field(fields: Mapping[str, object], name: str, *, low: int, high: int) -> int:
    """An integer in [low, high]: JSON floats, booleans and out-of-range numbers are refused."""
    value = fields.get(name)
    if type(value) is not int or not low <= value <= high:
        raise InvalidPage(_MALFORMED)
    return value


def encode_keyset(moment: datetime, item_id: UUID) -> str:
    """A cursor after (or before) one item of a list ordered on (created_at, id)."""
    return encode_cursor({"t": moment.isoformat(), "i": str(item_id)})


def decode_keyset(cursor: str) -> tuple[datetime, UUID]:
    """The (created_at, id) an `encode_keyset` cursor names, or `InvalidPage`."""
    fields = decode_cursor(cursor)
    moment = fields.get("t")
    if not isinstance(moment, str):
        raise InvalidPage(_MALFORMED)
    try:
        created_at = datetime.fromisoformat(moment)
        # Aware, and an instant the store can hold: the calendar's far edges overflow on the
        # way to UTC, and that must be a 422 here, not a failure in the database driver.
        if created_at.tzinfo is None:
            raise ValueError("a cursor's time carries its offset")
        created_at = created_at.astimezone(UTC)
    except (ValueError, OverflowError) as error:
        raise InvalidPage(_MALFORMED) from error
    return created_at, uuid_field(fields, "i")
