"""The one write path for money: every movement, alone, in a group or in a batch, is a list of
submissions run by `WritePipeline` in one unit of work.

Claim the idempotency keys in bulk and replay the requests already done; lock the transfers
acted on, then every account involved, once, in id order; decide each command in arrival
order with the domain (a refusal is that caller's answer), each followed by the balance
monitors it made cross; write every posting, entry, balance and event (a non-atomic batch's
a part at a time, each while the next is decided); complete the keys. The caller commits.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final
from uuid import UUID

from application.commands import (
    ActsOnTransfer,
    BatchItem,
    ExpirePendingTransfer,
    MakeConversion,
    MakeDeposit,
    MakeReversal,
    MakeTransfer,
    MakeWithdrawal,
    MoneyCommand,
    PostPendingTransfer,
    VoidPendingTransfer,
    batch_fingerprint,
    fingerprint,
)
from application.errors import CommitFateUnknown, TransientConflict
from application.events import Event, monitor_event, posting_events
from application.moment import Moment
from application.ports.clock import Clock
from application.ports.idempotency import IdempotencyKey, Outcome, StoredRequest
from application.ports.ledger import POSTINGS_PER_WRITE
from application.ports.retry import TransactionRetry
from application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from application.receipts import BatchReceipt, BatchRefused, ItemResult, TransferReceipt
from application.transfer_access import require_payee, require_payer
from application.turns import ITEMS_PER_TURN, turn_if
from domain.account import Account, AccountKind, funding_account_id, fx_account_id
from domain.errors import (
    AccountNotFound,
    DomainError,
    DuplicateReference,
    IdempotencyKeyReused,
    TransferNotFound,
)
from domain.holds import expire_hold, place_hold, post_hold, void_hold
from domain.ids import new_id
from domain.ledger import Posting, Reversed, post_conversion, post_transfer
from domain.money import Money
from domain.monitor import Crossing, Figures, Monitor, crossings
from domain.reversals import reverse_transfer
from domain.transfer import Transfer, TransferKind, TransferStatus

IDEMPOTENCY_KEY_TTL = timedelta(hours=24)

FUNDING: Final = "funding"
"""The gate every deposit and withdrawal passes: the funding accounts they all move."""
FX: Final = "fx"
"""The gate every conversion passes: the FX accounts they all move."""

Receipt = TransferReceipt | BatchReceipt
Answer = Receipt | BaseException


@dataclass(eq=False, slots=True)
class Submission:
    """What one caller asked for: one command, or a batch of transfers (`batch`, refused
    whole at its first refusal when `atomic`), under the caller's idempotency key."""

    user_id: UUID | None
    commands: tuple[MoneyCommand | DomainError, ...]
    key: IdempotencyKey | None
    gates: frozenset[Hashable]
    """What it moves, as far as known before it runs: no two groups in flight share one."""
    batch: bool = False
    atomic: bool = False
    context: contextvars.Context = field(default_factory=contextvars.copy_context)
    """The caller's context (its trace, its log fields)."""

    @property
    def scope(self) -> tuple[UUID, str] | None:
        """Two submissions under one key never run in one group."""
        return None if self.key is None else (self.key.user_id, self.key.key)

    @property
    def solitary(self) -> bool:
        """A batch is its own unit of work: its outcome is stored and refused as one."""
        return self.batch


def single(
    command: MoneyCommand,
    *,
    user_id: UUID | None,
    idempotency_key: str | None,
    gates: frozenset[Hashable] | None = None,
) -> Submission:
    """One command; its gates are the accounts it names, unless the caller knows better."""
    key = None
    if idempotency_key is not None and user_id is not None:
        key = IdempotencyKey(user_id, idempotency_key, fingerprint(command))
    return Submission(user_id, (command,), key, gates or _named_gates(command))


def batch(
    items: tuple[BatchItem, ...], *, user_id: UUID, atomic: bool, idempotency_key: str | None
) -> Submission:
    key = None
    if idempotency_key is not None:
        key = IdempotencyKey(user_id, idempotency_key, batch_fingerprint(atomic, items))
    gates = frozenset(
        account
        for item in items
        if isinstance(item, MakeTransfer)
        for account in (item.source_id, item.destination_id)
    )
    return Submission(user_id, items, key, gates, batch=True, atomic=atomic)


def _named_gates(command: MoneyCommand) -> frozenset[Hashable]:
    match command:
        case MakeTransfer():
            return frozenset((command.source_id, command.destination_id))
        case MakeDeposit() | MakeWithdrawal():
            return frozenset((command.account_id, FUNDING))
        case MakeConversion():
            return frozenset((command.source_id, command.destination_id, FX))
        case (
            PostPendingTransfer() | VoidPendingTransfer() | MakeReversal() | ExpirePendingTransfer()
        ):
            return frozenset((command.transfer_id,))
    raise TypeError(f"not a money command: {command!r}")


class WritePipeline:
    """Runs lists of submissions as units of work. `alone` retries one submission whole on
    transient conflicts; `together` runs a group once, for the scheduler to fall back on."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        retry: TransactionRetry,
        *,
        current_trace: Callable[[], str | None] = lambda: None,
        key_ttl: timedelta = IDEMPOTENCY_KEY_TTL,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._retry = retry
        self._current_trace = current_trace
        self._key_ttl = key_ttl

    async def alone(self, submission: Submission) -> Receipt:
        """Run one submission in its own unit of work, retried on transient conflicts; a
        refusal is raised after its outcome is committed under the key."""

        async def attempt() -> Answer:
            async with self._uow_factory() as uow:
                [answer] = await self.write(uow, [submission])
                await uow.commit()
            return answer

        answer = await self._retry.run(attempt)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    async def together(self, group: Sequence[Submission]) -> list[Answer]:
        """Run a group in one unit of work, once. A COMMIT that fails without saying whether
        it happened raises `CommitFateUnknown`: running the group again could move money twice."""
        committing = False
        try:
            async with self._uow_factory() as uow:
                answers = await self.write(uow, group)
                committing = True
                await uow.commit()
        except TransientConflict:
            raise  # also at COMMIT (a serialization failure): certainly rolled back
        except Exception as error:
            if committing:
                raise CommitFateUnknown(error) from error
            raise
        return answers

    async def write(self, uow: UnitOfWork, submissions: Sequence[Submission]) -> list[Answer]:
        """Everything but the COMMIT, with one answer per submission, in order."""
        if len(submissions) > 1 and any(s.solitary for s in submissions):
            raise ValueError("a batch runs in a unit of work of its own")
        moment = Moment(self._clock)
        answers: list[Answer | None] = [None] * len(submissions)
        replays: dict[int, Outcome] = {}
        fresh: list[int] = []
        stored = await self._claim(uow, submissions, moment.now)
        for index, submission in enumerate(submissions):
            found = None if submission.scope is None else stored.get(submission.scope)
            if submission.key is None or found is None:
                fresh.append(index)
                continue
            try:
                replays[index] = reusable(submission.key, found)
            except (DomainError, BatchRefused) as refusal:
                answers[index] = refusal
        writing = _Writing(uow)
        try:
            decision = await _Decision.made(
                uow, [submissions[i] for i in fresh], moment, self, writing
            )
            await writing.ended()
        except BaseException:
            await writing.abandoned()
            raise
        if len(decision.postings) == 1:  # one movement: the store's one-round-trip path
            await uow.ledger.record(decision.postings[0], decision.events)
        elif decision.postings:
            await uow.ledger.record_many(decision.postings, decision.events)
        await uow.idempotency.complete_many(decision.outcomes)
        for index, answer in zip(fresh, decision.answers, strict=True):
            answers[index] = answer
        if replays:
            await self._replay(uow, submissions, replays, answers, moment.now)
        if any(answer is None for answer in answers):
            raise RuntimeError("the write pipeline left a submission without an answer")
        return [answer for answer in answers if answer is not None]

    async def _claim(
        self, uow: UnitOfWork, submissions: Sequence[Submission], now: datetime
    ) -> dict[tuple[UUID, str], StoredRequest]:
        keys = [s.key for s in submissions if s.key is not None]
        expired_before = now - self._key_ttl
        if len(keys) == 1:
            found = await uow.idempotency.claim(keys[0], now=now, expired_before=expired_before)
            return {} if found is None else {(keys[0].user_id, keys[0].key): found}
        return await uow.idempotency.claim_many(keys, now=now, expired_before=expired_before)

    @staticmethod
    async def _replay(
        uow: UnitOfWork,
        submissions: Sequence[Submission],
        replays: dict[int, Outcome],
        answers: list[Answer | None],
        now: datetime,
    ) -> None:
        """The answers of requests done already, with their transfers as they are now."""
        ids = {
            transfer_id
            for outcome in replays.values()
            for transfer_id in (outcome.transfer_id, *(i.transfer_id for i in outcome.items or ()))
            if transfer_id is not None
        }
        transfers = await uow.ledger.get_transfers(ids) if ids else {}
        for index, outcome in replays.items():
            if submissions[index].batch:
                answers[index] = BatchReceipt(_replayed_items(outcome, transfers, now), True)
                continue
            transfer = None if outcome.transfer_id is None else transfers.get(outcome.transfer_id)
            if transfer is None:  # stored under this fingerprint, never deleted: a damaged store
                answers[index] = TransferNotFound("The stored outcome names no transfer.")
                continue
            answers[index] = TransferReceipt(transfer.as_of(now), replayed=True)

    def trace_of(self, submission: Submission) -> str | None:
        return submission.context.run(self._current_trace)


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


def _replayed_items(
    outcome: Outcome, transfers: dict[UUID, Transfer], now: datetime
) -> tuple[ItemResult, ...]:
    results = []
    for item in outcome.items or ():
        if item.transfer_id is not None:
            results.append(ItemResult(transfer=transfers[item.transfer_id].as_of(now)))
        else:
            refusal = DomainError.restore(item.error_code or "", item.error_detail or "")
            refusal.replayed = True
            results.append(ItemResult(refusal=refusal))
    return tuple(results)


class _Writing:
    """A unit of work's writes started while it decides: one at a time, in order, each on
    its own task, so the store writes one part while the next is decided. Meanwhile only
    `prepare_many`, which does no I/O, uses the unit of work. A write task cancelled on its
    own (the loop shutting down cancels every task) fails its caller with the cancellation."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._in_flight: asyncio.Task[None] | None = None

    async def start(self, postings: Sequence[Posting], events: Sequence[Event]) -> None:
        write = await self._uow.ledger.prepare_many(postings, events)
        await self.ended()
        self._in_flight = asyncio.create_task(write())

    async def ended(self) -> None:
        """After the last write started: raises what it raised."""
        if self._in_flight is not None:
            in_flight, self._in_flight = self._in_flight, None
            await in_flight

    async def abandoned(self) -> None:
        """Wait for the write in flight, if any, before the unit of work rolls back; what
        it raises (its own failure, or a second cancellation of the caller) gives way to
        the failure that abandons it, which the caller raises."""
        with contextlib.suppress(BaseException):
            await self.ended()


@dataclass(slots=True)
class _Decision:
    """What the fresh submissions of a unit of work decided: one answer each, the postings
    and events to write, and the outcomes to store under their keys."""

    answers: list[Answer] = field(default_factory=list)
    postings: list[Posting] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    outcomes: list[tuple[IdempotencyKey, Outcome]] = field(default_factory=list)

    @classmethod
    async def made(
        cls,
        uow: UnitOfWork,
        submissions: Sequence[Submission],
        moment: Moment,
        pipeline: WritePipeline,
        writing: _Writing,
    ) -> _Decision:
        decision = cls()
        if not submissions:
            return decision
        books = await _Books.locked(uow, submissions, moment)
        for submission in submissions:
            await decision._decide(submission, books, pipeline.trace_of(submission), writing)
        return decision

    async def _decide(
        self, submission: Submission, books: _Books, trace: str | None, writing: _Writing
    ) -> None:
        """A non-atomic batch's postings are written `POSTINGS_PER_WRITE` at a time, each
        write while the next are decided (no later refusal takes them back); an atomic
        batch's wait for its last item, and so do a group's. A command decides at most one
        posting, so a chunk no larger than the room left fills a part exactly."""
        postings: list[Posting] = []
        events: list[Event] = []
        results: list[ItemResult] = []
        commands = submission.commands
        streamed = not submission.atomic
        start = 0
        while start < len(commands):
            room = POSTINGS_PER_WRITE - len(postings) if streamed else ITEMS_PER_TURN
            chunk = range(start, min(start + min(ITEMS_PER_TURN, room), len(commands)))
            async with turn_if(len(commands) > ITEMS_PER_TURN):
                refused = _decide_items(submission, chunk, books, trace, postings, events, results)
            if refused is not None:
                self._answer(submission, refused)
                return
            if streamed and len(postings) == POSTINGS_PER_WRITE:
                await writing.start(postings, events)
                postings, events = [], []
            start = chunk.stop
        self.postings += postings
        self.events += events
        if submission.batch:
            self._answer(submission, BatchReceipt(tuple(results)))
            return
        [result] = results
        if result.refusal is not None:
            self._answer(submission, result.refusal)
        elif result.transfer is not None:
            self._answer(submission, TransferReceipt(result.transfer))

    def _answer(self, submission: Submission, answer: Receipt | Exception) -> None:
        self.answers.append(answer)
        if submission.key is not None:
            self.outcomes.append((submission.key, _outcome(answer)))


def _decide_items(
    submission: Submission,
    indexes: range,
    books: _Books,
    trace: str | None,
    postings: list[Posting],
    events: list[Event],
    results: list[ItemResult],
) -> BatchRefused | None:
    """Some of a submission's commands, decided in order: what each moves is added to
    `postings`, `events` and `results`; an atomic batch's first refusal is returned."""
    for index in indexes:
        item = submission.commands[index]
        try:
            if isinstance(item, DomainError):
                raise item
            posting = books.decide(item, submission.user_id)
        except DomainError as refusal:
            if submission.atomic:
                return BatchRefused(index, refusal)
            results.append(ItemResult(refusal=refusal))
            continue
        postings.append(posting)
        results.append(ItemResult(transfer=posting.transfer))
        # Now, before a later command moves the same accounts again.
        events += posting_events(posting, books.now, traceparent=trace)
        events += [
            monitor_event(crossing, books.owner_of(crossing), books.now, traceparent=trace)
            for crossing in books.crossings
        ]
    return None


def _outcome(answer: Receipt | Exception) -> Outcome:
    match answer:
        case TransferReceipt(transfer=transfer):
            return Outcome(transfer_id=transfer.id)
        case BatchReceipt(results=results):
            return Outcome(items=tuple(_item_outcome(result) for result in results))
        case BatchRefused(index=index, refusal=refusal):
            return Outcome.failed(refusal, index)
        case DomainError():
            return Outcome.failed(answer)
    raise TypeError(f"no outcome for {answer!r}")


def _item_outcome(result: ItemResult) -> Outcome:
    if result.refusal is not None:
        return Outcome.failed(result.refusal)
    if result.transfer is None:
        raise ValueError("a batch item ends with a transfer or a refusal")
    return Outcome(transfer_id=result.transfer.id)


@dataclass(slots=True)
class _Books:
    """The rows a unit of work holds: the transfers acted on and the accounts, locked, as the
    commands decided so far left them; and the references each user has taken."""

    now: datetime
    accounts: dict[UUID, Account]
    transfers: dict[UUID, Transfer]
    currencies: dict[UUID, str]
    """Of the accounts deposits, withdrawals and conversions name: an account's currency
    never changes."""
    references: dict[UUID, set[str]]
    monitors: dict[UUID, list[Monitor]] = field(default_factory=dict)
    """Of the customer accounts locked that have any."""
    crossings: list[Crossing] = field(default_factory=list)
    """What the last command decided made monitors cross, in order."""

    @classmethod
    async def locked(
        cls, uow: UnitOfWork, submissions: Sequence[Submission], moment: Moment
    ) -> _Books:
        """Transfers first, then accounts, each kind in id order, as every writer does, so
        no two units of work wait on each other in a circle."""
        commands = [c for s in submissions for c in s.commands if isinstance(c, MoneyCommand)]
        transfers: dict[UUID, Transfer] = {}
        acted_on = {c.transfer_id for c in commands if isinstance(c, ActsOnTransfer)}
        for transfer_id in sorted(acted_on):
            if (transfer := await uow.ledger.lock_transfer(transfer_id)) is not None:
                transfers[transfer_id] = transfer
        funded = {c.account_id for c in commands if isinstance(c, MakeDeposit | MakeWithdrawal)}
        converting = {
            account_id
            for c in commands
            if isinstance(c, MakeConversion)
            for account_id in (c.source_id, c.destination_id)
        }
        currencies = (
            {
                account.id: account.currency
                for account in (
                    await uow.accounts.get_many(funded | converting, at=moment.now)
                ).values()
            }
            if funded or converting
            else {}
        )
        # The bank's own accounts these commands move: funding for deposits and withdrawals,
        # FX for conversions (only the currencies each needs).
        bank = {
            funding_account_id(currencies[a]): Account.funding(
                currency=currencies[a], now=moment.now
            )
            for a in funded
            if a in currencies
        } | {
            fx_account_id(currencies[a]): Account.fx(currency=currencies[a], now=moment.now)
            for a in converting
            if a in currencies
        }
        ids = set(bank)
        for command in commands:
            ids.update(_accounts_of(command, transfers))
        accounts = await moment.lock(uow, ids) if ids else {}
        if missing := bank.keys() - accounts.keys():  # a currency's first deposit, conversion
            for account_id in sorted(missing):
                await uow.accounts.add_if_absent(bank[account_id])
            accounts |= await moment.lock(uow, missing)
        references = await _taken_references(uow, submissions)
        # Only accounts some monitor watches: most have none, and they cost no read.
        watched = [a.id for a in accounts.values() if a.monitor_count > 0]
        monitors = await uow.monitors.of_accounts(watched) if watched else {}
        return cls(moment.now, accounts, transfers, currencies, references, monitors)

    def owner_of(self, crossing: Crossing) -> UUID | None:
        return self.accounts[crossing.monitor.account_id].owner_id

    def decide(self, command: MoneyCommand, user_id: UUID | None) -> Posting:
        """The posting of one command at the books' current state; nothing changes when the
        domain refuses it. The books then carry what it changed."""
        reference = getattr(command, "reference", None)
        if reference is not None and user_id is not None:
            taken = self.references.setdefault(user_id, set())
            if reference in taken:
                raise DuplicateReference(
                    f"Reference {reference!r} names another of your transfers."
                )
        self.crossings = []
        watched = [
            account_id
            for account_id in _accounts_of(command, self.transfers)
            if account_id in self.monitors and account_id in self.accounts
        ]
        before = {account_id: _figures(self.accounts[account_id]) for account_id in watched}
        if isinstance(command, ExpirePendingTransfer):
            self._as_held_until_expiry(command.transfer_id, before)
        posting = self._posting(command, user_id)
        for account_id, was in before.items():
            # Edge-triggered, in this unit of work, right after the command that moved it.
            account = self.accounts[account_id]
            self.crossings += crossings(
                self.monitors[account_id],
                was,
                _figures(account),
                account.entry_count,
                account.head_hash,
            )
        if reference is not None and user_id is not None:
            self.references[user_id].add(reference)
        self.transfers[posting.transfer.id] = posting.transfer
        if isinstance(posting, Reversed):
            self.transfers[posting.original.id] = posting.original
        return posting

    def _as_held_until_expiry(self, hold_id: UUID, before: dict[UUID, Figures]) -> None:
        """A hold past its expiry stopped counting in `held` at that instant, with no write;
        its source's monitors see the release when the expiry is written, as for a void: the
        figures before are the account's with the hold still held."""
        hold = self.transfers.get(hold_id)
        if hold is None or hold.status is not TransferStatus.PENDING:
            return
        if (was := before.get(hold.from_account_id)) is not None:
            before[hold.from_account_id] = Figures(was.balance, was.available - hold.amount)

    def _posting(self, command: MoneyCommand, user_id: UUID | None) -> Posting:
        match command:
            case MakeTransfer():
                return self._transfer(command, _user(user_id))
            case MakeDeposit() | MakeWithdrawal():
                return self._funded(command, _user(user_id))
            case MakeConversion():
                return self._conversion(command, _user(user_id))
            case PostPendingTransfer(transfer_id=transfer_id, amount=amount):
                hold, source, destination = self._acted_on(transfer_id)
                require_payer(hold, source, destination, _user(user_id))
                return post_hold(
                    hold,
                    source=source,
                    destination=destination,
                    amount=amount,
                    now=self.now,
                    asked_by=user_id,
                )
            case VoidPendingTransfer(transfer_id=transfer_id):
                hold, source, destination = self._acted_on(transfer_id)
                require_payer(hold, source, destination, _user(user_id))
                return void_hold(hold, source=source, destination=destination, now=self.now)
            case MakeReversal():
                original, payer, payee = self._acted_on(command.transfer_id)
                require_payee(original, payer, payee, _user(user_id))
                return reverse_transfer(
                    original,
                    reversal_id=new_id(),
                    payee=payee,
                    payer=payer,
                    amount=command.amount,
                    description=command.description,
                    now=self.now,
                    created_by=user_id,
                    reference=command.reference,
                    metadata=dict(command.metadata),
                )
            case ExpirePendingTransfer(transfer_id=transfer_id):
                hold, source, destination = self._acted_on(transfer_id)
                return expire_hold(hold, source=source, destination=destination, now=self.now)
        raise TypeError(f"not a money command: {command!r}")

    def _transfer(self, command: MakeTransfer, user_id: UUID) -> Posting:
        """From one of the caller's accounts to any customer account."""
        source, destination = self._parties(command, user_id)
        amount = Money(command.amount, command.currency)
        if command.pending:
            return place_hold(
                transfer_id=new_id(),
                source=source,
                destination=destination,
                amount=amount,
                description=command.description,
                now=self.now,
                timeout=command.hold_timeout,
                created_by=user_id,
                reference=command.reference,
                metadata=dict(command.metadata),
            )
        return post_transfer(
            transfer_id=new_id(),
            source=source,
            destination=destination,
            amount=amount,
            description=command.description,
            now=self.now,
            created_by=user_id,
            reference=command.reference,
            metadata=dict(command.metadata),
        )

    def _parties(
        self, command: MakeTransfer | MakeConversion, user_id: UUID
    ) -> tuple[Account, Account]:
        """The payer, one of the caller's accounts at the sequence it may name (If-Match),
        and the payee, any customer account; a stranger's account is not found."""
        source = self.accounts.get(command.source_id)
        if source is None or not source.is_owned_by(user_id):
            raise AccountNotFound(f"Account {command.source_id} not found.")
        source.require_sequence(command.expected_sequence)
        destination = self.accounts.get(command.destination_id)
        if destination is None or destination.kind is not AccountKind.CUSTOMER:
            raise AccountNotFound(f"Account {command.destination_id} not found.")
        return source, destination

    def _conversion(self, command: MakeConversion, user_id: UUID) -> Posting:
        """From one of the caller's accounts to any customer account of another currency,
        both legs decided here, in this unit of work."""
        source, destination = self._parties(command, user_id)
        return post_conversion(
            conversion_id=new_id(),
            source=source,
            destination=destination,
            source_fx=self.accounts[fx_account_id(source.currency)],
            target_fx=self.accounts[fx_account_id(destination.currency)],
            amount=command.amount,
            rate=command.rate,
            description=command.description,
            now=self.now,
            created_by=user_id,
            reference=command.reference,
            metadata=dict(command.metadata),
        )

    def _funded(self, command: MakeDeposit | MakeWithdrawal, user_id: UUID) -> Posting:
        """A deposit (from the funding account of the currency) or a withdrawal (back to it)
        of the caller's account: the same checks in opposite directions."""
        currency = self.currencies.get(command.account_id)
        account = self.accounts.get(command.account_id)
        if currency is None or account is None or not account.is_owned_by(user_id):
            raise AccountNotFound(f"Account {command.account_id} not found.")
        if isinstance(command, MakeWithdrawal):
            account.require_sequence(command.expected_sequence)
        funding = self.accounts[funding_account_id(currency)]
        deposit = isinstance(command, MakeDeposit)
        source, destination = (funding, account) if deposit else (account, funding)
        return post_transfer(
            transfer_id=new_id(),
            source=source,
            destination=destination,
            amount=Money(command.amount, currency),
            description=None if isinstance(command, MakeDeposit) else command.description,
            now=self.now,
            kind=TransferKind.DEPOSIT if deposit else TransferKind.WITHDRAWAL,
            created_by=user_id,
            reference=command.reference,
            metadata=dict(command.metadata),
        )

    def _acted_on(self, transfer_id: UUID) -> tuple[Transfer, Account, Account]:
        transfer = self.transfers.get(transfer_id)
        if transfer is None:
            raise TransferNotFound(f"Transfer {transfer_id} not found.")
        return (
            transfer,
            self.accounts[transfer.from_account_id],
            self.accounts[transfer.to_account_id],
        )


def _figures(account: Account) -> Figures:
    return Figures(account.balance, account.available)


def _accounts_of(command: MoneyCommand, transfers: dict[UUID, Transfer]) -> tuple[UUID, ...]:
    match command:
        case MakeTransfer():
            return (command.source_id, command.destination_id)
        case MakeDeposit() | MakeWithdrawal():
            return (command.account_id,)
        case MakeConversion():
            return (command.source_id, command.destination_id)
        case (
            PostPendingTransfer() | VoidPendingTransfer() | MakeReversal() | ExpirePendingTransfer()
        ):
            transfer = transfers.get(command.transfer_id)
            return () if transfer is None else (transfer.from_account_id, transfer.to_account_id)
    raise TypeError(f"not a money command: {command!r}")


async def _taken_references(
    uow: UnitOfWork, submissions: Sequence[Submission]
) -> dict[UUID, set[str]]:
    """Per user, which of the references the submissions name are taken already."""
    asked: dict[UUID, set[str]] = {}
    for submission in submissions:
        if submission.user_id is None:
            continue
        for command in submission.commands:
            if (reference := getattr(command, "reference", None)) is not None:
                asked.setdefault(submission.user_id, set()).add(reference)
    return {
        user_id: await uow.ledger.references_taken(user_id, references)
        for user_id, references in asked.items()
    }


def _user(user_id: UUID | None) -> UUID:
    if user_id is None:
        raise TypeError("a customer's movement needs the user who asks for it")
    return user_id
