"""The batch route checks its items as plain dicts and writes its answer from plain dicts; the
models (`TransferIn`, `BatchOut`, `AtomicBatchOut`) stay what the OpenAPI document states and
the single routes use. These tests hold the fast path to the models: the same refused fields
for any item, the same requests for a valid one, the same bytes for any answer."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.responses import JSONResponse
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError
from pydantic_core import to_json

from application.receipts import ItemResult
from application.transfer_requests import TransferRequest
from application.turns import ITEMS_PER_TURN
from domain.errors import AccountNotFound, DomainError, InsufficientFunds, SameAccountTransfer
from domain.transfer import Transfer, TransferKind, TransferStatus
from entrypoints.http.problems import refusal_details
from entrypoints.http.routers.transfers import (
    _request,
    _requests,
    atomic_batch_answer,
    batch_answer,
)
from entrypoints.http.schemas import (
    AtomicBatchOut,
    BatchIn,
    BatchItemOut,
    ProblemOut,
    TransferIn,
    TransferOut,
)

SOURCE = "0b8a3c9e-2c1e-4a53-9d2b-6a9c5b6c7d01"
DESTINATION = "1b8a3c9e-2c1e-4a53-9d2b-6a9c5b6c7d02"
GOOD: dict[str, Any] = {
    "from_account_id": SOURCE,
    "to_account_id": DESTINATION,
    "amount": 5,
    "currency": "EUR",
}
METADATA: list[Any] = [
    {"k": "v"},
    [],
    {"bad key": "v"},
    {"k": 5},
    {"k": "\ud800"},
    {"k": "a\x01"},
    {f"k{i}": "v" for i in range(60)},
    None,
    {"k": None},
    {"": "v"},
]
HOSTILE_ITEMS: list[Any] = [
    GOOD,
    *["x", 5, None, [], True, 1.5, {}, [GOOD]],
    *({**GOOD, "amount": amount} for amount in ("5", 0, -1, 2**63, 2**63 - 1, 5.0, True, None)),
    *({**GOOD, "currency": currency} for currency in ("eur", "XXX", "EURO", 5, None)),
    {**GOOD, "from_account_id": "nope"},
    {**GOOD, "from_account_id": 5},
    {**GOOD, "to_account_id": "0B8A3C9E2C1E4A539D2B6A9C5B6C7D01"},
    {**GOOD, "from_account_id": "{0b8a3c9e-2c1e-4a53-9d2b-6a9c5b6c7d01}"},
    *(
        {**GOOD, "description": text}
        for text in ("a\x00b", "\ud800", "x" * 1000, None, 5, "line\nbreak", "rent")
    ),
    *({**GOOD, "pending": pending} for pending in ("true", 1, None, True, False)),
    *({**GOOD, "timeout_seconds": t} for t in (0, 1, 10**9, "5", None)),
    {**GOOD, "pending": True, "timeout_seconds": 60},
    *({**GOOD, "reference": reference} for reference in ("", "a b", "x" * 500, None, "inv-1")),
    *({**GOOD, "metadata": metadata} for metadata in METADATA),
    {**GOOD, "extra": 1},
    {**GOOD, "extra": 1, "amount": -1},
    {"extra": 1},
    {"amount": "x", "from_account_id": 3},
]

_MODELS = TypeAdapter(list[TransferIn])


def _outcome_as_models(items: list[Any]) -> tuple[list[Any], list[TransferRequest]]:
    """What the route gave when it built a `TransferIn` per item (FastAPI validates with
    `from_attributes`)."""
    try:
        models = _MODELS.validate_python(items, from_attributes=True)
    except ValidationError as error:
        return [(e["type"], ("transfers", *e["loc"]), e["msg"]) for e in error.errors()], []
    return [], [_request(model) for model in models]


async def _outcome_as_dicts(items: list[Any]) -> tuple[list[Any], list[TransferRequest]]:
    try:
        body = BatchIn.model_validate({"transfers": items}, from_attributes=True)
    except ValidationError as error:
        return [(e["type"], e["loc"], e["msg"]) for e in error.errors()], []
    return [], await _requests(body.transfers)


@pytest.mark.parametrize("item", HOSTILE_ITEMS, ids=repr)
async def test_an_item_is_refused_or_taken_exactly_as_its_model_would_be(item: Any) -> None:
    assert await _outcome_as_dicts([item]) == _outcome_as_models([item])


async def test_a_batch_of_many_items_reports_each_refused_field_in_order() -> None:
    items = HOSTILE_ITEMS * 3  # past ITEMS_PER_TURN: the requests are built in chunks
    assert len(items) > ITEMS_PER_TURN
    refused, _ = await _outcome_as_dicts(items)
    assert refused == _outcome_as_models(items)[0]
    assert len(refused) > 100
    valid = [item for item in HOSTILE_ITEMS if not _outcome_as_models([item])[0]] * 10
    assert len(valid) > ITEMS_PER_TURN
    assert await _outcome_as_dicts(valid) == _outcome_as_models(valid)


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=False),
    st.sampled_from(["EUR", "eur", SOURCE, DESTINATION, "", "a b", "inv-1", "\x00", "\ud800"]),
    st.text(max_size=5),
)
_FIELDS = st.sampled_from([*TransferIn.model_fields, "extra"])
_ITEMS = st.one_of(
    _SCALARS,
    st.dictionaries(
        _FIELDS,
        st.one_of(_SCALARS, st.dictionaries(st.text(max_size=3), _SCALARS, max_size=3)),
    ).map(lambda fields: {**GOOD, **fields}),
    st.dictionaries(_FIELDS, _SCALARS, max_size=4),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_ITEMS, min_size=1, max_size=4))
async def test_any_items_meet_the_same_outcome_as_models(items: list[Any]) -> None:
    assert await _outcome_as_dicts(items) == _outcome_as_models(items)


def test_the_document_names_the_items_transfer_in() -> None:
    """The body's schema is the one the models gave: items by reference to `TransferIn`."""
    schema = BatchIn.model_json_schema()
    assert schema["properties"]["transfers"]["items"] == {"$ref": "#/$defs/TransferIn"}
    assert list(schema["$defs"]) == ["TransferIn"]
    assert schema["$defs"]["TransferIn"] == TransferIn.model_json_schema()


NOW = datetime(2026, 12, 5, 1, 2, 3, 456789, tzinfo=UTC)


def _mixed_results(count: int) -> list[ItemResult]:
    """Transfers, holds (with and without expiry), a reversal, and refusals of every status."""
    refusals: list[DomainError] = [
        InsufficientFunds("Insufficient funds: 5 available."),
        AccountNotFound(f"Account {SOURCE} not found."),
        SameAccountTransfer("A transfer needs two different accounts."),
    ]
    results: list[ItemResult] = []
    for n in range(count):
        if n % 5 == 4:
            results.append(ItemResult(refusal=refusals[n % 3]))
            continue
        pending = n % 5 == 1
        results.append(
            ItemResult(
                transfer=Transfer(
                    id=UUID(int=n + 1),
                    from_account_id=UUID(SOURCE),
                    to_account_id=UUID(DESTINATION),
                    amount=n + 1,
                    currency="EUR",
                    description=None if n % 3 else f"rent é ✓ {n}",
                    created_at=NOW if n % 2 else NOW.replace(microsecond=0),
                    kind=TransferKind.REVERSAL if n % 5 == 3 else TransferKind.TRANSFER,
                    status=TransferStatus.PENDING if pending else TransferStatus.POSTED,
                    expires_at=NOW + timedelta(hours=1) if pending and n % 2 else None,
                    posted_amount=None if pending else n + 1,
                    reversal_of=UUID(int=10**6 + n) if n % 5 == 3 else None,
                    reference=f"ref-{n}" if n % 4 == 0 else None,
                    metadata={"order_id": f"A-{n}", "note": 'say "hi" \\ /'} if n % 4 else {},
                )
            )
        )
    return results


def _batch_as_models(results: list[ItemResult]) -> bytes:
    items: list[dict[str, object]] = []
    for index, result in enumerate(results):
        if result.transfer is not None:
            transfer = TransferOut.of(result.transfer)
            item = BatchItemOut(index=index, status=201, transfer=transfer)
            items.append(item.model_dump(mode="json"))
        elif result.refusal is not None:
            status, problem = refusal_details(result.refusal)
            item = BatchItemOut(index=index, status=status, problem=ProblemOut(**problem))
            written = item.model_dump(mode="json")
            # A problem leaves out the members it does not have, as every problem answer does.
            written["problem"] = ProblemOut(**problem).model_dump(mode="json", exclude_none=True)
            items.append(written)
    # As FastAPI wrote the route's `response_model`, item by item.
    return to_json({"results": items})


def _atomic_as_models(results: list[ItemResult]) -> bytes:
    made = [TransferOut.of(result.transfer) for result in results if result.transfer]
    return bytes(JSONResponse(AtomicBatchOut(transfers=made).model_dump(mode="json")).body)


@pytest.mark.parametrize("count", [1, 4, 5, ITEMS_PER_TURN, ITEMS_PER_TURN + 1, 1000])
async def test_the_answer_is_byte_for_byte_what_the_models_wrote(count: int) -> None:
    results = _mixed_results(count)
    written = await batch_answer(results)
    assert written == _batch_as_models(results)
    assert await atomic_batch_answer(results) == _atomic_as_models(results)
    answer = json.loads(written)
    assert [item["status"] for item in answer["results"]][:5] == [201, 201, 201, 201, 404][:count]


async def test_an_answer_with_no_transfer_is_still_the_models() -> None:
    refused = [ItemResult(refusal=InsufficientFunds("Insufficient funds."))] * (ITEMS_PER_TURN + 1)
    assert await batch_answer(refused) == _batch_as_models(refused)
    assert await atomic_batch_answer(refused) == _atomic_as_models(refused) == b'{"transfers":[]}'
