"""The README's settings table is the one `Settings` renders, and the renderer reads names,
aliases, defaults, ranges and descriptions from the fields themselves."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from entrypoints.settings_reference import (
    NO_DESCRIPTION,
    REGENERATE,
    readme_table,
    settings_table,
    with_table,
)

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_table_is_the_one_the_settings_render() -> None:
    written = readme_table((ROOT / "README.md").read_text())
    assert written == settings_table(), (
        f"README.md's settings table disagrees with entrypoints/settings.py: run `{REGENERATE}`"
    )


class Example(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EXAMPLE_")

    url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("EXAMPLE_URL", "URL"),
        description="Where | what.",
    )
    size: int = Field(default=20, ge=1, le=64, description="How many.")
    wait_s: float = Field(default=0.5, gt=0, description="How long.")
    mode: Literal["on", "off"] = Field(default="on", description="Which.")
    names: list[str] = Field(default_factory=list, description="Who.")
    flag: bool = False


def test_each_field_renders_its_variables_default_range_and_meaning() -> None:
    rows = settings_table(Example).splitlines()
    assert rows[:2] == ["| variable | default | range | meaning |", "| --- | --- | --- | --- |"]
    assert rows[2:] == [
        "| `URL`, `EXAMPLE_URL` | unset | - | Where \\| what. |",
        "| `EXAMPLE_SIZE` | `20` | 1 to 64 | How many. |",
        "| `EXAMPLE_WAIT_S` | `0.5` | > 0 | How long. |",
        "| `EXAMPLE_MODE` | `on` | `on` or `off` | Which. |",
        "| `EXAMPLE_NAMES` | empty | - | Who. |",
        f"| `EXAMPLE_FLAG` | `false` | - | {NO_DESCRIPTION} |",
    ]


def test_the_table_is_replaced_between_its_markers_only() -> None:
    readme = (ROOT / "README.md").read_text()
    changed = with_table(readme, "| a |")
    assert readme_table(changed) == "| a |"
    assert with_table(changed, readme_table(readme)) == readme
