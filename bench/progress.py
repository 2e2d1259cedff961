"""What a bench run prints: a line per step and one per measured contender, nothing else;
whatever the servers and tools say goes to the run's log files instead."""

from __future__ import annotations

from bench.report import Row

_line_open = False


def _close_line() -> None:
    global _line_open
    if _line_open:
        print(flush=True)
        _line_open = False


def say(text: str) -> None:
    """A whole line (ending any line `begin` left open, as when a step fails)."""
    _close_line()
    print(text, flush=True)


def begin(label: str) -> None:
    """The first half of a contender's line, shown while it runs."""
    global _line_open
    _close_line()
    print(f"  {label:<28} ", end="", flush=True)
    _line_open = True


def end(text: str) -> None:
    """The second half: the result."""
    global _line_open
    print(text, flush=True)
    _line_open = False


def summary(row: Row) -> str:
    """A row in one line: throughput, latency, failures, and its note."""
    line = (
        f"{row.ok_per_s:>7,.0f} {row.unit}/s  p50 {row.p50_ms:7.1f} ms  p99 {row.p99_ms:7.1f} ms  "
        f"non-2xx {row.non_2xx:,}  5xx {row.server_errors:,}"
    )
    return f"{line}  ({row.note})" if row.note else line
