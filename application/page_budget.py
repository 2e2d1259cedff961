"""A page's byte budget. A page size bounds how many items a list answers, not how large they
are: an account or a transfer carries up to 20 metadata values of 500 characters, so 100 of
them are over a megabyte. A page therefore also stops, early and still with a cursor, once its
items' estimated JSON reaches a budget; and the items are read in chunks sized from what the
budget has left (at most `CHUNK` items), so a request holds little more than its page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")

CHUNK = 64
"""Items read by one query of a page, at most: what one request holds beyond its page is
bounded by the items' largest size times this, however its first items looked."""

_SCALAR_BYTES = 24
"""A JSON number, boolean, null, UUID or timestamp, with its quotes, and a separator."""


def text_bytes(text: str | None) -> int:
    """The bytes a string takes in UTF-8 JSON, with its quotes; quotes and backslashes inside
    are escaped (control characters, which JSON escapes longer, are refused on input)."""
    if text is None:
        return _SCALAR_BYTES
    return len(text.encode()) + text.count('"') + text.count("\\") + 3


def mapping_bytes(values: Mapping[str, str]) -> int:
    """A string-to-string object such as metadata."""
    return 2 + sum(text_bytes(key) + text_bytes(value) for key, value in values.items())


def json_bytes(value: Any) -> int:
    """Any JSON document already decoded (an event's data): strings counted, the rest
    estimated per value."""
    if isinstance(value, str):
        return text_bytes(value)
    if isinstance(value, Mapping):
        return 2 + sum(text_bytes(str(key)) + json_bytes(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return 2 + sum(json_bytes(item) for item in value)
    return _SCALAR_BYTES


@dataclass(frozen=True, slots=True)
class Filled(Generic[T]):
    items: list[T]
    more: bool
    """Items remain after the last one: the page was cut at its size or its budget."""


async def fill_page(
    fetch: Callable[[T | None, int], Awaitable[list[T]]],
    *,
    limit: int,
    max_bytes: int,
    size_of: Callable[[T], int],
) -> Filled[T]:
    """Up to `limit` items whose sizes add up to at most `max_bytes` (the first item always
    counts, so a page never stalls). `fetch(after, count)` reads up to `count` items after
    the item `after` (None: from the start), in the list's order."""
    taken: list[T] = []
    used = 0
    want = min(limit + 1, CHUNK)
    while True:
        chunk = await fetch(taken[-1] if taken else None, want)
        chunk_bytes = 0
        for item in chunk:
            size = size_of(item)
            if len(taken) == limit or (taken and used + size > max_bytes):
                return Filled(taken, more=True)
            taken.append(item)
            used += size
            chunk_bytes += size
        if len(chunk) < want:
            return Filled(taken, more=False)
        # Read what the budget has room for, judged by the items just read, and one more to
        # learn whether the page is cut.
        room = (max_bytes - used) * len(chunk) // max(chunk_bytes, 1) + 1
        want = max(1, min(limit + 1 - len(taken), room, CHUNK))
