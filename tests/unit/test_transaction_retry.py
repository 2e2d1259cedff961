from __future__ import annotations

import pytest

from adapters.tenacity_retry import TenacityTransactionRetry
from application.errors import TransientConflict


async def test_a_transient_conflict_is_retried_until_the_work_succeeds() -> None:
    retry = TenacityTransactionRetry(attempts=4, first_wait=0, max_wait=0)
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise TransientConflict("40001")
        return "done"

    assert await retry.run(flaky) == "done"
    assert (calls, retry.retries) == (3, 2)


async def test_retries_are_bounded_and_the_last_conflict_reaches_the_caller() -> None:
    retry = TenacityTransactionRetry(attempts=3, first_wait=0, max_wait=0)
    calls = 0

    async def always_conflicting() -> None:
        nonlocal calls
        calls += 1
        raise TransientConflict("40P01")

    with pytest.raises(TransientConflict):
        await retry.run(always_conflicting)
    assert calls == 3


async def test_other_errors_are_not_retried() -> None:
    retry = TenacityTransactionRetry(attempts=5, first_wait=0, max_wait=0)
    calls = 0

    async def broken() -> None:
        nonlocal calls
        calls += 1
        raise ValueError("a bug, not a conflict")

    with pytest.raises(ValueError, match="a bug"):
        await retry.run(broken)
    assert calls == 1
