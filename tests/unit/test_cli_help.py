"""`hexbank --help` and every command's help at 80 columns: no line wider than the terminal,
and a line breaks only where the next word would not have fitted (no break carried over
from a docstring's source lines)."""

from __future__ import annotations

import itertools
import re

import pytest
from typer.testing import CliRunner

from entrypoints.cli import cli

WIDTH = 80
COMMANDS = sorted(command.name or "" for command in cli.registered_commands)


def help_text(*args: str) -> str:
    result = CliRunner().invoke(cli, [*args, "--help"], env={"COLUMNS": str(WIDTH)})
    assert result.exit_code == 0, result.output
    return result.output


def early_breaks(text: str) -> list[str]:
    """Pairs of lines where the second continues the first's text, and its first word would
    have fitted on the first line."""
    found = []
    lines = text.splitlines()
    for previous, line in itertools.pairwise(lines):
        boxed = previous.startswith("│") and line.startswith("│")
        above, inner = (previous[1:-1], line[1:-1]) if boxed else (previous, line)
        words = inner.split()
        if not words or not above.strip() or words[0].startswith("["):  # typer's own lines
            continue
        column = len(inner) - len(inner.lstrip())
        if boxed and (column <= 1 or above[column - 1] != " " or above[column] == " "):
            continue  # a new row, or not the continuation of a cell of the row above
        room = (len(inner) if boxed else WIDTH) - column - 1  # less the right padding
        used = len(above[column:].rstrip())
        if used + 1 + len(words[0]) <= room:
            found.append(f"{previous}\n{line}")
    return found


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_fits_80_columns_and_breaks_only_where_it_must(command: str) -> None:
    text = help_text(*([command] if command else []))
    too_wide = [line for line in text.splitlines() if len(line.rstrip()) > WIDTH]
    assert not too_wide, "\n".join(too_wide)
    assert not early_breaks(text), "\n\n".join(early_breaks(text))


def test_the_exit_statuses_are_in_the_help() -> None:
    text = re.sub(r"\s+", " ", help_text())
    assert "0 done; 1 refused or not found" in text
    assert "2 could not run" in text
