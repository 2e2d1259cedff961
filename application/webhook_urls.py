"""The server-side request forgery guard of webhooks: a URL is checked when it is saved and
again before every delivery, after its name is resolved, and the delivery connects to the
address checked then (a name that resolved to a public address when saved, and to a private
one now, is refused now: DNS rebinding)."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports.webhooks import HostResolver
from domain.errors import UnsafeWebhookUrl
from domain.webhook import WebhookUrl, check_addresses, parse_webhook_url


@dataclass(frozen=True, slots=True)
class CheckedUrl:
    url: WebhookUrl
    address: str
    """The checked address a delivery connects to."""


class WebhookUrlGuard:
    def __init__(self, resolver: HostResolver, *, allow_private: bool) -> None:
        self._resolver = resolver
        self._allow_private = allow_private

    async def __call__(self, url: str) -> CheckedUrl:
        """The URL and the address to connect to; `UnsafeWebhookUrl` when any address the
        host has is one a webhook may not reach, or it has none."""
        parsed = parse_webhook_url(url, allow_private=self._allow_private)
        literal = parsed.literal_address
        if literal is not None:
            addresses = [literal]
        else:
            try:
                addresses = await self._resolver.resolve(parsed.host, parsed.port)
            except (OSError, UnicodeError, ValueError):  # no such name, or no name at all
                raise UnsafeWebhookUrl(
                    f"The webhook host {parsed.host} does not resolve."
                ) from None
        check_addresses(parsed, addresses, allow_private=self._allow_private)
        return CheckedUrl(parsed, addresses[0])
