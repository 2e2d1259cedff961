from __future__ import annotations

from application.ports.statement_signer import StatementKey, StatementSigner

MAX_STATEMENT_KEYS = 100
"""Keys one listing publishes, the current one included: the answer stays small, and a
longer list of previous keys is refused at start (HEXBANK_STATEMENT_PREVIOUS_PUBLIC_KEYS)."""


class ListStatementKeys:
    """The public keys statements are checked with, current first: published without
    authentication, so an auditor needs nothing from the bank but the file and these."""

    def __init__(self, signer: StatementSigner) -> None:
        self._signer = signer

    def __call__(self) -> list[StatementKey]:
        return self._signer.public_keys()
