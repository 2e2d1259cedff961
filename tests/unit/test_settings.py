"""Settings that contradict each other are refused at start, naming the variable."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from application.use_cases.list_statement_keys import MAX_STATEMENT_KEYS
from entrypoints.settings import ConfigurationError, Settings, load_settings


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


def test_the_statement_signing_key_is_generated_once_and_kept_without_a_shared_database(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path, database_url=None)
    first = settings.resolved_statement_signing_key()
    assert len(first) == 32
    kept = tmp_path / "statement-signing-key.pem"
    assert kept.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert kept.stat().st_mode & 0o777 == 0o600
    assert Settings(data_dir=tmp_path, database_url=None).resolved_statement_signing_key() == first


def test_a_shared_database_without_a_statement_signing_key_is_refused_in_one_line(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path, database_url="postgresql://db/hexbank")
    with pytest.raises(ConfigurationError, match=r"^set HEXBANK_STATEMENT_SIGNING_KEY") as refused:
        settings.resolved_statement_signing_key()
    assert "\n" not in str(refused.value)
    assert not (tmp_path / "statement-signing-key.pem").exists()


def test_the_statement_keys_are_pem_or_base64_and_anything_else_is_refused(
    tmp_path: Path,
) -> None:
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    public_pem = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    for text in (pem, base64.b64encode(raw).decode()):
        settings = Settings(data_dir=tmp_path, statement_signing_key=text)  # type: ignore[arg-type]
        assert settings.resolved_statement_signing_key() == raw
    both = f"{public_pem.decode()}, {base64.b64encode(public).decode()}"
    previous = Settings(data_dir=tmp_path, statement_previous_public_keys=both)
    assert previous.resolved_statement_previous_public_keys() == [public, public]
    bad = Settings(data_dir=tmp_path, statement_signing_key="not-a-key")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"^HEXBANK_STATEMENT_SIGNING_KEY: "):
        bad.resolved_statement_signing_key()
    short = Settings(data_dir=tmp_path, statement_previous_public_keys="AAAA")
    with pytest.raises(ConfigurationError, match=r"^HEXBANK_STATEMENT_PREVIOUS_PUBLIC_KEYS: "):
        short.resolved_statement_previous_public_keys()


def test_an_encrypted_statement_signing_key_is_refused_in_one_line(tmp_path: Path) -> None:
    """The server cannot ask for a passphrase: a key encrypted with one is a setting that
    cannot work (one line, like any other), not a traceback."""
    encrypted = Ed25519PrivateKey.generate().private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(b"passphrase")
    )
    settings = Settings(data_dir=tmp_path, statement_signing_key=encrypted.decode())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"^HEXBANK_STATEMENT_SIGNING_KEY: ") as refused:
        settings.resolved_statement_signing_key()
    assert "\n" not in str(refused.value)


def test_more_previous_statement_keys_than_one_listing_publishes_are_refused_in_one_line(
    tmp_path: Path,
) -> None:
    """GET /api/v1/statement-keys lists at most MAX_STATEMENT_KEYS, the current one
    included: a longer list would fail its answer (a 5xx), so it is refused at start."""
    keys = [
        base64.b64encode(
            Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        ).decode()
        for _ in range(MAX_STATEMENT_KEYS)
    ]
    fits = Settings(data_dir=tmp_path, statement_previous_public_keys=",".join(keys[1:]))
    assert len(fits.resolved_statement_previous_public_keys()) == MAX_STATEMENT_KEYS - 1
    too_many = Settings(data_dir=tmp_path, statement_previous_public_keys=",".join(keys))
    with pytest.raises(
        ConfigurationError, match=r"^HEXBANK_STATEMENT_PREVIOUS_PUBLIC_KEYS: at most 99 keys"
    ) as refused:
        too_many.resolved_statement_previous_public_keys()
    assert "\n" not in str(refused.value)
