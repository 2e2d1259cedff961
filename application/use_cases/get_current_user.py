from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta
from uuid import UUID

from application.errors import InvalidToken
from application.ports.clock import Clock
from application.ports.token_issuer import TokenIssuer
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.user import User


class GetCurrentUser:
    """Resolve a bearer token to an existing, active user.

    Every authenticated request needs this, so a user found active is remembered for
    `recheck_after` (a few seconds): a deactivated account loses access within that window
    instead of costing a database read on every request. Zero checks every time.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        tokens: TokenIssuer,
        clock: Clock,
        recheck_after: timedelta,
        capacity: int = 10_000,
    ) -> None:
        self._uow_factory = uow_factory
        self._tokens = tokens
        self._clock = clock
        self._recheck_after = recheck_after
        self._capacity = capacity
        self._recent: OrderedDict[UUID, tuple[User, datetime]] = OrderedDict()

    async def __call__(self, token: str) -> User:
        user_id = self._tokens.subject_of(token)
        now = self._clock.now()
        recent = self._recent.get(user_id)
        if recent is not None and recent[1] > now:
            return recent[0]
        async with self._uow_factory() as uow:
            user = await uow.users.get(user_id)
        if user is None or not user.is_active:
            self._recent.pop(user_id, None)
            raise InvalidToken("The token's user does not exist or is not active.")
        if self._recheck_after:
            self._remember(user, now + self._recheck_after)
        return user

    def _remember(self, user: User, until: datetime) -> None:
        self._recent[user.id] = (user, until)
        self._recent.move_to_end(user.id)
        while len(self._recent) > self._capacity:
            self._recent.popitem(last=False)
