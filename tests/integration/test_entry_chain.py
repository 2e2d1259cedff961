"""The per-account hash chain on real PostgreSQL: tampering with the books through SQL,
outside the app, is found by reconcile and by `hexbank verify-statement` at the first broken
link; concurrent movements (a 64-way race, group commit, batches) still leave every chain
whole."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from application.ports.reconciliation import BrokenHashChain
from application.transfer_requests import TransferRequest
from domain.chain import ChainStart, first_break
from domain.transfer import chained
from entrypoints.cli import cli
from entrypoints.container import Container
from entrypoints.statement_documents import render_csv
from tests.integration.test_concurrency import assert_books_balance, customers

pytestmark = pytest.mark.integration

Tamper = Callable[[Container, UUID, UUID], Awaitable[int]]
"""Changes the books of the first account behind the app's back; returns the sequence of
the first entry whose link it broke."""


async def _sql(container: Container, statements: str, **values: object) -> None:
    """`;`-separated statements, in one transaction, as an intruder with SQL access would."""
    async with container.engine().begin() as connection:
        for statement in statements.split(";"):
            await connection.execute(text(statement), values)


async def books(container: Container) -> tuple[UUID, UUID, UUID]:
    """Ada's account: deposit 1,000 (sequence 1), pays Bob 300 (2), 200 (3), 100 (4). Returns
    (Ada, her account, Bob's account)."""
    (ada, mine), (_, bobs) = await customers(container, 2, 1_000)
    for amount in (300, 200, 100):
        await container.transfer_funds()(ada, TransferRequest(mine, bobs, amount, "EUR"))
    return ada, mine, bobs


async def update_one_amount(container: Container, account: UUID, _: UUID) -> int:
    await _sql(
        container,
        "UPDATE ledger_entries SET amount = amount - 1 WHERE account_id = :a AND sequence = 3",
        a=account,
    )
    return 3


async def update_a_transfer_kept_balanced(container: Container, account: UUID, _: UUID) -> int:
    """The newest transfer (Ada's 4th entry, Bob's 4th) made 10 larger on both sides, with
    both balances, the transfer and the accounts moved to match: every other check of
    reconcile still passes."""
    await _sql(
        container,
        "UPDATE ledger_entries SET amount = amount + sign(amount) * 10,"
        " balance_after = balance_after + sign(amount) * 10"
        " WHERE transfer_id = (SELECT transfer_id FROM ledger_entries"
        "  WHERE account_id = :a AND sequence = 4);"
        "UPDATE transfers SET amount = amount + 10, posted_amount = posted_amount + 10"
        " WHERE id = (SELECT transfer_id FROM ledger_entries WHERE account_id = :a"
        "  AND sequence = 4);"
        "UPDATE accounts SET balance = e.balance_after FROM ledger_entries AS e"
        " WHERE e.account_id = accounts.id AND e.sequence = accounts.entry_count"
        "  AND e.transfer_id = (SELECT transfer_id FROM ledger_entries"
        "   WHERE account_id = :a AND sequence = 4)",
        a=account,
    )
    return 4


async def delete_one_and_renumber(container: Container, account: UUID, _: UUID) -> int:
    await _sql(
        container,
        "DELETE FROM ledger_entries WHERE account_id = :a AND sequence = 2;"
        "UPDATE ledger_entries SET sequence = sequence - 1"
        " WHERE account_id = :a AND sequence > 2;"
        "UPDATE accounts SET entry_count = entry_count - 1 WHERE id = :a",
        a=account,
    )
    return 2


async def swap_two(container: Container, account: UUID, _: UUID) -> int:
    await _sql(
        container,
        "UPDATE ledger_entries SET sequence = 1000 WHERE account_id = :a AND sequence = 3;"
        "UPDATE ledger_entries SET sequence = 3 WHERE account_id = :a AND sequence = 2;"
        "UPDATE ledger_entries SET sequence = 2 WHERE account_id = :a AND sequence = 1000",
        a=account,
    )
    return 2


TAMPERINGS = [update_one_amount, update_a_transfer_kept_balanced, delete_one_and_renumber, swap_two]


async def verify_statement(container: Container, owner: UUID, account: UUID, folder: Path) -> str:
    """`hexbank verify-statement` on the account's whole statement as the app exports it now,
    with the bank's public key: its one line; exit status 0 for OK, else 1."""
    signer = container.statement_signer()
    content, _ = render_csv(await container.export_statement()(owner, account), signer)
    file = folder / "statement.csv"
    file.write_bytes(content)
    public = base64.b64encode(signer.public_keys()[0].public_key).decode()
    answer = CliRunner().invoke(cli, ["verify-statement", str(file), "--public-key", public])
    assert answer.exit_code == (0 if answer.output.startswith("OK: ") else 1), answer.output
    return answer.output.strip()


@pytest.mark.parametrize("tamper", TAMPERINGS, ids=lambda tamper: tamper.__name__)
async def test_tampering_through_sql_is_found_by_reconcile_and_verify_statement(
    container: Container, tamper: Tamper, tmp_path: Path
) -> None:
    ada, account, bobs = await books(container)
    assert (await container.reconcile_ledger()()).is_clean
    assert (await verify_statement(container, ada, account, tmp_path)).startswith("OK: ")
    sequence = await tamper(container, account, bobs)
    report = await container.reconcile_ledger()()
    assert not report.is_clean
    mine = [found for found in report.broken_hash_chains if found.account_id == account]
    assert mine == [BrokenHashChain(account, sequence, mine[0].reason)], report
    if tamper is update_a_transfer_kept_balanced:  # the chain alone sees it
        assert report.differences == report.broken_hash_chains
    line = await verify_statement(container, ada, account, tmp_path)
    assert line.startswith(f"FAILED: entry {sequence}: "), line


async def test_an_account_row_whose_head_is_not_its_newest_entry_is_reported(
    container: Container,
) -> None:
    _, account, _ = await books(container)
    await _sql(
        container,
        "UPDATE accounts SET head_hash = decode(repeat('ab', 32), 'hex') WHERE id = :a",
        a=account,
    )
    report = await container.reconcile_ledger()()
    assert [(b.account_id, b.sequence) for b in report.broken_hash_chains] == [(account, 4)]


async def assert_every_chain_holds(container: Container, accounts: list[UUID]) -> None:
    """Each account's entries, read back through the ledger port, chain from 32 zero bytes to
    the account's head hash (beside reconcile, which checks the same in its own way)."""
    async with container.unit_of_work() as uow:
        for account_id in accounts:
            entries = await uow.ledger.entries(account_id, before_sequence=None, limit=10_000)
            entries.reverse()
            kinds = await uow.ledger.get_transfers({e.transfer_id for e in entries})
            chain = [chained(e, "EUR", kinds[e.transfer_id].kind) for e in entries]
            assert first_break(ChainStart(), chain) is None
            found = await uow.accounts.get_many([account_id], at=entries[-1].created_at)
            assert found[account_id].head_hash == chain[-1].entry_hash
            assert found[account_id].entry_count == len(chain)


async def test_a_64_way_race_on_two_accounts_leaves_both_chains_whole(
    container: Container,
) -> None:
    pairs = await customers(container, 2, 10_000)
    (ada, mine), (bob, bobs) = pairs

    async def one(n: int) -> None:
        if n % 2:
            await container.transfer_funds()(ada, TransferRequest(mine, bobs, 7 + n, "EUR"))
        else:
            await container.transfer_funds()(bob, TransferRequest(bobs, mine, 3 + n, "EUR"))

    await asyncio.gather(*(one(n) for n in range(64)))
    await assert_books_balance(container, pairs, 20_000)
    await assert_every_chain_holds(container, [mine, bobs])


async def test_batches_racing_transfers_leave_every_chain_whole(container: Container) -> None:
    pairs = await customers(container, 4, 10_000)
    accounts = [account for _, account in pairs]

    async def batch(n: int) -> None:
        owner, source = pairs[n % 4]
        requests = [
            TransferRequest(source, accounts[(n + step) % 4], 10 + step, "EUR")
            for step in (1, 2, 3)
        ]
        await container.transfer_batch()(owner, requests, atomic=bool(n % 2))

    async def single(n: int) -> None:
        owner, source = pairs[(n + 1) % 4]
        await container.transfer_funds()(owner, TransferRequest(source, accounts[n % 4], 5, "EUR"))

    await asyncio.gather(*(batch(n) for n in range(16)), *(single(n) for n in range(16)))
    await assert_books_balance(container, pairs, 40_000)
    await assert_every_chain_holds(container, accounts)
