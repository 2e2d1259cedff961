"""Two-phase transfers, with TigerBeetle's semantics: a hold reserves money on its source
(pending), then is posted (in full or in part: the rest is released), voided, or expires."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID

from domain.account import Account
from domain.errors import (
    ExceedsPendingAmount,
    InsufficientFunds,
    InvalidAmount,
    InvalidHoldTimeout,
    TransferNotPending,
)
from domain.ledger import (
    HoldExpired,
    HoldPlaced,
    HoldPosted,
    HoldVoided,
    balances,
    check_movement,
    entry_time,
    move,
)
from domain.metadata import Metadata
from domain.money import Money
from domain.transfer import MAX_HOLD_TIMEOUT, Transfer, TransferStatus


def require_hold_timeout(seconds: int | None) -> timedelta | None:
    """None: the hold never expires; otherwise 1 s to `MAX_HOLD_TIMEOUT`."""
    if seconds is None:
        return None
    if type(seconds) is not int or not 1 <= seconds <= MAX_HOLD_TIMEOUT.total_seconds():
        raise InvalidHoldTimeout(
            f"A hold's timeout is 1 to {int(MAX_HOLD_TIMEOUT.total_seconds())} seconds."
        )
    return timedelta(seconds=seconds)


def place_hold(
    *,
    transfer_id: UUID,
    source: Account,
    destination: Account,
    amount: Money,
    description: str | None,
    now: datetime,
    timeout: timedelta | None,
    created_by: UUID | None = None,
    reference: str | None = None,
    metadata: Metadata | None = None,
) -> HoldPlaced:
    """Reserve `amount` on the source: its `held` grows, its balance does not, no entry."""
    check_movement(source, destination, amount, asked_by=created_by)
    source.held += amount.amount
    hold = Transfer(
        id=transfer_id,
        from_account_id=source.id,
        to_account_id=destination.id,
        amount=amount.amount,
        currency=amount.currency,
        description=description,
        created_at=now,
        status=TransferStatus.PENDING,
        expires_at=None if timeout is None else now + timeout,
        reference=reference,
        metadata=dict(metadata or {}),
        created_by=created_by,
    )
    return HoldPlaced(hold, source, destination, *balances(source, destination))


def post_hold(
    hold: Transfer,
    *,
    source: Account,
    destination: Account,
    amount: int | None,
    now: datetime,
    asked_by: UUID | None = None,
) -> HoldPosted:
    """Post the hold (all of it by default): the entries are written now, under the hold's
    own id, and whatever was not posted is released. Both accounts must still take money
    (a payee that no longer can is refused as in a transfer)."""
    _require_pending(hold, now)
    source.require_open_for_movement()
    destination.require_open_to_receive(asked_by=asked_by)
    posted = hold.amount if amount is None else amount
    if posted <= 0:
        raise InvalidAmount("An amount must be greater than zero.")
    if posted > hold.amount:
        raise ExceedsPendingAmount(f"The hold is for {hold.amount}; {posted} cannot be posted.")
    # Asked before anything changes: an overdraft limit lowered since the hold was placed
    # may refuse the posting, and a refusal must leave the hold counted in `held`.
    if not source.can_pay(posted - hold.amount):
        raise InsufficientFunds(f"Account {source.id} has insufficient funds.")
    source.held -= hold.amount
    after = replace(hold, status=TransferStatus.POSTED, posted_amount=posted)
    debit, credit = move(after, source, destination, posted, entry_time(now, source, destination))
    return HoldPosted(after, source, destination, debit, credit, *balances(source, destination))


def void_hold(
    hold: Transfer, *, source: Account, destination: Account, now: datetime
) -> HoldVoided:
    """Release the whole hold; nothing is posted."""
    _require_pending(hold, now)
    source.held -= hold.amount
    voided = replace(hold, status=TransferStatus.VOIDED)
    return HoldVoided(voided, source, destination, *balances(source, destination))


def expire_hold(
    hold: Transfer, *, source: Account, destination: Account, now: datetime
) -> HoldExpired:
    """Write down that a hold's time ran out. It has reserved nothing since its expiry (the
    accounts' held sums leave it out from then), so no account changes."""
    if hold.status is not TransferStatus.PENDING:
        raise TransferNotPending(f"Transfer {hold.id} is {hold.status.value}, not pending.")
    status = hold.status_at(now)
    if status is not TransferStatus.EXPIRED:
        raise TransferNotPending(f"Transfer {hold.id} is {status.value}, not past its expiry.")
    expired = replace(hold, status=TransferStatus.EXPIRED)
    return HoldExpired(expired, source, destination, *balances(source, destination))


def _require_pending(hold: Transfer, now: datetime) -> None:
    status = hold.status_at(now)
    if status is not TransferStatus.PENDING:
        raise TransferNotPending(f"Transfer {hold.id} is {status.value}, not pending.")
