"""`hexbank reconcile`'s answer as plain-text tables: one line per check with its count of
differences, then every difference, so an operator reads the books' state at a glance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields

from application.ports.reconciliation import ReconciliationReport

CHECKS = (
    ("balance_mismatches", "balance = sum of its entries"),
    ("broken_chains", "balance_after = running sum"),
    ("unbalanced_transfers", "posted = one debit + one credit"),
    ("mismatched_transfers", "posted and reversed amounts agree"),
    ("overdrawn_accounts", "open holds <= balance"),
    ("broken_hash_chains", "entry_hash chains from the previous entry"),
)


def render_report(report: ReconciliationReport) -> str:
    """The totals by currency, the checks and their counts, each difference, and a verdict."""
    totals = [
        (currency, str(total)) for currency, total in sorted(report.totals_by_currency.items())
    ]
    parts = [
        render_table(("currency", "sum of entries (must be 0)"), totals)
        if totals
        else "no entries yet",
        render_table(
            ("check", "differences"),
            [(meaning, str(len(getattr(report, name)))) for name, meaning in CHECKS],
        ),
    ]
    for name, meaning in CHECKS:
        found: list[object] = getattr(report, name)
        if found:
            columns = [field.name for field in fields(found[0])]  # type: ignore[arg-type]
            rows = [tuple(_cell(getattr(item, column)) for column in columns) for item in found]
            parts.append(f"where not {meaning}:\n{render_table(columns, rows)}")
    parts.append("the ledger balances" if report.is_clean else "the ledger does NOT balance")
    return "\n\n".join(parts)


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell; numbers (and counts) aligned to the right."""
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=False)]
    numeric = [all(_is_number(row[i]) for row in rows) and bool(rows) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        padded = (
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, right in zip(cells, widths, numeric, strict=True)
        )
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])


def _cell(value: object) -> str:
    if value is None:
        return "-"
    return str(value)


def _is_number(cell: str) -> bool:
    return cell.removeprefix("-").isdigit() or cell == "-"
