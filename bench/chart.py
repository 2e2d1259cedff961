"""The report's chart: one small panel per scenario, each on its own scale (throughputs differ
a hundredfold between scenarios), one colour per contender throughout, and every goal drawn
as a dashed line where it sits, so met or not met reads at a glance."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bench.report import Panel, Report

if TYPE_CHECKING:
    from matplotlib.axes import Axes

# Fixed, so a contender has the same colour in every panel and every run.
COLOURS = {
    "hexbank": "#1f5f99",
    "hexbank, group commit off": "#8fbfe8",
    "tutorial baseline": "#e07b39",
    "database limit (asyncpg)": "#4c9a2a",
    "minimal transfer (asyncpg)": "#a3c98f",
    "HTTP limit (no DB)": "#9a7fc4",
}
OTHER = "#888888"
GOAL = "#b22222"
COLUMNS = 2
INCH_PER_BAR = 0.5
HEADER_INCHES = 0.8  # the title and the legend above the panels


def chart(report: Report, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    panels = report.panels
    rows = [panels[n : n + COLUMNS] for n in range(0, len(panels), COLUMNS)]
    # A row as tall as its fullest panel, plus room for its title, goal labels and axis.
    heights = [max(len(p.bars) + 0.5 * len(p.goals) for p in row) + 2.2 for row in rows]
    height = INCH_PER_BAR * sum(heights) + HEADER_INCHES
    fig, axes = plt.subplots(
        len(rows),
        COLUMNS,
        figsize=(15, height),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
    )
    for ax, panel in zip(axes.flat, panels, strict=False):
        _draw(ax, panel)
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)

    profile = report.facts.get("profile", "")
    fig.suptitle(
        f"hexbank against its targets: {profile} profile, one app worker each",
        y=1 - 0.1 / height,
        va="top",
        fontsize=13,
        fontweight="bold",
    )
    shown = {bar.contender for panel in panels for bar in panel.bars}
    legend: list[Patch | Line2D] = [
        Patch(color=colour, label=name) for name, colour in COLOURS.items() if name in shown
    ]
    legend.append(Line2D([], [], color=GOAL, linestyle="--", label="goal"))
    fig.legend(
        handles=legend,
        loc="upper center",
        bbox_to_anchor=(0.5, 1 - 0.45 / height),
        ncol=len(legend),
        frameon=False,
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0, 1, 1 - HEADER_INCHES / height), h_pad=1.2, w_pad=3)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _draw(ax: Axes, panel: Panel) -> None:
    """Horizontal bars with their values written on them, goals as labelled dashed lines."""
    values = [bar.value for bar in panel.bars]
    positions = list(range(len(panel.bars)))
    ax.barh(
        positions,
        values,
        color=[COLOURS.get(bar.contender, OTHER) for bar in panel.bars],
        height=0.7,
    )
    ax.set_yticks(positions, [bar.label for bar in panel.bars], fontsize=9)
    # Top to bottom in the order given, with half a bar of room above them per goal label.
    ax.set_ylim(len(panel.bars) - 0.5, -0.6 - 0.5 * len(panel.goals))
    right = max([*values, *(goal.value for goal in panel.goals), 1e-9]) * 1.3
    ax.set_xlim(0, right)
    for position, value in zip(positions, values, strict=True):
        ax.text(
            value + right * 0.01,
            position,
            _figure(value),
            va="center",
            fontsize=8,
            zorder=3,  # over a goal line drawn through it
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.3, "alpha": 0.8},
        )
    for n, goal in enumerate(panel.goals):
        ax.axvline(goal.value, color=GOAL, linestyle="--", linewidth=1.4)
        left_of_line = goal.value > right * 0.55
        ax.text(
            goal.value,
            -0.75 - 0.5 * n,
            f" {goal.label} ({_figure(goal.value)}) ",
            color=GOAL,
            fontsize=8.5,
            va="center",
            ha="right" if left_of_line else "left",
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5},
        )
    ax.set_title(panel.title, loc="left", fontsize=11, fontweight="bold")
    ax.set_xlabel(panel.axis, fontsize=9)
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(axis="x", alpha=0.25)
    ax.set_axisbelow(True)


def _figure(value: float) -> str:
    """Enough digits to tell a bar from a goal line drawn next to it."""
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"
