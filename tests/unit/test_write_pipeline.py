"""The write pipeline on the in-memory fakes: commands, fingerprints, groups and replays."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from uuid import UUID, uuid4

import pytest

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
from application.receipts import TransferReceipt
from application.transfer_requests import TransferRequest, check_transfer
from application.write_pipeline import single
from domain.errors import IdempotencyKeyReused, InsufficientFunds, TransferNotFound
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
