"""Opaque page cursors: what a client hands back is decoded into typed, range-checked values
before any of it reaches the database; anything else is `InvalidPage` (422), never a 500."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
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
