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


class JwtTokenIssuer(TokenIssuer):
    def __init__(self, secret: str, lifetime: timedelta, clock: Clock, issuer: str = "hexbank"):
        self._secret = secret
        self._lifetime = lifetime
        self._clock = clock
        self._issuer = issuer

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
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                issuer=self._issuer,
                # Times are checked below against the injected clock, not PyJWT's own.
                options={
                    "require": ["sub", "exp", "iat", "iss"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
            now = self._clock.now().timestamp()
            if not float(claims["iat"]) - _LEEWAY_S <= now < float(claims["exp"]):
                raise InvalidToken("The access token has expired or is not valid yet.")
            return UUID(claims["sub"])
        except (jwt.InvalidTokenError, ValueError, TypeError) as error:
            raise InvalidToken("The access token is invalid or has expired.") from error
