from __future__ import annotations

from typing import Protocol


class EmailNormalizer(Protocol):
    def normalize(self, raw: str) -> str:
        """Check the syntax and return the one form the address is stored and compared in.

        Raise `InvalidEmail` for an address that cannot be used.
        """
        ...
