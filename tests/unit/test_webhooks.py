"""Webhook rules without I/O: signatures (also as openssl computes them), backoff, which
addresses a webhook may reach, and delivery on the fakes with a manual clock: DNS rebinding
refused at delivery, retries that run out, an endpoint disabled after failing for the whole
window, and the per-endpoint bound."""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import uuid4

import pytest

from adapters.in_memory.storage import InMemoryStorage
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from adapters.in_memory.webhooks import RecordingWebhookTransport, StaticHostResolver
from application.events import AccountState, Event
from application.ports.webhooks import DeliveryStatus, WebhookResponse, WebhookTransport
from application.use_cases.deliver_webhooks import DeliverWebhooks, DispatchWebhooks
from application.webhook_urls import WebhookUrlGuard
from domain.errors import InvalidWebhookEndpoint, UnsafeWebhookUrl
from domain.webhook import (
    FIRST_RETRY,
    LONGEST_RETRY,
    WebhookEndpoint,
    parse_webhook_url,
    retry_delay,
    signature,
    signature_header,
    unsafe_address,
)
from tests.fakes import ManualClock
from tests.webhook_receiver import documented_verify

if TYPE_CHECKING:
    from entrypoints.webhooks import WebhookLoop

WINDOW = timedelta(hours=72)


def test_the_signature_is_the_documented_hmac_and_what_openssl_computes() -> None:
    body = b'{"id":"x","type":"transfer.posted"}'
    header = signature_header(["whsec_new", "whsec_old"], 1_700_000_000, body)
    assert header.startswith("t=1700000000,v1=")
    assert header.count("v1=") == 2
    verify = documented_verify()
    assert verify("whsec_new", header, body, tolerance_s=10**10)
    assert verify("whsec_old", header, body, tolerance_s=10**10)
    assert not verify("whsec_other", header, body, tolerance_s=10**10)
    assert not verify("whsec_new", header, body + b" ", tolerance_s=10**10)
    assert not verify("whsec_new", header, body, tolerance_s=300)  # far too old
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl here")
    out = subprocess.run(
        [openssl, "dgst", "-sha256", "-hmac", "whsec_new"],
        input=b"1700000000." + body,
        capture_output=True,
        check=True,
    ).stdout.decode()
    assert out.strip().rsplit("= ", 1)[-1] == signature("whsec_new", 1_700_000_000, body)


def test_the_documented_openssl_check_prints_the_v1_signature(tmp_path: Path) -> None:
    bash, openssl = shutil.which("bash"), shutil.which("openssl")
    if bash is None or openssl is None:
        pytest.skip("no bash or openssl here")
    text = (Path(__file__).resolve().parents[2] / "docs" / "webhooks.md").read_text()
    check = text[text.index("The same check with `openssl`") :]
    command = check[check.index("```sh\n") + 6 : check.index("```", check.index("```sh") + 5)]
    body = b'{"id":"x","accounts":[]}'
    (tmp_path / "body.json").write_bytes(body)
    printed = subprocess.run(
        [bash, "-c", command],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], "T": "1700000000", "SECRET": "whsec_k"},
        capture_output=True,
        check=True,
    ).stdout.decode()
    assert printed.strip() == signature("whsec_k", 1_700_000_000, body)


def test_backoff_is_exponential_with_full_jitter_and_a_ceiling() -> None:
    rng = random.Random(7)
    for attempts in range(1, 40):
        ceiling = min(LONGEST_RETRY, FIRST_RETRY * 2 ** (attempts - 1))
        delays = [retry_delay(attempts, rng) for _ in range(50)]
        assert all(timedelta(0) <= delay <= ceiling for delay in delays)
        assert max(delays) > ceiling / 2  # spread over the whole range
    assert len({retry_delay(3, rng) for _ in range(20)}) == 20


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.0.0.1", "10.255.1.2", "169.254.169.254", "::1", "192.168.1.1",
     "172.16.0.1", "100.64.0.1", "0.0.0.0", "::ffff:127.0.0.1", "fe80::1", "fc00::1",  # noqa: S104
     "224.0.0.1", "240.0.0.1", "2002:7f00:1::", "2002:a9fe:a9fe::1", "2002:a00:1::",
     "64:ff9b::7f00:1", "::127.0.0.1", "2001:0:4136:e378:8000:63bf:80ff:fffe"],
)  # fmt: skip
def test_private_loopback_link_local_and_reserved_addresses_are_unsafe(address: str) -> None:
    assert unsafe_address(address)


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "2002:5db8:d822::1"]
)
def test_public_addresses_are_safe(address: str) -> None:
    assert not unsafe_address(address)


@pytest.mark.parametrize(
    "url",
    ["https://2130706433/", "https://0177.0.0.1/", "https://0x7f.1/", "https://127.1/",
     "https://[::ffff:a9fe:a9fe]/", "https://[2002:a9fe:a9fe::]/", "https://0/"],
)  # fmt: skip
async def test_numeric_host_forms_are_judged_as_the_address_they_name(url: str) -> None:
    """Decimal, octal, hexadecimal and short IPv4 forms are no IP literal to `ipaddress`:
    the system resolver reads them (no DNS involved), and the guard judges what it reads."""
    from adapters.http_webhooks import SystemHostResolver

    with pytest.raises(UnsafeWebhookUrl):
        await WebhookUrlGuard(SystemHostResolver(), allow_private=False)(url)


def test_a_url_is_https_without_credentials() -> None:
    with pytest.raises(UnsafeWebhookUrl):
        parse_webhook_url("http://hooks.example.com/", allow_private=False)
    assert parse_webhook_url("http://127.0.0.1:8080/x", allow_private=True).port == 8080
    for bad in ["ftp://hooks.example.com/", "https://", "https://u:p@hooks.example.com/", "x"]:
        with pytest.raises(InvalidWebhookEndpoint):
            parse_webhook_url(bad, allow_private=False)


class Rebinding(StaticHostResolver):
    """A name that answers a public address first, then loopback (DNS rebinding)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def resolve(self, host: str, port: int) -> list[str]:
        self.calls += 1
        return ["93.184.216.34"] if self.calls == 1 else ["127.0.0.1"]


class Setup:
    def __init__(
        self,
        transport: WebhookTransport,
        resolver: StaticHostResolver | None = None,
        concurrency: int = 8,
        batch_size: int = 100,
    ) -> None:
        self.storage = InMemoryStorage()
        self.clock = ManualClock()
        self.guard = WebhookUrlGuard(
            resolver or StaticHostResolver({"hooks.example.com": ["93.184.216.34"]}),
            allow_private=False,
        )
        self.dispatch = DispatchWebhooks(self.uow, self.clock, batch_size=batch_size)
        self.deliver = DeliverWebhooks(
            self.uow,
            self.clock,
            self.guard,
            transport,
            retry_window=WINDOW,
            concurrency=concurrency,
            batch_size=batch_size,
        )

    def uow(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.storage)

    async def endpoint(self, user_id: object = None) -> WebhookEndpoint:
        endpoint = WebhookEndpoint.create(
            user_id=user_id or uuid4(),  # type: ignore[arg-type]
            url="https://hooks.example.com/x",
            event_types=None,
            description=None,
            now=self.clock.now(),
        )
        await self.guard(endpoint.url)  # as when it is saved
        async with self.uow() as uow:
            await uow.webhook_endpoints.add(endpoint)
            await uow.commit()
        return endpoint

    async def events(self, endpoint: WebhookEndpoint, count: int = 1) -> None:
        state = AccountState(uuid4(), 2, 10, 10, endpoint.user_id, bytes(32), 1)
        async with self.uow() as uow:
            await uow.outbox.add(
                [
                    Event(
                        uuid4(),
                        "transfer.posted",
                        self.clock.now(),
                        {},
                        (state,),
                        (endpoint.user_id,),
                    )
                    for _ in range(count)
                ]
            )
            await uow.commit()

    def loop(self, *, idle_s: float, batch_size: int = 10) -> WebhookLoop:
        """The worker's loop (entrypoints/webhooks.py) on this setup's fan-out and delivery."""
        from prometheus_client import CollectorRegistry

        from entrypoints.observability.webhook_metrics import WebhookMetrics
        from entrypoints.webhooks import WebhookLoop

        metrics = WebhookMetrics(CollectorRegistry())
        return WebhookLoop(
            self.dispatch,
            self.deliver,
            self.uow,
            metrics,
            self.clock,
            idle_s=idle_s,
            batch_size=batch_size,
        )

    async def step(self) -> None:
        """A pass of the loop (entrypoints/webhooks.py) without the wait."""
        fanned = await self.dispatch()
        await self.deliver.take(fanned)
        await self.deliver()

    async def run_pass(self) -> None:
        await self.step()
        await asyncio.sleep(0)
        await self.deliver.drain()

    def deliveries(self) -> list[object]:
        return list(self.storage.webhook_deliveries.values())


async def test_a_name_rebound_to_loopback_is_refused_at_delivery() -> None:
    transport = RecordingWebhookTransport()
    setup = Setup(transport, Rebinding())
    endpoint = await setup.endpoint()
    await setup.events(endpoint)
    await setup.run_pass()
    assert transport.sent == []
    [delivery] = setup.storage.webhook_deliveries.values()
    assert delivery.status is DeliveryStatus.PENDING
    assert delivery.attempts == 1
    assert (delivery.last_error or "").startswith("unsafe-webhook-url")


async def test_retries_run_out_after_the_window_and_the_endpoint_is_disabled() -> None:
    transport = RecordingWebhookTransport(status_code=500)
    setup = Setup(transport)
    endpoint = await setup.endpoint()
    await setup.events(endpoint)
    await setup.run_pass()
    [delivery] = setup.storage.webhook_deliveries.values()
    assert (delivery.status, delivery.last_status_code) == (DeliveryStatus.PENDING, 500)
    assert delivery.next_attempt_at is not None
    assert delivery.next_attempt_at <= setup.clock.now() + FIRST_RETRY
    setup.clock.advance(hours=71)
    await setup.run_pass()
    [delivery] = setup.storage.webhook_deliveries.values()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 2)
    assert setup.storage.webhook_endpoints[endpoint.id].enabled
    setup.clock.advance(hours=1, seconds=1)
    await setup.run_pass()
    [delivery] = setup.storage.webhook_deliveries.values()
    assert (delivery.status, delivery.next_attempt_at) == (DeliveryStatus.FAILED, None)
    assert not setup.storage.webhook_endpoints[endpoint.id].enabled
    disabled = [s.event for s in setup.storage.events if s.event.type.startswith("webhook")]
    assert [(e.type, e.data["reason"], e.user_ids) for e in disabled] == [
        ("webhook_endpoint.disabled", "failing", (endpoint.user_id,))
    ]
    assert [h["Hexbank-Delivery-Attempt"] for _, _, _, h in transport.sent] == ["1", "2", "3"]


async def test_an_endpoint_that_succeeds_now_and_then_stays_enabled() -> None:
    transport = RecordingWebhookTransport(status_code=500)
    setup = Setup(transport)
    endpoint = await setup.endpoint()
    await setup.events(endpoint)
    await setup.run_pass()
    transport.status_code = 200
    await setup.events(endpoint)
    await setup.run_pass()
    transport.status_code = 500
    setup.clock.advance(hours=73)
    await setup.run_pass()
    assert setup.storage.webhook_endpoints[endpoint.id].enabled  # failing for 0 h only


class Blocking(WebhookTransport):
    """Holds every POST to `slow` until released; answers the others at once."""

    def __init__(self, slow: str) -> None:
        self.slow = slow
        self.release = asyncio.Event()
        self.in_flight = 0
        self.most = 0
        self.fast = 0
        self.urls: list[str] = []
        self.answer: Callable[[], WebhookResponse] = lambda: WebhookResponse(200)

    async def post(
        self, url: str, address: str, body: bytes, headers: Mapping[str, str]
    ) -> WebhookResponse:
        self.urls.append(url)
        if url != self.slow:
            self.fast += 1
            return WebhookResponse(200)
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        await self.release.wait()
        self.in_flight -= 1
        return self.answer()

    async def close(self) -> None:
        return None


async def test_a_slow_endpoint_holds_only_its_own_slots() -> None:
    transport = Blocking("https://hooks.example.com/slow")
    setup = Setup(transport, concurrency=2)
    slow = await setup.endpoint()
    async with setup.uow() as uow:
        await uow.webhook_endpoints.save(replace(slow, url="https://hooks.example.com/slow"))
        await uow.commit()
    fast = await setup.endpoint()
    await setup.events(slow, 5)
    await setup.events(fast, 5)
    for _ in range(3):
        await setup.step()
        await asyncio.sleep(0)
    assert transport.fast == 5
    assert (transport.in_flight, transport.most) == (2, 2)
    transport.release.set()
    for _ in range(4):
        await setup.deliver()
        await asyncio.sleep(0.01)
    await setup.deliver.drain()
    statuses = [d.status for d in setup.storage.webhook_deliveries.values()]
    assert statuses == [DeliveryStatus.DELIVERED] * 10
    assert transport.most == 2


async def test_a_failing_endpoint_has_one_attempt_in_flight_until_one_succeeds() -> None:
    """Endpoints that hang (or refuse) cannot take the process's slots from those that
    answer: while every attempt since `failing_since` has failed, one at a time."""
    transport = Blocking("https://hooks.example.com/slow")
    setup = Setup(transport, concurrency=4)
    dead = await setup.endpoint()
    async with setup.uow() as uow:
        await uow.webhook_endpoints.save(
            replace(dead, url="https://hooks.example.com/slow", failing_since=setup.clock.now())
        )
        await uow.commit()
    fast = await setup.endpoint()
    await setup.events(dead, 5)
    await setup.events(fast, 5)
    for _ in range(3):
        await setup.step()
        await asyncio.sleep(0)
    assert transport.fast == 5
    assert (transport.in_flight, transport.most) == (1, 1)
    transport.release.set()  # it answers 200 again: failing no more
    for _ in range(6):
        await setup.deliver()
        await asyncio.sleep(0.01)
    await setup.deliver.drain()
    statuses = [d.status for d in setup.storage.webhook_deliveries.values()]
    assert statuses == [DeliveryStatus.DELIVERED] * 10
    assert setup.storage.webhook_endpoints[dead.id].failing_since is None


async def test_slow_endpoints_deliveries_waiting_in_a_worker_do_not_stop_its_fan_out() -> None:
    """Endpoints that answer slowly (not failing: they do answer 2xx) fill their rooms to
    wait in the worker; the fan-out still goes on for the others' events."""
    transport = Blocking("https://hooks.example.com/slow")
    setup = Setup(transport, concurrency=1, batch_size=10)
    for _ in range(4):
        slow = await setup.endpoint()
        async with setup.uow() as uow:
            await uow.webhook_endpoints.save(replace(slow, url="https://hooks.example.com/slow"))
            await uow.commit()
        await setup.events(slow, 8)
    fast = await setup.endpoint()
    await setup.events(fast)
    loop = setup.loop(idle_s=0.01)
    running = asyncio.create_task(loop.run())
    try:
        for _ in range(100):
            if transport.fast:
                break
            await asyncio.sleep(0.01)
        assert transport.fast == 1
        assert transport.in_flight == 4  # one per slow endpoint: its bound
    finally:
        transport.release.set()
        loop.stop()
        await running
    assert setup.deliver.waiting == 0


async def test_a_full_fan_out_is_followed_by_the_next_at_once_not_by_the_idle_wait() -> None:
    """Events no endpoint takes are read all the same: a pass that fanned out its full
    fan-out size is behind, whatever it leased, so the next one starts at once."""
    setup = Setup(Blocking("https://hooks.example.com/x"), batch_size=10)
    setup.dispatch = DispatchWebhooks(setup.uow, setup.clock, batch_size=5)
    nobodys = WebhookEndpoint.create(
        user_id=uuid4(),
        url="https://hooks.example.com/x",
        event_types=None,
        description=None,
        now=setup.clock.now(),
    )  # never saved: its user's events have no endpoint
    await setup.events(nobodys, 23)
    loop = setup.loop(idle_s=60)
    running = asyncio.create_task(loop.run())
    try:
        for _ in range(100):
            await asyncio.sleep(0.01)
            if setup.storage.webhook_fanned_out == 23:
                break
        else:
            pytest.fail("the fan-out waited before reading the events left")
    finally:
        loop.stop()
        await running


async def test_deliveries_waiting_for_an_endpoint_that_starts_failing_go_one_at_a_time() -> None:
    """The fan-out leased them while the endpoint was sound; once its attempts fail, they
    no longer take `concurrency` slots each at a time: it is failing, one at a time."""
    transport = Blocking("https://hooks.example.com/slow")
    setup = Setup(transport, concurrency=2)
    hanging = await setup.endpoint()
    async with setup.uow() as uow:
        await uow.webhook_endpoints.save(replace(hanging, url="https://hooks.example.com/slow"))
        await uow.commit()
    await setup.events(hanging, 6)
    await setup.step()
    await asyncio.sleep(0)
    assert (transport.in_flight, setup.deliver.waiting) == (2, 4)
    failed = asyncio.Event()
    transport.answer = lambda: WebhookResponse(None, "no answer within 10 s")
    transport.release.set()  # the two attempts fail
    await asyncio.sleep(0.01)
    transport.release = failed  # from now on they hang again
    transport.most = 0
    for _ in range(5):
        setup.clock.advance(seconds=1)
        await setup.deliver()
        await asyncio.sleep(0.01)
    assert setup.storage.webhook_endpoints[hanging.id].failing_since is not None
    assert transport.most == 1
    failed.set()
    await setup.deliver.drain()


@pytest.mark.parametrize("change", ["moved", "disabled", "deleted"])
async def test_deliveries_that_waited_obey_what_their_owner_changed_meanwhile(
    change: str,
) -> None:
    """A fresh delivery waits in the worker for its endpoint's slot, with the endpoint as
    the fan-out read it: by the time it starts, the owner may have moved, disabled or
    deleted the endpoint. Its events go to the URL of now, or nowhere."""
    transport = Blocking("https://hooks.example.com/slow")
    setup = Setup(transport, concurrency=1)
    slow = replace(await setup.endpoint(), url="https://hooks.example.com/slow")
    async with setup.uow() as uow:
        await uow.webhook_endpoints.save(slow)
        await uow.commit()
    await setup.events(slow, 3)
    await setup.step()
    await asyncio.sleep(0)
    assert (transport.in_flight, setup.deliver.waiting) == (1, 2)
    async with setup.uow() as uow:
        if change == "moved":
            await uow.webhook_endpoints.save(replace(slow, url="https://hooks.example.com/new"))
        elif change == "disabled":
            await uow.webhook_endpoints.save(replace(slow, enabled=False))
        else:
            await uow.webhook_endpoints.delete(slow.id)
        await uow.commit()
    setup.clock.advance(seconds=5)
    transport.release.set()
    for _ in range(4):
        await setup.deliver()
        await asyncio.sleep(0.01)
    await setup.deliver.drain()
    sent_after = transport.urls[1:]
    if change == "moved":
        assert sent_after == ["https://hooks.example.com/new"] * 2
    else:
        assert sent_after == []
    if change == "disabled":  # pending, for when it is enabled again
        statuses = [d.status for d in setup.storage.webhook_deliveries.values()]
        assert statuses.count(DeliveryStatus.PENDING) == 2
        assert setup.storage.webhook_leases == {}


async def test_attempts_in_flight_stay_within_the_workers_slots() -> None:
    """Fresh deliveries too: many endpoints that hang hold 4 x batch_size attempts (and
    sockets) at most, however many they are."""
    transport = Blocking("https://hooks.example.com/slow")
    setup = Setup(transport, concurrency=2, batch_size=2)
    for _ in range(6):
        hanging = await setup.endpoint()
        async with setup.uow() as uow:
            await uow.webhook_endpoints.save(replace(hanging, url="https://hooks.example.com/slow"))
            await uow.commit()
        await setup.events(hanging, 2)
    for _ in range(8):
        await setup.step()
        await asyncio.sleep(0)
    assert transport.most == 8  # 4 x batch_size
    transport.release.set()
    for _ in range(8):
        await setup.step()
        await asyncio.sleep(0.01)
    await setup.deliver.drain()
    statuses = [d.status for d in setup.storage.webhook_deliveries.values()]
    assert statuses == [DeliveryStatus.DELIVERED] * 12


def test_the_metrics_count_outcomes_and_show_the_backlog() -> None:
    from prometheus_client import CollectorRegistry

    from application.ports.webhooks import DeliveryBacklog
    from entrypoints.observability.webhook_metrics import WebhookMetrics

    registry = CollectorRegistry()
    metrics = WebhookMetrics(registry)
    metrics.outcome("delivered")
    metrics.outcome("delivered")
    metrics.outcome("retried")
    clock = ManualClock()
    metrics.observe(DeliveryBacklog(5, 2, clock.now() - timedelta(seconds=30)), clock.now())

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert value("hexbank_webhook_deliveries_total", outcome="delivered") == 2
    assert value("hexbank_webhook_deliveries_total", outcome="retried") == 1
    assert value("hexbank_webhook_pending") == 5
    assert value("hexbank_webhook_retry_backlog") == 2
    assert value("hexbank_webhook_oldest_pending_seconds") == 30
    metrics.observe(DeliveryBacklog(0, 0, None), clock.now())
    assert value("hexbank_webhook_oldest_pending_seconds") == 0


class Exploding(RecordingWebhookTransport):
    async def post(
        self, url: str, address: str, body: bytes, headers: Mapping[str, str]
    ) -> WebhookResponse:
        raise RuntimeError("a bug")


async def test_an_unexpected_error_is_a_failed_attempt_in_the_log() -> None:
    setup = Setup(Exploding())
    endpoint = await setup.endpoint()
    await setup.events(endpoint)
    await setup.run_pass()
    [delivery] = setup.storage.webhook_deliveries.values()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    assert delivery.last_error == "unexpected RuntimeError: a bug"


def test_secrets_are_sealed_bound_to_their_endpoint_and_need_the_key() -> None:
    from adapters.sealed_secrets import SecretSealer
    from application.errors import StorageUnavailable

    sealer = SecretSealer(lambda: "k" * 32)
    endpoint, other = uuid4(), uuid4()
    sealed = sealer.seal("whsec_abc", endpoint)
    assert sealed.startswith("sealed:v1:")
    assert "whsec_abc" not in sealed
    assert sealed != sealer.seal("whsec_abc", endpoint)  # a new nonce each time
    assert sealer.open(sealed, endpoint) == "whsec_abc"
    assert sealer.open("whsec_in_clear", endpoint) == "whsec_in_clear"  # written by hand
    with pytest.raises(StorageUnavailable):
        sealer.open(sealed, other)  # moved to another endpoint's row
    with pytest.raises(StorageUnavailable):
        SecretSealer(lambda: "x" * 32).open(sealed, endpoint)  # another key
