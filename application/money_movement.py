"""Running a money movement exactly once: one transfer, a hold's next step, or a batch."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar
from uuid import UUID

from application.events import TraceContext, posting_events, untraced
from application.moment import Moment
from application.ports.clock import Clock
from application.ports.idempotency import IdempotencyKey, Outcome, StoredRequest
from application.ports.retry import TransactionRetry
from application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from domain.errors import DomainError, IdempotencyKeyReused, TransferNotFound
from domain.ledger import Posting
from domain.transfer import Transfer

IDEMPOTENCY_KEY_TTL = timedelta(hours=24)
R = TypeVar("R")

Post = Callable[[UnitOfWork, Moment], Awaitable[Posting]]
"""Decides one posting in the given unit of work (locks taken through the moment, rules
checked at its time once they are held); the movement records it."""

FingerprintPart = str | int | bool | UUID | None | tuple["FingerprintPart", ...]


@dataclass(frozen=True, slots=True)
class TransferReceipt:
    transfer: Transfer
    replayed: bool = False
    """True when the transfer was made by an earlier request with the same idempotency key."""


@dataclass(frozen=True, slots=True)
class ItemResult:
    """One item of a batch: the transfer it made, or the refusal it met."""

    transfer: Transfer | None = None
    refusal: DomainError | None = None


@dataclass(frozen=True, slots=True)
class BatchDecision:
    """What a batch decided: the postings to write, and one result per item, in order."""

    postings: Sequence[Posting]
    results: Sequence[ItemResult]


@dataclass(frozen=True, slots=True)
class BatchReceipt:
    results: tuple[ItemResult, ...]
    replayed: bool = False


class BatchRefused(Exception):
    """An atomic batch stopped at item `index`, refused with `refusal`; nothing moved."""

    def __init__(self, index: int, refusal: DomainError) -> None:
        super().__init__(refusal.detail)
        self.index = index
        self.refusal = refusal


DecideBatch = Callable[[UnitOfWork, Moment], Awaitable[BatchDecision]]


def fingerprint(*parts: FingerprintPart) -> str:
    """A digest of what a request asks for, to tell a retry from a different request.

    Canonical and typed: JSON keeps `None` (null) apart from the text "None", 1 from "1"
    and true from 1; a UUID is tagged so it never equals the same text given as a string.
    """
    canonical = json.dumps(_typed(parts), ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _typed(part: FingerprintPart) -> object:
    if isinstance(part, UUID):
        return {"uuid": str(part)}
    if isinstance(part, bool):
        return {"bool": part}
    if isinstance(part, tuple):
        return [_typed(item) for item in part]
    return part


class MoneyMovement:
    """One unit of work per attempt, retried whole on transient conflicts.

    The idempotency key, the request's fingerprint and its outcome are written in the same
    transaction as the postings, so no crash can separate the money from the record of it.
    Domain refusals are recorded too: a retry of a refused request is refused the same way.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        retry: TransactionRetry,
        key_ttl: timedelta = IDEMPOTENCY_KEY_TTL,
        trace: TraceContext = untraced,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._retry = retry
        self._key_ttl = key_ttl
        self._trace = trace

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

        async def work(uow: UnitOfWork, moment: Moment) -> tuple[TransferReceipt, Outcome]:
            posting = await post(uow, moment)
            events = posting_events(posting, moment.now, traceparent=self._trace())
            await uow.ledger.record(posting, events)
            return TransferReceipt(posting.transfer), Outcome(transfer_id=posting.transfer.id)

        key = scoped_key(user_id, idempotency_key, request)
        return await self._retry.run(lambda: self._attempt(key, work, _replay_transfer))

    async def run_batch(
        self,
        decide: DecideBatch,
        *,
        user_id: UUID,
        idempotency_key: str | None,
        request: tuple[FingerprintPart, ...],
    ) -> BatchReceipt:
        """Run a batch once, in one unit of work: its postings are written together."""

        async def work(uow: UnitOfWork, moment: Moment) -> tuple[BatchReceipt, Outcome]:
            decision = await decide(uow, moment)
            trace = self._trace()
            events = [
                event
                for posting in decision.postings
                for event in posting_events(posting, moment.now, traceparent=trace)
            ]
            await uow.ledger.record_many(decision.postings, events)
            items = tuple(_item_outcome(result) for result in decision.results)
            return BatchReceipt(tuple(decision.results)), Outcome(items=items)

        key = scoped_key(user_id, idempotency_key, request)
        return await self._retry.run(lambda: self._attempt(key, work, _replay_batch))

    async def _attempt(
        self,
        key: IdempotencyKey | None,
        work: Callable[[UnitOfWork, Moment], Awaitable[tuple[R, Outcome]]],
        replay: Callable[[UnitOfWork, Outcome, datetime], Awaitable[R]],
    ) -> R:
        moment = Moment(self._clock)
        now = moment.now
        async with self._uow_factory() as uow:
            if key is not None:
                stored = await uow.idempotency.claim(
                    key, now=now, expired_before=now - self._key_ttl
                )
                if stored is not None:
                    return await replay(uow, reusable(key, stored), now)
            try:
                result, outcome = await work(uow, moment)
            except DomainError as refusal:
                await self._record_refusal(uow, key, Outcome.failed(refusal))
                raise
            except BatchRefused as refused:
                outcome = Outcome.failed(refused.refusal, refused.index)
                await self._record_refusal(uow, key, outcome)
                raise
            if key is not None:
                await uow.idempotency.complete(key, outcome)
            await uow.commit()
            return result

    @staticmethod
    async def _record_refusal(
        uow: UnitOfWork, key: IdempotencyKey | None, outcome: Outcome
    ) -> None:
        """A refusal moves nothing; with a key it is remembered, so a retry is refused alike."""
        if key is None:
            return
        await uow.idempotency.complete(key, outcome)
        await uow.commit()


def scoped_key(
    user_id: UUID, idempotency_key: str | None, request: tuple[FingerprintPart, ...]
) -> IdempotencyKey | None:
    """The client's key scoped to its user, with the fingerprint of what it asks for."""
    if idempotency_key is None:
        return None
    return IdempotencyKey(user_id, idempotency_key, fingerprint(*request))


def reusable(key: IdempotencyKey, stored: StoredRequest) -> Outcome:
    """The outcome to answer a retry with; a refusal is raised again, marked replayed."""
    if stored.fingerprint != key.fingerprint:
        raise IdempotencyKeyReused("This Idempotency-Key was already used for a different request.")
    outcome = stored.outcome
    if outcome.error_code is not None:
        refusal = DomainError.restore(outcome.error_code, outcome.error_detail or "")
        refusal.replayed = True
        if outcome.error_index is not None:
            raise BatchRefused(outcome.error_index, refusal)
        raise refusal
    return outcome


async def _replay_transfer(uow: UnitOfWork, outcome: Outcome, now: datetime) -> TransferReceipt:
    if outcome.transfer_id is None:  # stored by a batch under this fingerprint: impossible
        raise TransferNotFound("The stored outcome names no transfer.")
    transfer = await uow.ledger.get_transfer(outcome.transfer_id)
    if transfer is None:  # transfers are never deleted; this means the store is damaged
        raise TransferNotFound(f"Transfer {outcome.transfer_id} not found.")
    return TransferReceipt(transfer.as_of(now), replayed=True)


async def _replay_batch(uow: UnitOfWork, outcome: Outcome, now: datetime) -> BatchReceipt:
    items = outcome.items or ()
    ids = [item.transfer_id for item in items if item.transfer_id is not None]
    transfers = await uow.ledger.get_transfers(ids)
    results = []
    for item in items:
        if item.transfer_id is not None:
            results.append(ItemResult(transfer=transfers[item.transfer_id].as_of(now)))
        else:
            refusal = DomainError.restore(item.error_code or "", item.error_detail or "")
            refusal.replayed = True
            results.append(ItemResult(refusal=refusal))
    return BatchReceipt(tuple(results), replayed=True)


def _item_outcome(result: ItemResult) -> Outcome:
    if result.refusal is not None:
        return Outcome.failed(result.refusal)
    if result.transfer is None:
        raise ValueError("a batch item ends with a transfer or a refusal")
    return Outcome(transfer_id=result.transfer.id)
