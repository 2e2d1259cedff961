"""A statement: every entry of one account over a range, between its opening and its
closing link of the hash chain, so that anyone can check it is whole (domain/chain.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.chain import ChainBreak, ChainedEntry, ChainStart, ChainVerifier
from domain.errors import InvalidStatementRange, StatementTooLarge


@dataclass(frozen=True, slots=True)
class Statement:
    account_id: UUID
    currency: str
    since: datetime | None
    """Entries at or after it (None: from the account's first)."""
    until: datetime | None
    """Entries before it (None: every entry written when it was generated)."""
    generated_at: datetime
    opening: ChainStart
    """The account after its last entry before the range (0, 0, 32 zero bytes before any)."""
    entries: tuple[ChainedEntry, ...]

    @property
    def closing(self) -> ChainStart:
        """The account after the range's last entry: the opening of the next range."""
        if not self.entries:
            return self.opening
        last = self.entries[-1]
        return ChainStart(last.balance_after, last.sequence, last.entry_hash)

    def first_break(self) -> ChainBreak | None:
        """Where the entries do not chain from the opening (None: they do, to the closing)."""
        verifier = ChainVerifier(self.opening)
        for entry in self.entries:
            found = verifier.check(entry)
            if found is not None:
                return found
        return None


def require_statement_range(since: datetime | None, until: datetime | None) -> None:
    if since is not None and until is not None and since > until:
        raise InvalidStatementRange("A statement's `from` must not be after its `to`.")


def require_statement_size(entries: int, max_entries: int) -> None:
    """One statement is read, signed and sent whole: bounded, so an export cannot exhaust the
    server's memory."""
    if entries > max_entries:
        raise StatementTooLarge(
            f"A statement holds at most {max_entries} entries; ask for a shorter range."
        )
