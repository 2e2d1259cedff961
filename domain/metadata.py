"""Metadata and references: how users tie ledger records to their own world (an order id, an
invoice). The rules live here; the HTTP schema states the same limits from these constants."""

from __future__ import annotations

import re
from collections.abc import Mapping

from domain.errors import InvalidMetadata, InvalidReference

METADATA_MAX_KEYS = 20
METADATA_KEY_MAX_LENGTH = 40
METADATA_VALUE_MAX_LENGTH = 500
METADATA_KEY_PATTERN = r"^[A-Za-z0-9_.-]{1,40}$"
REFERENCE_MAX_LENGTH = 64
REFERENCE_PATTERN = r"^[\x21-\x7E]{1,64}$"
"""1 to 64 visible ASCII characters: printable, no spaces."""

_KEY = re.compile(METADATA_KEY_PATTERN)
_REFERENCE = re.compile(REFERENCE_PATTERN)
_CONTROL_OR_SURROGATE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
"""Unicode's categories Cc (control) and Cs (surrogate): both fixed ranges, so one search
replaces a category lookup per character."""

Metadata = dict[str, str]


def require_metadata(raw: Mapping[str, str] | None) -> Metadata:
    """A copy of valid metadata, exactly as given (no normalisation: returned as sent)."""
    if raw is None:
        return {}
    if len(raw) > METADATA_MAX_KEYS:
        raise InvalidMetadata(f"Metadata holds at most {METADATA_MAX_KEYS} keys.")
    for key, value in raw.items():
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise InvalidMetadata(
                f"A metadata key is 1 to {METADATA_KEY_MAX_LENGTH} characters of "
                "A-Z, a-z, 0-9, '_', '.' and '-'."
            )
        require_metadata_value(value)
    return dict(raw)


def require_metadata_value(value: object) -> str:
    if not isinstance(value, str) or len(value) > METADATA_VALUE_MAX_LENGTH:
        raise InvalidMetadata(
            f"A metadata value is text of at most {METADATA_VALUE_MAX_LENGTH} characters."
        )
    if _CONTROL_OR_SURROGATE.search(value):
        raise InvalidMetadata(
            "A metadata value cannot contain control characters or lone surrogates."
        )
    return value


def merge_metadata(current: Mapping[str, str], changes: Mapping[str, str | None]) -> Metadata:
    """Merge semantics: a key with a value sets it, a key with None removes it."""
    merged = dict(current)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return require_metadata(merged) if changes else merged


def require_reference(raw: str | None) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not _REFERENCE.fullmatch(raw):
        raise InvalidReference(
            f"A reference is 1 to {REFERENCE_MAX_LENGTH} visible ASCII characters, no spaces."
        )
    return raw
