"""Settings that contradict each other are refused at start, naming the variable."""

from __future__ import annotations

import pytest

from entrypoints.settings import ConfigurationError, load_settings


def test_a_group_must_be_able_to_start_beside_another(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEXBANK_GROUP_COMMIT_MAX_SIZE", "50")
    monkeypatch.setenv("HEXBANK_GROUP_COMMIT_MIN_OVERLAP", "50")
    assert load_settings().group_commit_min_overlap == 50

    monkeypatch.setenv("HEXBANK_GROUP_COMMIT_MIN_OVERLAP", "51")
    with pytest.raises(ConfigurationError, match="HEXBANK_GROUP_COMMIT_MIN_OVERLAP=51: at most"):
        load_settings()


def test_cors_origins_are_comma_separated_and_off_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load_settings().cors_origins == []
    monkeypatch.setenv("HEXBANK_CORS_ORIGINS", "https://app.example.com, http://localhost:5173,")
    assert load_settings().cors_origins == ["https://app.example.com", "http://localhost:5173"]
