"""What a client can make a real `hexbank serve` spend before its request reaches the app
(issue 19, H1 and M3): header bytes (431, nothing kept past the limit), time to send headers
(closed), idle keep-alive connections (closed), connections (capped, 503); and /metrics,
served on its own listener and not on the API's port."""

from __future__ import annotations

import os
import resource
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.fakes import TEST_SECRET, TEST_STATEMENT_KEY
from tests.integration.test_processes import answers_ready
from tests.ports import free_port
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
MiB = 1024 * 1024
METRICS_TOKEN = "metrics-token-for-the-test"  # nosec B105


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    port: int
    metrics_port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmRSS")

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)


@contextmanager
def hexbank_serve(database_url: str, tmp_path: Path, **env: str) -> Iterator[Served]:
    """`hexbank serve` on the suite's PostgreSQL, ready; stopped with SIGTERM whatever
    happens."""
    port, metrics_port = free_port(), free_port()
    log = tmp_path / "serve.log"
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "HEXBANK_JWT_SECRET": TEST_SECRET,
        "HEXBANK_STATEMENT_SIGNING_KEY": TEST_STATEMENT_KEY,
        "HEXBANK_DATA_DIR": str(tmp_path),
        "HEXBANK_LOG_LEVEL": "warning",
        "HEXBANK_METRICS_PORT": str(metrics_port),
        **env,
    }
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli", "serve", "--port", str(port)],
            env=environment,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    served = Served(process, port, metrics_port, log)
    try:
        wait_until(lambda: answers_ready(process, served.base), "`hexbank serve` to be ready")
        yield served
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def read_until_closed(sock: socket.socket, within_s: float) -> tuple[bytes, bool]:
    """Everything the server sends until it closes (EOF or reset); whether it closed."""
    sock.settimeout(within_s)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        return received, True
    except TimeoutError:
        return received, False
    return received, True


def one_response(sock: socket.socket) -> bytes:
    """One whole response with a Content-Length, read from a kept-alive connection."""
    received = b""

    def more() -> bytes:
        chunk = sock.recv(65536)
        assert chunk, f"the server closed the connection after {received[:200]!r}"
        return chunk

    while b"\r\n\r\n" not in received:
        received += more()
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += more()
    return head + b"\r\n\r\n" + body


def request_with_header(size: int) -> bytes:
    return b"GET /health/live HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * size + b"\r\n\r\n"


# -- H1: header bytes ------------------------------------------------------------------------


def flood_headers(served: Served, total: int, outcome: list[str]) -> None:
    """Header lines, `total` bytes of them, never ending the request (H1's attacker)."""
    line = b"X-Pad: " + b"p" * 1016 + b"\r\n"
    chunk = line * 64
    sent = 0
    with served.connect() as sock:
        try:
            sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: t\r\n")
            while sent < total:
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass  # closed by the server: what we want
        answer, closed = read_until_closed(sock, within_s=10)
    outcome.append(f"sent {sent // MiB} MiB, closed={closed}, answer={answer[:12]!r}")


def test_eight_connections_of_endless_headers_cost_no_memory(
    database_url: str, tmp_path: Path
) -> None:
    with hexbank_serve(database_url, tmp_path) as served:
        for _ in range(20):  # the request path warmed up
            assert httpx.get(f"{served.base}/health/live").status_code == 200
        before = served.rss_mib()
        outcomes: list[str] = []
        attackers = [
            threading.Thread(target=flood_headers, args=(served, 25 * MiB, outcomes))
            for _ in range(8)
        ]
        for attacker in attackers:
            attacker.start()
        for attacker in attackers:
            attacker.join(timeout=120)
        after = served.rss_mib()
        print(f"RSS {before:.1f} -> {after:.1f} MiB; {outcomes}")
        assert len(outcomes) == 8, outcomes
        assert all("closed=True" in outcome for outcome in outcomes), outcomes
        assert after - before <= 20, f"RSS {before:.0f} -> {after:.0f} MiB: {outcomes}"

        with served.connect() as sock:  # one 5 MB header: 431, and the connection ends
            started = time.monotonic()
            with suppress(OSError):
                sock.sendall(request_with_header(5_000_000))
            answer, closed = read_until_closed(sock, within_s=10)
        assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
        assert b"application/problem+json" in answer
        assert b"/problems/request-header-fields-too-large" in answer
        assert closed
        assert time.monotonic() - started < 5

        with served.connect() as sock:  # 15 KiB of headers is still a request
            sock.sendall(request_with_header(15 * 1024))
            assert one_response(sock).startswith(b"HTTP/1.1 200 ")
        assert served.process.poll() is None


def test_headers_just_within_the_limit_are_served_with_their_body(
    database_url: str, tmp_path: Path
) -> None:
    """The read that crosses the limit may end the headers: its body and the pipelined next
    request are served, not refused."""
    with hexbank_serve(database_url, tmp_path, HEXBANK_MAX_HEADER_BYTES="2048") as served:
        head = b"POST /api/v1/auth/token HTTP/1.1\r\nHost: t\r\n"
        head += b"Content-Type: application/x-www-form-urlencoded\r\n"
        body = b"grant_type=password&username=nobody%40example.com&password=wrong-password"
        head += b"Content-Length: %d\r\nX-Pad: " % len(body)
        head += b"p" * (2048 - len(head) - 4) + b"\r\n\r\n"
        assert len(head) == 2048
        with served.connect() as sock:
            sock.sendall(head + body + request_with_header(100))
            first = one_response(sock)
            assert first.startswith(b"HTTP/1.1 400 "), first[:300]
            assert one_response(sock).startswith(b"HTTP/1.1 200 ")
        with served.connect() as sock:  # headers that begin in the read that ends a body
            sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\n")
            assert one_response(sock).startswith(b"HTTP/1.1 200 ")
            sock.sendall(b"x" + b"GET /health/live HTTP/1.1\r\n" + b"X-Pad: abcdefgh\r\n" * 512)
            answer, closed = read_until_closed(sock, within_s=5)
            assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
            assert closed
        with served.connect() as sock:
            sock.sendall(request_with_header(2048))
            answer, closed = read_until_closed(sock, within_s=10)
            assert answer.startswith(b"HTTP/1.1 431 ")
            assert closed


# -- M3: slow headers --------------------------------------------------------------------------


@dataclass
class SlowClients:
    """Connections that each sent a request line, then send one header line every 5 s."""

    sockets: dict[socket.socket, float] = field(default_factory=dict)  # -> opened at
    lifetimes: list[float] = field(default_factory=list)


def test_two_thousand_slow_header_connections_are_dropped_and_health_answers(
    database_url: str, tmp_path: Path
) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2_500:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4_096), hard))
    with hexbank_serve(database_url, tmp_path) as served, ExitStack() as stack:
        health: list[str] = []
        stop = threading.Event()

        def poll_health() -> None:
            while not stop.is_set():
                try:
                    status = httpx.get(f"{served.base}/health/live", timeout=2).status_code
                    health.append(str(status))
                except httpx.HTTPError as error:
                    health.append(repr(error))
                stop.wait(0.25)

        poller = threading.Thread(target=poll_health)
        poller.start()
        stack.callback(poller.join)
        stack.callback(stop.set)

        slow = SlowClients()
        selector = selectors.DefaultSelector()
        stack.callback(selector.close)
        for _ in range(2_000):
            sock = served.connect()
            stack.callback(sock.close)
            sock.sendall(b"GET /health/live HTTP/1.1\r\n")
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ)
            slow.sockets[sock] = time.monotonic()
        opened = time.monotonic()
        next_line = opened + 5
        while slow.sockets and time.monotonic() - opened < 30:
            for key, _ in selector.select(timeout=0.1):
                ready = key.fileobj
                assert isinstance(ready, socket.socket)
                sock = ready
                try:
                    if sock.recv(65536):
                        continue  # the 408; its end comes next
                except BlockingIOError:
                    continue
                except OSError:
                    pass  # reset: closed as well
                slow.lifetimes.append(time.monotonic() - slow.sockets.pop(sock))
                selector.unregister(sock)
            if time.monotonic() >= next_line:
                next_line += 5
                for sock in list(slow.sockets):
                    with suppress(OSError):  # closed: the selector sees it
                        sock.send(b"X-Slow: still here\r\n")
        stop.set()
        poller.join()
        print(
            f"lifetimes {min(slow.lifetimes):.1f}..{max(slow.lifetimes):.1f} s, {len(health)} polls"
        )
        assert not slow.sockets, f"{len(slow.sockets)} slow connections still open after 30 s"
        assert max(slow.lifetimes) <= 15, f"the last one lived {max(slow.lifetimes):.1f} s"
        assert min(slow.lifetimes) >= 9.5, f"one was closed after {min(slow.lifetimes):.1f} s"
        failures = [answer for answer in health if answer != "200"]
        assert len(health) >= 20, health
        assert not failures, f"{failures[:5]} of {len(health)} polls"


# -- idle keep-alive, late headers on a kept-alive connection, the connection cap ----------------


def closed_after(sock: socket.socket, within_s: float = 10) -> float:
    started = time.monotonic()
    _, closed = read_until_closed(sock, within_s)
    assert closed, "the server kept the connection open"
    return time.monotonic() - started


def test_idle_and_late_connections_are_closed(database_url: str, tmp_path: Path) -> None:
    with hexbank_serve(
        database_url,
        tmp_path,
        HEXBANK_KEEP_ALIVE_TIMEOUT_S="1",
        HEXBANK_HEADER_TIMEOUT_S="2",
    ) as served:
        with served.connect() as sock:  # idle after an answer: the keep-alive timeout
            sock.sendall(request_with_header(10))
            assert one_response(sock).startswith(b"HTTP/1.1 200 ")
            assert 0.8 <= closed_after(sock) <= 2.5

        with served.connect() as sock:  # never a byte: the header timeout, from the start
            assert 1.9 <= closed_after(sock) <= 3.5

        with served.connect() as sock:  # a kept-alive connection's next request is slow
            sock.sendall(request_with_header(10))
            assert one_response(sock).startswith(b"HTTP/1.1 200 ")
            time.sleep(0.5)  # within the keep-alive timeout
            started = time.monotonic()
            sock.sendall(b"GET /health/live HTTP/1.1\r\n")
            for _ in range(3):
                time.sleep(0.5)
                sock.sendall(b"X-Slow: yes\r\n")
            answer, closed = read_until_closed(sock, within_s=10)
            lived = time.monotonic() - started
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
        assert b"/problems/request-timeout" in answer
        assert closed
        assert 1.9 <= lived <= 3.5, lived


def test_connections_past_the_cap_get_a_fast_503(database_url: str, tmp_path: Path) -> None:
    with hexbank_serve(database_url, tmp_path, HEXBANK_MAX_CONNECTIONS="8") as served:
        time.sleep(0.5)  # the readiness checks' connections are gone
        with ExitStack() as stack:
            held = []
            for _ in range(8):
                sock = stack.enter_context(served.connect())
                sock.sendall(b"GET /health/live HTTP/1.1\r\n")  # and no more, for now
                held.append(sock)
            time.sleep(0.3)
            with served.connect() as extra:
                started = time.monotonic()
                with suppress(OSError):
                    extra.sendall(request_with_header(10))
                answer, closed = read_until_closed(extra, within_s=5)
                waited = time.monotonic() - started
            assert closed
            assert waited < 1, waited
            if answer:  # or refused outright: a reset before the answer could be read
                assert answer.startswith(b"HTTP/1.1 503 "), answer[:200]
                assert b"/problems/too-many-connections" in answer
                assert b"retry-after: 1" in answer

            held[0].sendall(b"Host: t\r\n\r\n")  # one held connection completes and ends
            assert one_response(held[0]).startswith(b"HTTP/1.1 200 ")
            held[0].close()

            def a_request_is_served() -> bool:
                try:
                    return httpx.get(f"{served.base}/health/live", timeout=2).status_code == 200
                except httpx.HTTPError:
                    return False

            wait_until(a_request_is_served, "a connection under the cap to be served")


# -- /metrics: its own listener ------------------------------------------------------------


def test_metrics_are_served_on_their_own_port_with_the_token(
    database_url: str, tmp_path: Path
) -> None:
    with hexbank_serve(database_url, tmp_path, HEXBANK_METRICS_TOKEN=METRICS_TOKEN) as served:
        assert httpx.get(f"{served.base}/health/live").status_code == 200
        assert httpx.get(f"{served.base}/metrics").status_code == 404
        metrics = f"http://127.0.0.1:{served.metrics_port}/metrics"
        refused = httpx.get(metrics)
        assert (refused.status_code, refused.headers["www-authenticate"]) == (401, "Bearer")
        scraped = httpx.get(metrics, headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert scraped.status_code == 200
        assert 'route="/health/live",status="200"' in scraped.text
        assert 'route="unmatched",status="404"' in scraped.text  # the public /metrics
