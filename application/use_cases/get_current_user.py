from __future__ import annotations

from application.errors import InvalidToken
from application.ports.token_issuer import TokenIssuer
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.user import User


class GetCurrentUser:
    """Resolve a bearer token to an existing, active user."""

    def __init__(self, uow_factory: UnitOfWorkFactory, tokens: TokenIssuer) -> None:
        self._uow_factory = uow_factory
        self._tokens = tokens

    async def __call__(self, token: str) -> User:
        user_id = self._tokens.subject_of(token)
        async with self._uow_factory() as uow:
            user = await uow.users.get(user_id)
        if user is None or not user.is_active:
            raise InvalidToken("The token's user does not exist or is not active.")
        return user
