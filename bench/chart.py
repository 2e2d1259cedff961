"""The report's chart: throughput on the left, p50 and p99 latency (log scale) on the right,
one bar group per row of the table."""

from __future__ import annotations

from pathlib import Path

from bench.report import Report


def chart(report: Report, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{r.scenario.split(')')[0]}) {r.contender}" for r in report.rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(15, 0.45 * len(labels) + 2))
    left.barh(labels, [r.ok_per_s for r in report.rows], color="#2a6f97")
    left.set_xlabel("successful requests per second")
    left.invert_yaxis()
    positions = range(len(labels))
    right.barh(
        [p - 0.2 for p in positions],
        [r.p50_ms for r in report.rows],
        height=0.4,
        label="p50",
        color="#61a5c2",
    )
    right.barh(
        [p + 0.2 for p in positions],
        [r.p99_ms for r in report.rows],
        height=0.4,
        label="p99",
        color="#a9d6e5",
    )
    right.set_yticks(list(positions), [""] * len(labels))
    right.set_xscale("log")
    right.set_xlabel("latency, ms (log)")
    right.invert_yaxis()
    right.legend()
    fig.suptitle("hexbank vs tutorial baseline vs limits (1 app worker each)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
