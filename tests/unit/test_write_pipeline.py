"""The write pipeline on the in-memory fakes: commands, fingerprints, groups and replays."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from types import SimpleNamespace
from uuid import UUID, uuid4

import pytest

from adapters.in_memory.ledger import InMemoryLedgerRepository
from application.commands import (
    ExpirePendingTransfer,
    MakeDeposit,
    MakeReversal,
    MakeTransfer,
    MakeWithdrawal,
    MoneyCommand,
    PostPendingTransfer,
    VoidPendingTransfer,
    fingerprint,
)
from application.errors import TransientConflict
from application.events import Event
from application.ports.ledger import POSTINGS_PER_WRITE, Write
from application.receipts import BatchRefused, TransferReceipt
from application.transfer_requests import TransferRequest, check_transfer
from application.write_pipeline import single
from domain.errors import IdempotencyKeyReused, InsufficientFunds, TransferNotFound
from domain.ledger import Posting
from domain.transfer import TransferStatus
from tests.fakes import InMemoryBank, use_cases
from tests.unit.test_movements import people


@pytest.fixture
def uc(bank: InMemoryBank) -> SimpleNamespace:
    return use_cases(bank)


EXAMPLES: list[MoneyCommand] = [
    MakeTransfer(uuid4(), uuid4(), 5, "EUR", "rent", False, None, "r-1", (("k", "v"),)),
    MakeDeposit(uuid4(), 5, "d-1", (("k", "v"),)),
    MakeWithdrawal(uuid4(), 5, "cash", "w-1", (("k", "v"),)),
    PostPendingTransfer(uuid4(), 5),
    VoidPendingTransfer(uuid4()),
    MakeReversal(uuid4(), 5, "refund", "v-1", (("k", "v"),)),
    ExpirePendingTransfer(uuid4()),
]


@pytest.mark.parametrize("command", EXAMPLES, ids=lambda c: type(c).__name__)
def test_every_field_of_a_command_is_part_of_its_fingerprint(command: MoneyCommand) -> None:
    for field in dataclasses.fields(command):
        value = getattr(command, field.name)
        other: object
        if isinstance(value, bool):
            other = not value
        elif isinstance(value, int):
            other = value + 1
        elif isinstance(value, UUID):
            other = uuid4()
        elif isinstance(value, tuple):
            other = (("k", "other"),)
        else:
            other = f"{value}-other"
        changed = dataclasses.replace(command, **{field.name: other})
        assert fingerprint(changed) != fingerprint(command), field.name


def test_two_kinds_of_command_with_the_same_values_differ() -> None:
    transfer_id = uuid4()
    assert fingerprint(VoidPendingTransfer(transfer_id)) != fingerprint(
        ExpirePendingTransfer(transfer_id)
    )


def test_metadata_key_order_is_not_part_of_a_transfer() -> None:
    source, destination = uuid4(), uuid4()
    one = check_transfer(
        TransferRequest(source, destination, 5, "EUR", metadata={"a": "1", "b": "2"})
    )
    other = check_transfer(
        TransferRequest(source, destination, 5, "EUR", metadata={"b": "2", "a": "1"})
    )
    assert fingerprint(one) == fingerprint(other)


async def test_posting_a_hold_again_under_its_key_with_another_amount_is_refused(
    uc: SimpleNamespace,
) -> None:
    ada, _, source, destination = await people(uc)
    hold = (
        await uc.transfer(ada, TransferRequest(source, destination, 600, "EUR", pending=True))
    ).transfer
    posted = await uc.post_hold(ada, hold.id, 100, "post-1")
    again = await uc.post_hold(ada, hold.id, 100, "post-1")
    assert again.replayed
    assert again.transfer.id == posted.transfer.id
    with pytest.raises(IdempotencyKeyReused):
        await uc.post_hold(ada, hold.id, 200, "post-1")
    with pytest.raises(IdempotencyKeyReused):
        await uc.post_hold(ada, hold.id, None, "post-1")


async def test_a_refused_member_of_a_group_is_refused_again_on_retry_marked_replayed(
    bank: InMemoryBank, uc: SimpleNamespace
) -> None:
    ada, _, source, destination = await people(uc, funds=100)
    fits = single(
        check_transfer(TransferRequest(source, destination, 60, "EUR")),
        user_id=ada,
        idempotency_key="fits",
    )
    too_much = single(
        check_transfer(TransferRequest(source, destination, 60, "EUR")),
        user_id=ada,
        idempotency_key="too-much",
    )

    answers = await bank.pipeline.together([fits, too_much])

    assert isinstance(answers[0], TransferReceipt)
    assert isinstance(answers[1], InsufficientFunds)
    with pytest.raises(InsufficientFunds) as retried:
        await uc.transfer(ada, TransferRequest(source, destination, 60, "EUR"), "too-much")
    assert retried.value.replayed
    replayed = await uc.transfer(ada, TransferRequest(source, destination, 60, "EUR"), "fits")
    assert replayed.replayed
    assert replayed.transfer.id == answers[0].transfer.id
    assert (await uc.get_account(ada, source)).balance == 40


async def test_a_group_decides_every_kind_of_movement_in_arrival_order(
    bank: InMemoryBank, uc: SimpleNamespace
) -> None:
    ada, bob, source, destination = await people(uc, funds=1_000)
    hold = (
        await uc.transfer(ada, TransferRequest(source, destination, 300, "EUR", pending=True))
    ).transfer
    paid = (await uc.transfer(ada, TransferRequest(source, destination, 200, "EUR"))).transfer
    group = [
        single(MakeDeposit(source, 50, "dep", ()), user_id=ada, idempotency_key="a"),
        single(PostPendingTransfer(hold.id, 100), user_id=ada, idempotency_key="b"),
        single(VoidPendingTransfer(hold.id), user_id=ada, idempotency_key="c"),
        single(MakeReversal(paid.id, 20, None, None, ()), user_id=bob, idempotency_key="d"),
        single(MakeWithdrawal(source, 10, None, "dep", ()), user_id=ada, idempotency_key="e"),
        single(PostPendingTransfer(uuid4(), None), user_id=ada, idempotency_key=None),
    ]

    answers = await bank.pipeline.together(group)

    deposit, posted, voided, reversal, withdrawal, unknown = answers
    assert isinstance(deposit, TransferReceipt)
    assert isinstance(posted, TransferReceipt)
    assert posted.transfer.status is TransferStatus.POSTED
    # The same hold, already posted by the command before it in the group:
    assert type(voided).__name__ == "TransferNotPending"
    assert isinstance(reversal, TransferReceipt)
    assert reversal.transfer.amount == 20
    # Its reference was taken by the deposit, earlier in the same group:
    assert type(withdrawal).__name__ == "DuplicateReference"
    assert isinstance(unknown, TransferNotFound)
    # 1,000 - 300 held - 200 paid + 50 in + 300 released - 100 posted + 20 back
    assert (await uc.get_account(ada, source)).balance == 1_000 - 200 + 50 - 100 + 20
    assert (await uc.get_account(ada, source)).held == 0
    assert (await uc.reconcile()).is_clean


class Writes:
    """What the in-memory ledger is asked to write, in order: each prepared write's size,
    when it starts and ends; the first write may be held open until the next is prepared."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, held: bool = False) -> None:
        self.log: list[str] = []
        self.prepared: list[int] = []
        self.recorded: list[int] = []
        self.next_prepared = asyncio.Event()
        prepare_many = InMemoryLedgerRepository.prepare_many
        record_many = InMemoryLedgerRepository.record_many
        writes = self

        async def prepared(
            ledger: InMemoryLedgerRepository,
            postings: Sequence[Posting],
            events: Sequence[Event] = (),
        ) -> Write:
            writes.prepared.append(len(postings))
            number = len(writes.prepared)
            writes.log.append(f"prepared {number}")
            writes.next_prepared.set()
            write = await prepare_many(ledger, postings, events)

            async def logged() -> None:
                writes.log.append(f"started {number}")
                if held and number == 1:
                    writes.next_prepared.clear()
                    # The pipeline decides on while this is in flight: else it never comes.
                    await asyncio.wait_for(writes.next_prepared.wait(), timeout=5)
                await write()
                writes.log.append(f"ended {number}")

            return logged

        async def recorded(
            ledger: InMemoryLedgerRepository,
            postings: Sequence[Posting],
            events: Sequence[Event] = (),
        ) -> None:
            writes.recorded.append(len(postings))
            await record_many(ledger, postings, events)

        monkeypatch.setattr(InMemoryLedgerRepository, "prepare_many", prepared)
        monkeypatch.setattr(InMemoryLedgerRepository, "record_many", recorded)


def payments(source: UUID, destination: UUID, count: int) -> list[TransferRequest]:
    return [TransferRequest(source, destination, 1, "EUR") for _ in range(count)]


async def test_a_large_batch_is_written_in_parts_each_while_the_next_is_decided(
    uc: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada, bob, source, destination = await people(uc, funds=2 * POSTINGS_PER_WRITE + 5)
    writes = Writes(monkeypatch, held=True)
    count = 2 * POSTINGS_PER_WRITE + 10  # the last five are refused: the funds ran out
    # Three refused on their own among the first part's: its write still takes exactly
    # POSTINGS_PER_WRITE postings.
    invalid = TransferRequest(source, destination, 0, "EUR")
    requests = payments(source, destination, count)
    requests[1:1] = [invalid] * 3

    receipt = await uc.batch(ada, requests, atomic=False)

    refused = [r.refusal is not None for r in receipt.results]
    assert refused == [False] + [True] * 3 + [False] * (count - 6) + [True] * 5
    # Two full parts while deciding (the first still in flight when the second was
    # prepared), then the rest in the unit of work's last write.
    assert writes.prepared[:2] == [POSTINGS_PER_WRITE, POSTINGS_PER_WRITE]
    assert writes.log.index("prepared 2") < writes.log.index("ended 1")
    assert writes.recorded[-1] == count - 5 - 2 * POSTINGS_PER_WRITE
    assert (await uc.get_account(ada, source)).balance == 0
    assert (await uc.get_account(bob, destination)).balance == count - 5
    assert (await uc.reconcile()).is_clean


async def test_an_atomic_batch_refused_at_its_last_item_writes_nothing(
    uc: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada, bob, source, destination = await people(uc, funds=2 * POSTINGS_PER_WRITE)
    writes = Writes(monkeypatch)

    with pytest.raises(BatchRefused) as refused:
        await uc.batch(ada, payments(source, destination, 2 * POSTINGS_PER_WRITE + 1), atomic=True)

    assert refused.value.index == 2 * POSTINGS_PER_WRITE
    assert writes.prepared == []
    assert (await uc.get_account(ada, source)).balance == 2 * POSTINGS_PER_WRITE
    assert (await uc.get_account(bob, destination)).balance == 0


async def test_a_batch_whose_part_failed_to_write_is_retried_whole_and_written_once(
    uc: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada, bob, source, destination = await people(uc, funds=10_000)
    writes = Writes(monkeypatch)
    prepare_many = InMemoryLedgerRepository.prepare_many

    async def first_write_conflicts(
        ledger: InMemoryLedgerRepository, postings: Sequence[Posting], events: Sequence[Event] = ()
    ) -> Write:
        write = await prepare_many(ledger, postings, events)
        if len(writes.prepared) > 1:
            return write

        async def conflicted() -> None:
            await write()
            raise TransientConflict("a serialization failure, as PostgreSQL may answer")

        return conflicted

    monkeypatch.setattr(InMemoryLedgerRepository, "prepare_many", first_write_conflicts)
    count = POSTINGS_PER_WRITE + 1

    receipt = await uc.batch(ada, payments(source, destination, count), atomic=False)

    assert all(result.refusal is None for result in receipt.results)
    assert writes.prepared == [POSTINGS_PER_WRITE, POSTINGS_PER_WRITE]  # tried, then again
    assert (await uc.get_account(ada, source)).balance == 10_000 - count
    assert (await uc.get_account(bob, destination)).balance == count
    assert (await uc.reconcile()).is_clean
