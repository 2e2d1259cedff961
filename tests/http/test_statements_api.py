"""Signed statements over HTTP: JSON and CSV, the signature in the document, in the
`Hexbank-Signature` header and in the CSV's last line; the keys published without
authentication verify them; the account shows its head hash; ranges past the limit or
backwards are refused with their own problems."""

from __future__ import annotations

import base64
from pathlib import Path

from httpx import AsyncClient

from entrypoints.http.dependencies import HEAVY_ROUTES
from entrypoints.statement_documents import CSV_SIGNATURE_PREFIX, read_statement, verify
from tests.conftest import make_settings, serving
from tests.http.helpers import opened, signed_up


async def published_keys(client: AsyncClient) -> list[bytes]:
    answer = await client.get("/api/v1/statement-keys")  # no Authorization
    assert answer.status_code == 200, answer.text
    keys = answer.json()["keys"]
    assert [key["current"] for key in keys] == [True]
    assert keys[0]["algorithm"] == "Ed25519"
    assert keys[0]["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")
    return [base64.b64decode(key["public_key"]) for key in keys]


async def test_a_statement_exports_as_json_and_csv_and_verifies_with_the_published_keys(
    client: AsyncClient,
) -> None:
    ada, bob = await signed_up(client), await signed_up(client, "bob@example.com")
    mine, bobs = await opened(client, ada, funds=1_000), await opened(client, bob)
    paid = await client.post(
        "/api/v1/transfers",
        json={"from_account_id": mine, "to_account_id": bobs, "amount": 300, "currency": "EUR"},
        headers=ada,
    )
    assert paid.status_code == 201, paid.text
    account = (await client.get(f"/api/v1/accounts/{mine}", headers=ada)).json()
    assert account["sequence"] == 2
    keys = await published_keys(client)

    as_json = await client.get(f"/api/v1/accounts/{mine}/statement", headers=ada)
    assert as_json.status_code == 200, as_json.text
    assert as_json.headers["content-type"] == "application/json"
    document = as_json.json()
    assert [entry["amount"] for entry in document["entries"]] == [1_000, -300]
    assert document["opening"] == {"balance": 0, "sequence": 0, "hash": "0" * 64}
    assert document["closing"] == {"balance": 700, "sequence": 2, "hash": account["head_hash"]}
    signature = as_json.headers["Hexbank-Signature"]
    assert signature == f'key_id="{document["key_id"]}", signature="{document["signature"]}"'
    assert verify(read_statement(as_json.content), keys).ok

    as_csv = await client.get(
        f"/api/v1/accounts/{mine}/statement", params={"format": "csv"}, headers=ada
    )
    assert as_csv.status_code == 200, as_csv.text
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    last = as_csv.text.rstrip("\n").rsplit("\n", 1)[1]
    assert last == CSV_SIGNATURE_PREFIX + as_csv.headers["Hexbank-Signature"]
    verdict = verify(read_statement(as_csv.content), keys)
    assert verdict.ok, verdict.line

    balance = await client.get(
        f"/api/v1/accounts/{mine}/balance",
        params={"at": document["entries"][0]["created_at"]},
        headers=ada,
    )
    assert balance.json()["entry_hash"] == document["entries"][0]["entry_hash"]


async def test_a_stranger_gets_404_and_bad_ranges_get_their_own_problems(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, statement_max_entries=2)
    async with serving(settings, database_url) as client:
        ada, bob = await signed_up(client), await signed_up(client, "bob@example.com")
        mine = await opened(client, ada, funds=10)
        path = f"/api/v1/accounts/{mine}/statement"
        assert (await client.get(path, headers=bob)).status_code == 404
        assert (await client.get(path)).status_code == 401
        assert (await client.get(path, headers=ada)).status_code == 200
        for amount in (20, 30):
            deposit = await client.post(
                f"/api/v1/accounts/{mine}/deposits", json={"amount": amount}, headers=ada
            )
            assert deposit.status_code == 201
        too_many = await client.get(path, headers=ada)
        assert too_many.status_code == 422
        assert too_many.json()["type"].endswith("/statement-too-large")
        backwards = await client.get(
            path,
            params={"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
            headers=ada,
        )
        assert backwards.status_code == 422
        assert backwards.json()["type"].endswith("/invalid-statement-range")
        unknown = await client.get(path, params={"format": "pdf"}, headers=ada)
        assert unknown.status_code == 422


async def test_a_statement_export_takes_its_turn_like_the_other_heavy_reads(
    client: AsyncClient,
) -> None:
    """One export reads, renders and signs up to HEXBANK_STATEMENT_MAX_ENTRIES entries: while
    others are active, one user's exports take turns (HEXBANK_MAX_RUNNING_PER_USER), as
    lists and reports do. Every heavy route named is one the app serves."""
    paths = (await client.get("/openapi.json")).json()["paths"]
    served = {(method.upper(), path) for path, operations in paths.items() for method in operations}
    assert not HEAVY_ROUTES - served
    assert ("GET", "/api/v1/accounts/{account_id}/statement") in HEAVY_ROUTES
