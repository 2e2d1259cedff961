"""A metadata value refuses exactly Unicode's control characters and lone surrogates (the
categories Cc and Cs), checked against `unicodedata` over every code point."""

import sys
import unicodedata

import pytest

from domain.errors import InvalidMetadata
from domain.metadata import require_metadata_value


def test_refuses_exactly_the_control_and_surrogate_categories() -> None:
    for code_point in range(sys.maxunicode + 1):
        character = chr(code_point)
        forbidden = unicodedata.category(character) in {"Cc", "Cs"}
        try:
            require_metadata_value(f"before {character} after")
        except InvalidMetadata:
            assert forbidden, f"U+{code_point:04X} refused"
        else:
            assert not forbidden, f"U+{code_point:04X} accepted"


@pytest.mark.parametrize("value", ["", "plain", "é ü 漢字 🙂", "x" * 500])
def test_keeps_what_it_accepts(value: str) -> None:
    assert require_metadata_value(value) == value
