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


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default


def free_port() -> int:
    """A loopback port nobody listens on, never handed out twice in this process."""
    highest = _ephemeral_start() - 1
    for _ in range(1_000):
        port = random.randint(_LOWEST, highest)  # nosec B311: not a secret
        if port in _given:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _given.add(port)
        return port
    raise RuntimeError(f"no free loopback port between {_LOWEST} and {highest}")
