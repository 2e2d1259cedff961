"""Access tokens as HS256 JWTs (PyJWT), with the algorithm pinned and every claim required."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import jwt

from application.errors import InvalidToken
from application.ports.clock import Clock
from application.ports.token_issuer import AccessToken, TokenIssuer

_ALGORITHM = "HS256"
_LEEWAY_S = 30.0
_VERIFIED_CAPACITY = 10_000


class JwtTokenIssuer(TokenIssuer):
    """Every authenticated request presents its token again, and checking the signature and
    claims costs tens of microseconds: a token found genuine is remembered (its subject and
    validity window, keyed by the exact token string), so a repeat costs one dict lookup.
    Only tokens that passed verification are remembered; the expiry is checked against the
    clock on every call, cached or not."""

    def __init__(
        self,
        secret: str,
        lifetime: timedelta,
        clock: Clock,
        issuer: str = "hexbank",
        verified_capacity: int = _VERIFIED_CAPACITY,
    ):
        self._secret = secret
        self._lifetime = lifetime
        self._clock = clock
        self._issuer = issuer
        self._verified_capacity = verified_capacity
        self._verified: dict[str, tuple[UUID, float, float]] = {}

    def issue(self, user_id: UUID) -> AccessToken:
        now = self._clock.now()
        claims = {
            "sub": str(user_id),
            "iat": now,
            "exp": now + self._lifetime,
            "iss": self._issuer,
        }
        token = jwt.encode(claims, self._secret, algorithm=_ALGORITHM)
        return AccessToken(token=token, expires_in=int(self._lifetime.total_seconds()))

    def subject_of(self, token: str) -> UUID:
        verified = self._verified.get(token)
        if verified is None:
            verified = self._verify(token)
            self._remember(token, verified)
        subject, issued_at, expires_at = verified
        now = self._clock.now().timestamp()
        if not issued_at - _LEEWAY_S <= now < expires_at:
            if now >= expires_at:
                self._verified.pop(token, None)
            raise InvalidToken("The access token has expired or is not valid yet.")
        return subject

    def _verify(self, token: str) -> tuple[UUID, float, float]:
        """Signature, algorithm, issuer and required claims; the times are left to the caller
        (checked against the injected clock, not PyJWT's own)."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                issuer=self._issuer,
                options={
                    "require": ["sub", "exp", "iat", "iss"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
            return UUID(claims["sub"]), float(claims["iat"]), float(claims["exp"])
        except (jwt.InvalidTokenError, ValueError, TypeError) as error:
            raise InvalidToken("The access token is invalid or has expired.") from error

    def _remember(self, token: str, verified: tuple[UUID, float, float]) -> None:
        if len(self._verified) >= self._verified_capacity:
            del self._verified[next(iter(self._verified))]  # the oldest remembered
        self._verified[token] = verified
