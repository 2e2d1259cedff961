"""Webhook endpoints: where a user's events are POSTed, signed with a secret of the endpoint's
own, and the rules a delivery follows (which addresses it may reach, how it is signed, when
it is tried again).

Unlike an API key's, a webhook secret must stay readable: the bank computes an HMAC with it
on every delivery, so it cannot be kept as a hash; it is sealed at rest instead (see
docs/webhooks.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
import random
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from uuid import UUID

from domain.errors import InvalidWebhookEndpoint, UnsafeWebhookUrl
from domain.ids import new_id

SECRET_MARK = "whsec_"  # noqa: S105  # nosec B105
SECRET_BYTES = 32
MAX_ENDPOINTS_PER_USER = 20
"""Webhook endpoints of one user, by default; HEXBANK_WEBHOOK_ENDPOINTS_PER_USER."""
URL_MAX_LENGTH = 2048
DESCRIPTION_MAX_LENGTH = 200
ROTATION_OVERLAP = timedelta(hours=24)
"""How long the old secret still signs every delivery after a rotation, beside the new one."""
DELIVERY_TIMEOUT_S = 10.0
"""An endpoint that has not answered in this long has failed this attempt."""
FIRST_RETRY = timedelta(seconds=5)
LONGEST_RETRY = timedelta(hours=6)


def new_webhook_secret() -> str:
    """`whsec_` and 32 random bytes in base64url (no padding)."""
    return SECRET_MARK + base64.urlsafe_b64encode(os.urandom(SECRET_BYTES)).rstrip(b"=").decode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of `<timestamp>.<body>` under the secret (its text, `whsec_` included)."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secrets: Iterable[str], timestamp: int, body: bytes) -> str:
    """`t=<unix seconds>,v1=<hex>[,v1=<hex>]`: one `v1` per secret that signs now."""
    return ",".join([f"t={timestamp}", *(f"v1={signature(s, timestamp, body)}" for s in secrets)])


def retry_delay(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with full jitter: uniform in [0, min(longest, first * 2^(n-1))]
    after the n-th failed attempt, so endpoints coming back are not all hit at once."""
    ceiling = min(LONGEST_RETRY, FIRST_RETRY * (1 << min(max(attempts - 1, 0), 30)))
    fraction: float = (rng or random).random()  # nosec B311
    return ceiling * fraction


def unsafe_address(address: str) -> bool:
    """Whether a webhook may not reach this address: private, loopback, link-local, reserved,
    multicast, unspecified or shared (CGNAT). An IPv6 address that carries an IPv4 one to
    reach (mapped `::ffff:a.b.c.d`, 6to4 `2002:aabb:ccdd::`) is judged as that IPv4: the
    standard library calls 6to4 global whatever it embeds (2002:7f00:1:: is loopback)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:
            ip = embedded
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
        or not ip.is_global
    )


@dataclass(frozen=True, slots=True)
class WebhookUrl:
    """An absolute http(s) URL split where a delivery needs it."""

    url: str
    scheme: str
    host: str
    port: int

    @property
    def literal_address(self) -> str | None:
        """The host when it is an IP address, not a name."""
        try:
            return str(ipaddress.ip_address(self.host))
        except ValueError:
            return None


def parse_webhook_url(url: str, *, allow_private: bool) -> WebhookUrl:
    """The URL's parts, once its shape is one a webhook may have: https (http too with
    `allow_private`), a host, no credentials. Its addresses are checked apart (`unsafe_address`)
    after DNS resolution."""
    if not 1 <= len(url) <= URL_MAX_LENGTH:
        raise InvalidWebhookEndpoint(f"A webhook URL has 1 to {URL_MAX_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise InvalidWebhookEndpoint(f"The webhook URL cannot be read: {error}.") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidWebhookEndpoint("A webhook URL is an absolute https URL.")
    if parts.scheme != "https" and not allow_private:
        raise UnsafeWebhookUrl("A webhook URL must use https.")
    if parts.username is not None or parts.password is not None:
        raise InvalidWebhookEndpoint("A webhook URL carries no user name or password.")
    default_port = 443 if parts.scheme == "https" else 80
    return WebhookUrl(url, parts.scheme, parts.hostname, port or default_port)


def check_addresses(url: WebhookUrl, addresses: Collection[str], *, allow_private: bool) -> None:
    """Refuse a URL whose host resolved to nothing, or to any address a webhook may not reach
    (one bad address is enough: the connection could land on it)."""
    if not addresses:
        raise UnsafeWebhookUrl(f"The webhook host {url.host} does not resolve.")
    if allow_private:
        return
    for address in addresses:
        if unsafe_address(address):
            raise UnsafeWebhookUrl(
                f"The webhook host {url.host} is or resolves to a private, loopback, "
                "link-local or reserved address."
            )


def check_description(description: str | None) -> None:
    if description is not None and len(description) > DESCRIPTION_MAX_LENGTH:
        raise InvalidWebhookEndpoint(
            f"A description has at most {DESCRIPTION_MAX_LENGTH} characters."
        )


def check_event_types(event_types: Collection[str] | None, known: Collection[str]) -> None:
    if event_types is None:
        return
    if not event_types:
        raise InvalidWebhookEndpoint("event_types lists at least one type; omit it for all.")
    unknown = set(event_types) - set(known)
    if unknown:
        raise InvalidWebhookEndpoint(f"Unknown event types: {', '.join(sorted(unknown))}.")


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    id: UUID
    user_id: UUID
    url: str
    event_types: frozenset[str] | None
    """None: every type the user's feed shows."""
    description: str | None
    enabled: bool
    secret: str
    created_at: datetime
    previous_secret: str | None = None
    previous_secret_until: datetime | None = None
    """The old secret signs too until then, after a rotation."""
    failing_since: datetime | None = None
    """When its deliveries started to fail, every one since (None: the last one succeeded)."""

    @classmethod
    def create(
        cls,
        *,
        user_id: UUID,
        url: str,
        event_types: Collection[str] | None,
        description: str | None,
        now: datetime,
    ) -> WebhookEndpoint:
        check_description(description)
        return cls(
            id=new_id(),
            user_id=user_id,
            url=url,
            event_types=None if event_types is None else frozenset(event_types),
            description=description,
            enabled=True,
            secret=new_webhook_secret(),
            created_at=now,
        )

    def takes(self, event_type: str) -> bool:
        return self.event_types is None or event_type in self.event_types

    def signing_secrets(self, now: datetime) -> list[str]:
        """The current secret, and the previous one during the 24 h after a rotation."""
        secrets = [self.secret]
        if (
            self.previous_secret is not None
            and self.previous_secret_until is not None
            and now < self.previous_secret_until
        ):
            secrets.append(self.previous_secret)
        return secrets

    def rotated(self, now: datetime) -> WebhookEndpoint:
        return replace(
            self,
            secret=new_webhook_secret(),
            previous_secret=self.secret,
            previous_secret_until=now + ROTATION_OVERLAP,
        )
