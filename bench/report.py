"""The benchmark's findings: one row per scenario and contender, the targets checked against
them, the chart panels that show both, the facts that make the numbers comparable, and the
Markdown report built from them."""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import psutil

from bench.load import LoadResult, wrk_available


@dataclass
class Row:
    scenario: str
    contender: str
    ok_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    server_errors: int
    server_cpu: float | None = None
    generator_cpu: float | None = None
    note: str = ""
    # What ok_per_s counts: 2xx answers, or for the batch endpoint the transfers they made.
    unit: str = "2xx"


def as_row(
    scenario: str, contender: str, result: LoadResult, server_cpu: float | None, note: str = ""
) -> Row:
    return Row(
        scenario,
        contender,
        result.ok_per_s,
        result.p50_ms,
        result.p99_ms,
        result.requests,
        sum(n for s, n in result.statuses.items() if not 200 <= s < 300) + result.socket_errors,
        result.server_errors,
        server_cpu,
        result.generator_cpu_share,
        note,
    )


class Check(NamedTuple):
    """A target, what was measured against it, and whether it was met."""

    target: str
    measured: str
    met: bool


class Bar(NamedTuple):
    """One bar of a chart panel; `contender` picks its colour, `label` names it."""

    label: str
    contender: str
    value: float


class Goal(NamedTuple):
    """A target drawn where it sits on its panel's scale."""

    value: float
    label: str


@dataclass
class Panel:
    """One scenario's small chart, on its own scale: throughputs differ a hundredfold."""

    title: str
    axis: str
    bars: list[Bar]
    goals: list[Goal] = field(default_factory=list)


@dataclass
class Outcome:
    """What one scenario found: its rows, its targets, its chart panels, and facts."""

    rows: list[Row]
    checks: list[Check]
    facts: dict[str, str] = field(default_factory=dict)
    panels: list[Panel] = field(default_factory=list)


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)
    panels: list[Panel] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.rows += outcome.rows
        self.checks += outcome.checks
        self.facts.update(outcome.facts)
        self.panels += outcome.panels


def machine_facts(profile: str) -> dict[str, str]:
    """The machine and tools, so a reader can tell which runs compare."""
    memory = psutil.virtual_memory().total / 2**30
    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {memory:.0f} GiB, {platform.platform()}",
        "CPU": _cpu_model(),
        "Python": platform.python_version(),
        "load generator": "wrk (Lua script), 1 thread"
        if wrk_available()
        else "asyncio client (wrk not installed)",
        "profile": profile,
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def markdown(report: Report) -> str:
    lines = [
        "# hexbank benchmark",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
    ]
    lines += [f"- **{key}**: {value}" for key, value in report.facts.items()]
    lines += [
        "",
        "| scenario | contender | 2xx/s | p50 ms | p99 ms | requests | non-2xx | 5xx | server CPU | generator CPU | note |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in report.rows:
        cpu = f"{r.server_cpu:.0%}" if r.server_cpu is not None else ""
        gen = f"{r.generator_cpu:.0%}" if r.generator_cpu is not None else ""
        per_s = f"{r.ok_per_s:,.0f}" + ("" if r.unit == "2xx" else f" {r.unit}/s")
        lines.append(
            f"| {r.scenario} | {r.contender} | {per_s} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.requests:,} | {r.non_2xx:,} | {r.server_errors:,} | {cpu} | {gen} | {r.note} |"
        )
    lines += ["", "| target | measured | met |", "|---|---|---|"]
    lines += [
        f"| {name} | {value} | {'yes' if ok else '**no**'} |" for name, value, ok in report.checks
    ]
    return "\n".join(lines) + "\n"
