"""Running a money movement exactly once, shared by TransferFunds and Deposit."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from application.ports.clock import Clock
from application.ports.idempotency import IdempotencyKey, Outcome, StoredRequest
from application.ports.retry import TransactionRetry
from application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from domain.errors import DomainError, IdempotencyKeyReused, TransferNotFound
from domain.ledger import Posting
from domain.transfer import Transfer

IDEMPOTENCY_KEY_TTL = timedelta(hours=24)

Post = Callable[[UnitOfWork, datetime], Awaitable[Posting]]
"""Decides one posting in the given unit of work (locks taken, rules checked) at the given
time; the movement records it."""

FingerprintPart = str | int | UUID | None


@dataclass(frozen=True, slots=True)
class TransferReceipt:
    transfer: Transfer
    replayed: bool = False
    """True when the transfer was made by an earlier request with the same idempotency key."""


def fingerprint(*parts: FingerprintPart) -> str:
    """A digest of what a request asks for, to tell a retry from a different request.

    Canonical and typed: JSON keeps `None` (null) apart from the text "None" and 1 from "1";
    a UUID is tagged so it never equals the same text given as a string.
    """
    typed = [{"uuid": str(part)} if isinstance(part, UUID) else part for part in parts]
    canonical = json.dumps(typed, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class MoneyMovement:
    """One unit of work per attempt, retried whole on transient conflicts.

    The idempotency key, the request's fingerprint and its outcome are written in the same
    transaction as the posting, so no crash can separate the money from the record of it.
    Domain refusals are recorded too: a retry of a refused request is refused the same way.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        retry: TransactionRetry,
        key_ttl: timedelta = IDEMPOTENCY_KEY_TTL,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._retry = retry
        self._key_ttl = key_ttl

    async def run(
        self,
        post: Post,
        *,
        user_id: UUID,
        idempotency_key: str | None,
        request: tuple[FingerprintPart, ...],
    ) -> TransferReceipt:
        """Run `post` once. `request` names what is asked (the fingerprint's parts), so a
        reused key with a different request is told apart from a retry."""
        key = None
        if idempotency_key is not None:
            key = IdempotencyKey(user_id, idempotency_key, fingerprint(*request))
        return await self._retry.run(lambda: self._attempt(key, post))

    async def _attempt(self, key: IdempotencyKey | None, post: Post) -> TransferReceipt:
        now = self._clock.now()
        async with self._uow_factory() as uow:
            if key is not None:
                stored = await uow.idempotency.claim(
                    key, now=now, expired_before=now - self._key_ttl
                )
                if stored is not None:
                    return await _replay(uow, key, stored)
            try:
                posting = await post(uow, now)
            except DomainError as refusal:
                if key is not None:
                    await uow.idempotency.complete(key, Outcome.failed(refusal))
                    await uow.commit()
                raise
            await uow.ledger.record(posting)
            if key is not None:
                await uow.idempotency.complete(key, Outcome(transfer_id=posting.transfer.id))
            await uow.commit()
            return TransferReceipt(posting.transfer)


async def _replay(uow: UnitOfWork, key: IdempotencyKey, stored: StoredRequest) -> TransferReceipt:
    if stored.fingerprint != key.fingerprint:
        raise IdempotencyKeyReused("This Idempotency-Key was already used for a different request.")
    outcome = stored.outcome
    if outcome.transfer_id is None:
        refusal = DomainError.restore(outcome.error_code or "", outcome.error_detail or "")
        refusal.replayed = True
        raise refusal
    transfer = await uow.ledger.get_transfer(outcome.transfer_id)
    if transfer is None:  # transfers are never deleted; this means the store is damaged
        raise TransferNotFound(f"Transfer {outcome.transfer_id} not found.")
    return TransferReceipt(transfer, replayed=True)
