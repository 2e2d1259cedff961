"""Free loopback ports for the servers the tests start, taken from below the kernel's
ephemeral range.

A port from `bind(("127.0.0.1", 0))` is an ephemeral one: between the probe closing it and the
server binding it (seconds, while the server starts its database), any outgoing connection on
the machine may take it as its local port, and the server exits with "address already in use"
(CI saw it once). Ports below the range are only ever taken by an explicit bind.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

_LOWEST = 20_000
_given: set[int] = set()


def _outside_the_ephemeral_range() -> tuple[int, int]:
    """Below the kernel's ephemeral range, or above it when it starts too low."""
    try:
        start, end = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        start, end = 32_768, 60_999  # Linux's default
    if start - 1 - _LOWEST >= 1_000:
        return _LOWEST, start - 1
    return end + 1, 65_535


def free_port() -> int:
    """A loopback port nobody listens on, never handed out twice in this process."""
    lowest, highest = _outside_the_ephemeral_range()
    for _ in range(1_000):
        port = random.randint(lowest, highest)  # nosec B311: not a secret
        if port in _given:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _given.add(port)
        return port
    raise RuntimeError(f"no free loopback port between {lowest} and {highest}")
