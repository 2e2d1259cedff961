from __future__ import annotations

from application.errors import InvalidCredentials
from application.ports.email_normalizer import EmailNormalizer
from application.ports.password_hasher import PasswordHasher
from application.ports.token_issuer import AccessToken, TokenIssuer
from application.ports.unit_of_work import UnitOfWorkFactory
from application.throttle import Throttle, login_client_key, login_email_key, token_client_key
from domain.errors import InvalidEmail
from domain.user import User


class Authenticate:
    """Trade an email and password for an access token.

    Unknown emails still pay for a hash verification, so response time does not reveal
    which addresses are registered; both failures raise the same error. Failures are
    counted per email and per client address, in storage all instances share; past the
    limit both are refused for a while (`TooManyAttempts`), and a success clears the
    email's count (not the address's: one good login must not launder a stuffing run).
    Every attempt, successful or not, also counts against its address
    (`token_per_client`), before its hash is paid for: a loop of correct logins cannot take
    the password hasher from everyone else.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        hasher: PasswordHasher,
        emails: EmailNormalizer,
        tokens: TokenIssuer,
        throttle: Throttle,
    ) -> None:
        self._uow_factory = uow_factory
        self._hasher = hasher
        self._emails = emails
        self._tokens = tokens
        self._throttle = throttle

    async def __call__(self, email: str, password: str, client: str | None = None) -> AccessToken:
        normalized = self._normalized(email)
        email_key = login_email_key(normalized or email.strip().lower())
        keys = [email_key]
        if client is not None:
            keys += [login_client_key(client), token_client_key(client)]
        await self._throttle.refuse_if_blocked(keys)
        policies = self._throttle.policies
        if client is not None:
            await self._throttle.count(token_client_key(client), policies.token_per_client)

        user = await self._find(normalized)
        if user is not None and not user.is_active:
            user = None
        verified = await self._hasher.verify(user.password_hash if user else None, password)
        if user is None or not verified:
            await self._throttle.count(email_key, policies.login_per_email)
            if client is not None:
                await self._throttle.count(login_client_key(client), policies.login_per_client)
            raise InvalidCredentials("Incorrect email or password.")
        await self._throttle.forget(email_key)
        return self._tokens.issue(user.id)

    def _normalized(self, email: str) -> str | None:
        try:
            return self._emails.normalize(email)
        except InvalidEmail:
            return None

    async def _find(self, email: str | None) -> User | None:
        if email is None:
            return None
        async with self._uow_factory() as uow:
            return await uow.users.get_by_email(email)
