from __future__ import annotations

from dataclasses import dataclass

from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.account import fx_account_id
from domain.currency import MINOR_UNITS


@dataclass(frozen=True, slots=True)
class FxPosition:
    currency: str
    balance: int
    """The bank's FX account of the currency: positive, what conversions left the bank
    holding in it; negative, what it paid out more than it took in."""


class FxPositions:
    """The bank's position in every currency a conversion has touched, from its FX accounts
    (fixed ids: found without a search)."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def __call__(self) -> list[FxPosition]:
        ids = [fx_account_id(currency) for currency in MINOR_UNITS]
        async with self._uow_factory() as uow:
            found = await uow.accounts.get_many(ids, at=self._clock.now())
        return sorted(
            (FxPosition(account.currency, account.balance) for account in found.values()),
            key=lambda position: position.currency,
        )
