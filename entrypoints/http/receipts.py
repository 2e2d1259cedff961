"""What every money write does with its receipt before answering: count it, and say when it
is the replay of an earlier request with the same Idempotency-Key."""

from __future__ import annotations

from fastapi import Response

from application.receipts import TransferReceipt
from entrypoints.observability.metrics import Metrics

REPLAYED = "Idempotent-Replayed"


def note_receipt(
    receipt: TransferReceipt, response: Response, metrics: Metrics, *, created: bool = False
) -> None:
    """`created`: the answer is a 201, whose `Location` names the new transfer."""
    metrics.money_moved(receipt)
    if receipt.replayed:
        response.headers[REPLAYED] = "true"
    if created:
        response.headers["Location"] = f"/api/v1/transfers/{receipt.transfer.id}"
