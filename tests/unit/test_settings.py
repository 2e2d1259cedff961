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


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "[::1]", "localhost", "127.0.0.2"])
def test_metrics_on_loopback_need_no_token(monkeypatch: pytest.MonkeyPatch, host: str) -> None:
    monkeypatch.setenv("HEXBANK_METRICS_HOST", host)
    monkeypatch.delenv("HEXBANK_METRICS_TOKEN", raising=False)
    assert load_settings().metrics_token is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "metrics.internal"])  # noqa: S104
def test_metrics_others_can_reach_need_a_token(monkeypatch: pytest.MonkeyPatch, host: str) -> None:
    monkeypatch.setenv("HEXBANK_METRICS_HOST", host)
    monkeypatch.delenv("HEXBANK_METRICS_TOKEN", raising=False)
    with pytest.raises(ConfigurationError, match=r"^HEXBANK_METRICS_TOKEN: required when"):
        load_settings()
    monkeypatch.setenv("HEXBANK_METRICS_TOKEN", "short")
    with pytest.raises(ConfigurationError, match=r"^HEXBANK_METRICS_TOKEN: at least 16 bytes"):
        load_settings()
    monkeypatch.setenv("HEXBANK_METRICS_TOKEN", "sixteen-bytes-ok")
    assert load_settings().metrics_token is not None
