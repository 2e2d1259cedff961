"""A page stops at its size or its byte budget, whichever comes first, and reads its items in
chunks sized from what the budget has left."""

from __future__ import annotations

import pytest

from application.page_budget import CHUNK, fill_page, json_bytes, mapping_bytes, text_bytes


class Store:
    """Items 0..n-1 of the given sizes; records every read."""

    def __init__(self, sizes: list[int]) -> None:
        self.sizes = sizes
        self.reads: list[int] = []

    async def fetch(self, after: int | None, count: int) -> list[int]:
        self.reads.append(count)
        start = 0 if after is None else after + 1
        return list(range(start, min(start + count, len(self.sizes))))


async def test_a_page_of_small_items_is_its_size_in_one_read() -> None:
    store = Store([100] * 500)
    page = await fill_page(store.fetch, limit=50, max_bytes=10_000, size_of=store.sizes.__getitem__)
    assert (page.items, page.more) == (list(range(50)), True)
    assert store.reads == [51]


async def test_the_last_page_says_there_is_no_more() -> None:
    store = Store([100] * 30)
    page = await fill_page(store.fetch, limit=50, max_bytes=10_000, size_of=store.sizes.__getitem__)
    assert (len(page.items), page.more) == (30, False)


async def test_a_page_of_large_items_stops_at_the_budget_and_reads_little_more() -> None:
    store = Store([10_000] * 500)
    page = await fill_page(
        store.fetch, limit=500, max_bytes=100_000, size_of=store.sizes.__getitem__
    )
    assert (page.items, page.more) == (list(range(10)), True)
    assert store.reads[0] == CHUNK
    assert sum(store.reads) <= CHUNK + 1  # not all 500 of them


async def test_small_items_after_large_ones_are_read_in_chunks_that_fit() -> None:
    store = Store([20_000] * 2 + [100] * 2_000)
    page = await fill_page(
        store.fetch, limit=500, max_bytes=100_000, size_of=store.sizes.__getitem__
    )
    assert (len(page.items), page.more) == (500, True)
    assert sum(store.sizes[:500]) <= 100_000
    assert max(store.reads) <= CHUNK
    assert len(store.reads) <= 500 // CHUNK + 2


async def test_an_item_larger_than_the_budget_still_makes_a_page() -> None:
    store = Store([50_000, 50_000])
    page = await fill_page(store.fetch, limit=10, max_bytes=10_000, size_of=store.sizes.__getitem__)
    assert (page.items, page.more) == ([0], True)
    page = await fill_page(
        lambda after, count: store.fetch(0 if after is None else after, count),
        limit=10,
        max_bytes=10_000,
        size_of=store.sizes.__getitem__,
    )
    assert (page.items, page.more) == ([1], False)


@pytest.mark.parametrize(
    "value",
    ["plain", 'with "quotes" and \\', "ünïcødé ✓ 🏦", {"k": "v", "n": [1, None, True, {}]}],
)
def test_estimates_are_never_below_the_json_text(value: object) -> None:
    import json

    exact = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
    estimate = text_bytes(value) if isinstance(value, str) else json_bytes(value)
    assert exact <= estimate <= 2 * exact + 100


def test_metadata_estimate_covers_its_json() -> None:
    import json

    metadata = {f"key{n}": "é" * 500 for n in range(20)}
    assert len(
        json.dumps(metadata, ensure_ascii=False, separators=(",", ":")).encode()
    ) <= mapping_bytes(metadata)
