"""Test doubles for the ports that are slow or non-deterministic for real (hashing, time)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Self, cast

from adapters.email_normalizer import EmailValidatorNormalizer
from adapters.in_memory.attempt_limiter import InMemoryAttemptLimiter
from adapters.in_memory.reconciliation import InMemoryLedgerReconciliation
from adapters.in_memory.storage import InMemoryStorage
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from adapters.jwt_tokens import JwtTokenIssuer
from adapters.tenacity_retry import TenacityTransactionRetry
from application.errors import StorageUnavailable
from application.group_commit import GroupCommit
from application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from application.teller import Teller
from application.throttle import Throttle
from application.use_cases.close_account import CloseAccount
from application.use_cases.deposit import Deposit
from application.use_cases.expire_holds import ExpireHolds
from application.use_cases.export_statement import ExportStatement
from application.use_cases.freeze_account import FreezeAccount, UnfreezeAccount
from application.use_cases.get_account import GetAccount
from application.use_cases.get_account_summary import GetAccountSummary
from application.use_cases.get_balance_at import GetBalanceAt
from application.use_cases.get_statement import GetStatement
from application.use_cases.get_transfer import GetTransfer
from application.use_cases.list_accounts import ListAccounts
from application.use_cases.open_account import OpenAccount
from application.use_cases.post_hold import PostHold
from application.use_cases.reconcile_ledger import ReconcileLedger
from application.use_cases.register_user import RegisterUser
from application.use_cases.reverse_transfer import ReverseTransfer
from application.use_cases.search_transfers import SearchTransfers
from application.use_cases.transfer_batch import TransferBatch
from application.use_cases.transfer_funds import TransferFunds
from application.use_cases.update_account import UpdateAccount
from application.use_cases.void_hold import VoidHold
from application.use_cases.withdraw import Withdraw
from application.write_pipeline import WritePipeline
from entrypoints.container import throttle_policies
from entrypoints.settings import Settings

DEFAULTS = Settings(_env_file=None)  # type: ignore[call-arg]
"""The defaults the service runs with: fakes use the same numbers, from the one place."""

TEST_SECRET = "test-secret-that-is-at-least-32-bytes-long"
TEST_STATEMENT_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
"""An Ed25519 private key as base64 of its 32 raw bytes (0, 1, ..., 31): tests only."""


@dataclass
class ManualClock:
    current: datetime = field(default_factory=lambda: datetime(2026, 1, 1, 12, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


class PoolExhaustedAt:
    """Units of work from `factory`, except the ones numbered in `failing` (from 1): those
    find no free connection, as when the pool is exhausted."""

    def __init__(self, factory: UnitOfWorkFactory, failing: set[int]) -> None:
        self._factory = factory
        self._failing = failing
        self.made = 0

    def __call__(self) -> UnitOfWork:
        self.made += 1
        if self.made in self._failing:
            return cast(UnitOfWork, _NoConnection())
        return self._factory()


class _NoConnection:
    async def __aenter__(self) -> Self:
        raise StorageUnavailable("No database connection became free in time.")

    async def __aexit__(self, *exc_info: object) -> None:
        return None


class FakePasswordHasher:
    """Reversible and instant; records verifications so the timing rule can be checked."""

    def __init__(self) -> None:
        self.verifications = 0

    async def hash(self, password: str) -> str:
        return f"fake${password}"

    async def verify(self, password_hash: str | None, password: str) -> bool:
        self.verifications += 1
        return password_hash is not None and password_hash == f"fake${password}"


@dataclass
class InMemoryBank:
    """Everything a use case needs, wired on fakes: the unit-test composition root."""

    storage: InMemoryStorage = field(default_factory=InMemoryStorage)
    clock: ManualClock = field(default_factory=ManualClock)
    hasher: FakePasswordHasher = field(default_factory=FakePasswordHasher)
    emails: EmailValidatorNormalizer = field(default_factory=EmailValidatorNormalizer)
    retry: TenacityTransactionRetry = field(
        default_factory=lambda: TenacityTransactionRetry(attempts=3, first_wait=0, max_wait=0)
    )

    def __post_init__(self) -> None:
        self.tokens = JwtTokenIssuer(TEST_SECRET, timedelta(minutes=15), self.clock)
        self.pipeline = WritePipeline(self.uow, self.clock, self.retry)
        self.group_commit = GroupCommit(
            self.pipeline,
            enabled=True,
            slots=DEFAULTS.group_commit_slots,
            max_group=DEFAULTS.group_commit_max_size,
            min_overlap=DEFAULTS.group_commit_min_overlap,
        )
        self.teller = Teller(self.group_commit, self.uow)
        self.throttle = Throttle(InMemoryAttemptLimiter(), self.clock, throttle_policies(DEFAULTS))

    def uow(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.storage)


def use_cases(bank: InMemoryBank) -> SimpleNamespace:
    """Every use case wired on the bank's fakes, as the container wires them on adapters."""
    return SimpleNamespace(
        register=RegisterUser(
            bank.uow, bank.hasher, bank.emails, bank.clock, bank.retry, bank.throttle
        ),
        open_account=OpenAccount(bank.uow, bank.clock, bank.retry, DEFAULTS.max_accounts_per_user),
        get_account=GetAccount(bank.uow, bank.clock),
        list_accounts=ListAccounts(bank.uow, bank.clock, DEFAULTS.max_page_bytes),
        deposit=Deposit(bank.teller, DEFAULTS.max_transfer_amount),
        transfer=TransferFunds(bank.teller, DEFAULTS.max_transfer_amount),
        get_transfer=GetTransfer(bank.uow, bank.clock),
        statement=GetStatement(bank.uow, bank.clock),
        summary=GetAccountSummary(bank.uow, bank.clock),
        reconcile=ReconcileLedger(InMemoryLedgerReconciliation(bank.storage), bank.clock),
        withdraw=Withdraw(bank.teller, DEFAULTS.max_transfer_amount),
        post_hold=PostHold(bank.teller),
        void_hold=VoidHold(bank.teller),
        reverse=ReverseTransfer(bank.teller),
        batch=TransferBatch(bank.teller, DEFAULTS.max_transfer_amount),
        expire_holds=ExpireHolds(bank.uow, bank.clock, bank.teller),
        update_account=UpdateAccount(bank.uow, bank.clock),
        close_account=CloseAccount(bank.uow, bank.clock),
        freeze=FreezeAccount(bank.uow, bank.clock),
        unfreeze=UnfreezeAccount(bank.uow, bank.clock),
        search=SearchTransfers(bank.uow, bank.clock, DEFAULTS.max_page_bytes),
        balance_at=GetBalanceAt(bank.uow, bank.clock),
        export_statement=ExportStatement(bank.uow, bank.clock, DEFAULTS.statement_max_entries),
    )
