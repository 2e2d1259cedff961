from __future__ import annotations

from application.errors import InvalidCredentials
from application.ports.email_normalizer import EmailNormalizer
from application.ports.password_hasher import PasswordHasher
from application.ports.token_issuer import AccessToken, TokenIssuer
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.errors import InvalidEmail
from domain.user import User


class Authenticate:
    """Trade an email and password for an access token.

    Unknown emails still pay for a hash verification, so response time does not reveal
    which addresses are registered; both failures raise the same error.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        hasher: PasswordHasher,
        emails: EmailNormalizer,
        tokens: TokenIssuer,
    ) -> None:
        self._uow_factory = uow_factory
        self._hasher = hasher
        self._emails = emails
        self._tokens = tokens

    async def __call__(self, email: str, password: str) -> AccessToken:
        user = await self._find(email)
        if user is not None and not user.is_active:
            user = None
        verified = await self._hasher.verify(user.password_hash if user else None, password)
        if user is None or not verified:
            raise InvalidCredentials("Incorrect email or password.")
        return self._tokens.issue(user.id)

    async def _find(self, email: str) -> User | None:
        try:
            normalized = self._emails.normalize(email)
        except InvalidEmail:
            return None
        async with self._uow_factory() as uow:
            return await uow.users.get_by_email(normalized)
