"""A customer of the bank and the rules for the data they register with."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.errors import InvalidFullName, InvalidPassword
from domain.ids import new_id

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128
FULL_NAME_MAX_LENGTH = 200
EMAIL_MAX_LENGTH = 254
"""RFC 5321's limit on a whole address (a path of 256 less its angle brackets)."""
_FORBIDDEN = {"Cc", "Cs"}  # control characters, lone surrogates


@dataclass(frozen=True, slots=True)
class User:
    """A registered person. `email` is stored normalized, so comparisons are exact."""

    id: UUID
    email: str
    full_name: str
    password_hash: str
    created_at: datetime
    is_active: bool = True

    @classmethod
    def register(cls, *, email: str, full_name: str, password_hash: str, now: datetime) -> User:
        return cls(
            id=new_id(),
            email=email,
            full_name=normalize_full_name(full_name),
            password_hash=password_hash,
            created_at=now,
        )


def require_valid_password(password: str) -> None:
    """Length is counted in characters; the hash takes any Unicode, so no composition rules."""
    if not PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH:
        raise InvalidPassword(
            f"A password must be {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters long."
        )
    if "\x00" in password or any(unicodedata.category(ch) == "Cs" for ch in password):
        raise InvalidPassword("A password cannot contain NUL characters or lone surrogates.")


def normalize_full_name(raw: str) -> str:
    """NFC-normalize and trim; refuse control characters and names that are only invisible."""
    name = unicodedata.normalize("NFC", raw).strip()
    if any(unicodedata.category(ch) in _FORBIDDEN for ch in name):
        raise InvalidFullName("A full name cannot contain control characters or lone surrogates.")
    visible = "".join(ch for ch in name if unicodedata.category(ch) not in {"Cf", "Zs"})
    if not visible:
        raise InvalidFullName("A full name cannot be empty.")
    if len(name) > FULL_NAME_MAX_LENGTH:
        raise InvalidFullName(f"A full name is at most {FULL_NAME_MAX_LENGTH} characters long.")
    return name
