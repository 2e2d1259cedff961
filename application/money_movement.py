"""Running a money movement exactly once, shared by TransferFunds and Deposit."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from application.ports.clock import Clock
from application.ports.idempotency import IdempotencyKey, Outcome, StoredRequest
from application.ports.retry import TransactionRetry
from application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from domain.account import Account
from domain.errors import DomainError, IdempotencyKeyReused, TransferNotFound
from domain.ledger import post_transfer
from domain.money import Money
from domain.transfer import Transfer

IDEMPOTENCY_KEY_TTL = timedelta(hours=24)

Post = Callable[[UnitOfWork, datetime], Awaitable[Transfer]]
"""Writes one posting in the given unit of work, at the given time, and returns its transfer."""


@dataclass(frozen=True, slots=True)
class TransferReceipt:
    transfer: Transfer
    replayed: bool = False
    """True when the transfer was made by an earlier request with the same idempotency key."""


def fingerprint(*parts: object) -> str:
    """A digest of what a request asks for, to tell a retry from a different request."""
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()


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
        request: tuple[object, ...],
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
                transfer = await post(uow, now)
            except DomainError as refusal:
                if key is not None:
                    await uow.idempotency.complete(key, Outcome.failed(refusal))
                    await uow.commit()
                raise
            if key is not None:
                await uow.idempotency.complete(key, Outcome(transfer_id=transfer.id))
            await uow.commit()
            return TransferReceipt(transfer)


async def record_transfer(
    uow: UnitOfWork,
    *,
    source: Account,
    destination: Account,
    amount: Money,
    description: str | None,
    now: datetime,
) -> Transfer:
    """Post between two locked accounts and write the result; the domain checks the rules."""
    posting = post_transfer(
        transfer_id=uuid4(),
        source=source,
        destination=destination,
        amount=amount,
        description=description,
        now=now,
    )
    await uow.ledger.record(posting)
    return posting.transfer


async def _replay(uow: UnitOfWork, key: IdempotencyKey, stored: StoredRequest) -> TransferReceipt:
    if stored.fingerprint != key.fingerprint:
        raise IdempotencyKeyReused("This Idempotency-Key was already used for a different request.")
    outcome = stored.outcome
    if outcome.transfer_id is None:
        raise DomainError.restore(outcome.error_code or "", outcome.error_detail or "")
    transfer = await uow.ledger.get_transfer(outcome.transfer_id)
    if transfer is None:  # transfers are never deleted; this means the store is damaged
        raise TransferNotFound(f"Transfer {outcome.transfer_id} not found.")
    return TransferReceipt(transfer, replayed=True)
