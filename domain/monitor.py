"""Balance monitors: a condition on an account's balance or available amount, reported when
it starts to hold and when it stops (edge-triggered), never while it merely keeps holding."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from domain.errors import InvalidMonitor, TooManyMonitors
from domain.ids import new_id
from domain.money import MAX_MINOR_UNITS
from domain.transfer import normalize_description


class MonitorField(StrEnum):
    BALANCE = "balance"
    AVAILABLE = "available"


class MonitorOp(StrEnum):
    LT = "lt"
    LTE = "lte"
    GT = "gt"
    GTE = "gte"
    EQ = "eq"


@dataclass(frozen=True, slots=True)
class Figures:
    """What a monitor looks at, at one moment."""

    balance: int
    available: int


@dataclass(frozen=True, slots=True)
class Monitor:
    id: UUID
    account_id: UUID
    field: MonitorField
    op: MonitorOp
    value: int
    description: str | None
    created_at: datetime

    @classmethod
    def create(
        cls,
        *,
        account_id: UUID,
        field: MonitorField,
        op: MonitorOp,
        value: int,
        description: str | None,
        now: datetime,
    ) -> Monitor:
        if type(value) is not int or abs(value) > MAX_MINOR_UNITS:
            raise InvalidMonitor(f"A monitor's value is a whole number within ±{MAX_MINOR_UNITS}.")
        return cls(
            new_id(),
            account_id,
            MonitorField(field),
            MonitorOp(op),
            value,
            normalize_description(description),
            now,
        )

    def holds(self, figures: Figures) -> bool:
        seen = figures.balance if self.field is MonitorField.BALANCE else figures.available
        match self.op:
            case MonitorOp.LT:
                return seen < self.value
            case MonitorOp.LTE:
                return seen <= self.value
            case MonitorOp.GT:
                return seen > self.value
            case MonitorOp.GTE:
                return seen >= self.value
            case MonitorOp.EQ:
                return seen == self.value


@dataclass(frozen=True, slots=True)
class Crossing:
    """A monitor's condition changed: `triggered` (false to true) or cleared (true to
    false), between two figures of its account, the later at `sequence`."""

    monitor: Monitor
    triggered: bool
    sequence: int
    before: Figures
    after: Figures
    entry_hash: bytes
    """The account's head hash at `sequence`: the event reports it beside the sequence."""


def crossings(
    monitors: list[Monitor], before: Figures, after: Figures, sequence: int, entry_hash: bytes
) -> list[Crossing]:
    """Only the monitors whose condition changed: a condition that held before and holds
    after is reported by none, however long it lasts."""
    found = []
    for monitor in monitors:
        was, now = monitor.holds(before), monitor.holds(after)
        if was != now:
            found.append(Crossing(monitor, now, sequence, before, after, entry_hash))
    return found


def require_room_for_monitor(monitors: int, max_monitors: int) -> None:
    if monitors >= max_monitors:
        raise TooManyMonitors(
            f"An account may have at most {max_monitors} monitors; delete one first."
        )
