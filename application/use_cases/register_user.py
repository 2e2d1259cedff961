from __future__ import annotations

from dataclasses import dataclass

from application.events import TraceContext, untraced, user_registered
from application.ports.clock import Clock
from application.ports.email_normalizer import EmailNormalizer
from application.ports.password_hasher import PasswordHasher
from application.ports.retry import TransactionRetry
from application.ports.unit_of_work import UnitOfWorkFactory
from application.throttle import Throttle, registration_client_key
from domain.user import User, normalize_full_name, require_valid_password


@dataclass(frozen=True, slots=True)
class Registration:
    email: str
    password: str
    full_name: str


class RegisterUser:
    """Create a user. The store's unique email is the guard: no check-then-insert race.
    Attempts are limited per client address."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        hasher: PasswordHasher,
        emails: EmailNormalizer,
        clock: Clock,
        retry: TransactionRetry,
        throttle: Throttle,
        trace: TraceContext = untraced,
    ) -> None:
        self._uow_factory = uow_factory
        self._hasher = hasher
        self._emails = emails
        self._clock = clock
        self._retry = retry
        self._throttle = throttle
        self._trace = trace

    async def __call__(self, registration: Registration, client: str | None = None) -> User:
        if client is not None:
            # Counted before any hashing: a flood costs the attacker, not our CPU.
            key = registration_client_key(client)
            await self._throttle.refuse_if_blocked([key])
            await self._throttle.count(key, self._throttle.policies.registration_per_client)
        email = self._emails.normalize(registration.email)
        full_name = normalize_full_name(registration.full_name)
        require_valid_password(registration.password)
        user = User.register(
            email=email,
            full_name=full_name,
            password_hash=await self._hasher.hash(registration.password),
            now=self._clock.now(),
        )

        registered = user_registered(user, user.created_at, traceparent=self._trace())

        async def store() -> None:
            async with self._uow_factory() as uow:
                await uow.users.add(user)
                await uow.outbox.add([registered])
                await uow.commit()

        await self._retry.run(store)
        return user
